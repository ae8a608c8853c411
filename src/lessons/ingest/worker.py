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

from lessons.errors import IngestError, LessonsError, UploadError
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
    name = Path(str(request.get("name") or "report")).name
    refusal: UploadError | str
    try:
        fmt = str(request["format"])
        data = base64.b64decode(str(request["data"]), validate=True)
        pages = extract_pages(data, fmt, int(request.get("max_pages", 1000)), name)
        report = str(request.get("report") or report_title(pages, Path(name).stem))
        candidates = parse_report(pages, report, markdown=fmt == "markdown")
    except UploadError as exc:
        refusal = exc
    except LessonsError as exc:
        refusal = str(exc)
    except MemoryError:
        refusal = (
            UploadError("out_of_memory", name, memory=memory_mb)
            if memory_mb
            else "parsing needed more memory than allowed; the file is too large or malformed"
        )
    except RecursionError:
        refusal = UploadError("too_deep", name)
    except Exception as exc:  # a parser bug or a malformed file: report it, never hang or crash silently
        refusal = UploadError("parse_failed", name, detail=f"{type(exc).__name__}: {exc}")
    else:
        return {"ok": True, "report": report, "pages": len(pages), "candidates": [c.to_json() for c in candidates]}
    if isinstance(refusal, str):
        return {"ok": False, "message": refusal}
    return {"ok": False, "message": str(refusal), "code": refusal.code, "values": refusal.values}


def _answered_refusal(answer: dict[str, Any], name: str) -> IngestError:
    """The error a refusing answer stands for: an :class:`UploadError` when it carries a known code and plain values
    (the worker parses hostile files, so what it sends back is checked), else its message."""
    code, values = answer.get("code"), answer.get("values")
    if (
        isinstance(code, str)
        and UploadError.known(code)
        and isinstance(values, dict)
        and all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values.values())
    ):
        try:
            return UploadError(code, name, **{str(k): v for k, v in values.items()})
        except (KeyError, IndexError, TypeError, ValueError):  # values that do not fill the code's words
            pass
    return UploadError("read_failed", name, detail=str(answer.get("message", "no message")))


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
        raise UploadError("read_too_slow", Path(name).name, seconds=float(limits.seconds)) from None
    try:
        answer = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        answer = None
    if not isinstance(answer, dict):
        if done.returncode < 0 or b"MemoryError" in done.stderr:
            raise UploadError("read_stopped", Path(name).name, memory=limits.memory_mb, seconds=float(limits.seconds))
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise UploadError("read_failed", Path(name).name, detail=tail[0])
    if not answer.get("ok"):
        raise _answered_refusal(answer, Path(name).name)
    return answer


if __name__ == "__main__":
    sys.exit(main())
