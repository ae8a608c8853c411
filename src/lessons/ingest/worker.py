"""The ingest parser as a separate, limited process: ``python -m lessons.ingest.worker``.

Reads one JSON request on stdin (``format``, ``name``, ``report``, ``max_pages``
and the file as base64 ``data``), limits its own memory and CPU time first, then
extracts and parses the report and writes one JSON answer on stdout:
``{"ok": true, "report", "pages", "candidates"}`` or ``{"ok": false, "message"}``.
JSON both ways: nothing from the upload is ever unpickled.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from lessons.errors import IngestError, LessonsError
from lessons.ingest.extract import extract_pages
from lessons.ingest.parsing import parse_report, report_title
from lessons.ingest.upload import MB, IngestLimits

__all__ = ["handle", "main", "parse_in_subprocess"]


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process's address space and CPU time (the kernel enforces them)."""
    for which, value in ((resource.RLIMIT_AS, memory_mb * MB), (resource.RLIMIT_CPU, cpu_seconds)):
        _soft, hard = resource.getrlimit(which)
        cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (cap, hard))


def handle(request: dict[str, Any], memory_mb: int | None = None) -> dict[str, Any]:
    """Extract and parse one report; domain errors become ``{"ok": false, "message": ...}``.

    ``memory_mb`` is the limit this process runs under, named when parsing runs out of memory.
    """
    try:
        fmt = str(request["format"])
        data = base64.b64decode(str(request["data"]), validate=True)
        pages = extract_pages(data, fmt, int(request.get("max_pages", 1000)))
        fallback = Path(str(request.get("name") or "report")).stem
        report = str(request.get("report") or report_title(pages, fallback))
        candidates = parse_report(pages, report, markdown=fmt == "markdown")
    except LessonsError as exc:
        return {"ok": False, "message": str(exc)}
    except MemoryError:
        limit = f"more than {memory_mb} MB of memory" if memory_mb else "more memory than allowed"
        return {"ok": False, "message": f"parsing needed {limit}; the file is too large or malformed"}
    except RecursionError:
        return {"ok": False, "message": "the file is nested too deeply to parse; it may be malformed"}
    except Exception as exc:  # a parser bug or a malformed file: report it, never hang or crash silently
        return {"ok": False, "message": f"the file cannot be parsed ({type(exc).__name__}: {exc})"}
    return {
        "ok": True,
        "report": report,
        "pages": len(pages),
        "candidates": [c.to_json() for c in candidates],
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point: limits, one request in, one answer out."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--cpu-seconds", type=int, default=60)
    args = parser.parse_args(argv)
    _limit(args.memory_mb, args.cpu_seconds)
    try:
        request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
        if not isinstance(request, dict):
            raise ValueError("the request is not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        answer: dict[str, Any] = {"ok": False, "message": f"bad request to the ingest worker: {exc}"}
    else:
        answer = handle(request, args.memory_mb)
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    sys.stdout.flush()
    return 0


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    return env


def parse_in_subprocess(
    data: bytes, fmt: str, name: str, report: str | None, limits: IngestLimits, *, seconds: float | None = None
) -> dict[str, Any]:
    """Run this worker on the bytes with a time and memory limit; return its JSON answer.

    ``seconds``: the time left of the whole ingest (default: ``limits.seconds``).
    """
    seconds = limits.seconds if seconds is None else min(seconds, limits.seconds)
    request = {
        "format": fmt,
        "name": name,
        "report": report,
        "max_pages": limits.max_pages,
        "data": base64.b64encode(data).decode("ascii"),
    }
    command = [
        sys.executable,
        "-m",
        "lessons.ingest.worker",
        "--memory-mb",
        str(limits.memory_mb),
        "--cpu-seconds",
        str(int(seconds) + 1),
    ]
    try:
        done = subprocess.run(
            command,
            input=json.dumps(request).encode("utf-8"),
            capture_output=True,
            timeout=seconds,
            env=_worker_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise IngestError(
            f"reading {Path(name).name} took longer than {limits.seconds:g} s and was stopped; "
            "the file may be damaged or unusually complex"
        ) from None
    try:
        answer = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        answer = None
    if not isinstance(answer, dict):
        if done.returncode < 0 or b"MemoryError" in done.stderr:
            raise IngestError(
                f"reading {Path(name).name} was stopped: it needed more than {limits.memory_mb} MB of memory "
                f"or {limits.seconds:g} s of CPU"
            )
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise IngestError(f"reading {Path(name).name} failed ({tail[0]})")
    if not answer.get("ok"):
        raise IngestError(f"{Path(name).name}: {answer.get('message', 'cannot be read')}")
    return answer


if __name__ == "__main__":
    sys.exit(main())
