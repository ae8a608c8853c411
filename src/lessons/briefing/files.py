"""Writing a briefing to a file: all or nothing, with the permissions the umask gives."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from lessons.errors import LessonsError

__all__ = ["OutputError", "write_output"]


class OutputError(LessonsError):
    """The briefing cannot be written where asked."""


def write_output(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename); an existing regular file is replaced.

    The file is created with mode 0666 minus the umask, like any file a user's program writes.
    Raises :class:`OutputError` when the folder is missing or the target is not a regular file.
    """
    if path.exists() and not path.is_file():
        raise OutputError(f"{path} exists and is not a regular file; choose another output file")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"the folder {folder} does not exist")
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
