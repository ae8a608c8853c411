"""The ingest parser as a separate process: ``python -m lessons.ingest_worker``.

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
import resource
import sys
from pathlib import Path
from typing import Any

MB = 1024 * 1024


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process's address space and CPU time (the kernel enforces them)."""
    for which, value in ((resource.RLIMIT_AS, memory_mb * MB), (resource.RLIMIT_CPU, cpu_seconds)):
        _soft, hard = resource.getrlimit(which)
        cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (cap, hard))


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """Extract and parse one report; domain errors become ``{"ok": false, "message": ...}``."""
    from lessons.errors import LessonsError
    from lessons.ingest import extract_pages, parse_report, report_title

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
        return {"ok": False, "message": "parsing ran out of memory; the file is too large or malformed"}
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
        answer = handle(request)
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
