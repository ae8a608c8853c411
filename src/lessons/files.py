"""Reading and writing our files safely: regular files only, size checked first, modes from the umask.

* :func:`read_regular_file` opens without following a final symbolic link and without
  blocking (a FIFO cannot hang us), checks on the open descriptor that it is a regular
  file and not larger than allowed, and only then reads, never more than the limit.
* :func:`atomic_write` writes through a temporary file in the same folder (fsync, rename),
  with the mode the umask implies, as an editor would: ``mkstemp`` alone makes files
  ``0600``, which an app running as another user cannot read.
* :func:`storage_error` turns an :class:`OSError` into a :class:`~lessons.errors.StorageError`
  that names the path and what to do about it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
import threading
from pathlib import Path

from lessons.errors import StorageError, UnsafeFileError

__all__ = [
    "atomic_write",
    "dir_mode",
    "file_kind",
    "file_mode",
    "fsync",
    "fsync_dir",
    "read_regular_file",
    "sha256_file",
    "stat_stamp",
    "storage_error",
    "umask",
]

_UMASK_LOCK = threading.Lock()


def umask() -> int:
    """The process's umask, read without changing it where the OS allows (Linux: /proc/self/status)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:  # elsewhere: set and restore, under a lock so our own threads do not race
        current = os.umask(0o022)
        os.umask(current)
    return current


def file_mode() -> int:
    """The mode a new file gets from the umask (0o644 under umask 022)."""
    return 0o666 & ~umask()


def dir_mode() -> int:
    """The mode a new folder gets from the umask (0o755 under umask 022)."""
    return 0o777 & ~umask()


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


_KIND_CODES = dict(zip(("folder", "link", "fifo", "char", "block", "socket"), _KINDS, strict=True))


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def file_kind_code(mode: int) -> str:
    """What a non-regular file is, as the code of its words ``not_regular_<code>`` in :mod:`lessons.words`."""
    return next((code for code, (test, _name) in _KIND_CODES.items() if test(mode)), "other")


def _refused_kind(mode: int) -> str:
    """The :class:`UnsafeFileError` code of a file that is not regular."""
    if stat.S_ISDIR(mode):
        return "not_regular_folder"
    if stat.S_ISLNK(mode):
        return "not_regular_link"
    kinds = ((stat.S_ISFIFO, "fifo"), (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block"), (stat.S_ISSOCK, "socket"))
    return "not_regular_" + next((kind for test, kind in kinds if test(mode)), "other")


def storage_error(
    exc: OSError,
    path: Path | str,
    doing: str,
    after: str = "",
    *,
    exact: bool = False,
    error: type[StorageError] = StorageError,
) -> StorageError:
    """A domain error for an OS error while ``doing`` ``path``: what happened and the fix, in either language.

    ``doing`` and ``after`` are codes with words in :mod:`lessons.words` (``storage_doing_<doing>``:
    read, write, list, lock, write_index, save_drafts; ``storage_after_<after>``: unchanged, index_kept,
    unsaved). The path named is the one the OS names (the file inside ``path`` that failed), unless
    ``exact`` (the OS would name our temporary file). ``error``: the class raised (a subclass of StorageError).
    """
    where = str(path) if exact or not exc.filename else str(exc.filename)
    return error(where, doing, _REASONS.get(exc.errno or 0, "other"), after, detail=str(exc.strerror or exc))


def os_reason(exc: OSError) -> str | None:
    """The reason of an OS error as a code with words ``storage_<code>`` in :mod:`lessons.words` (disk_full,
    denied, read_only, is_folder, not_folder, exists, missing, link, too_many_open); None for another."""
    return _REASONS.get(exc.errno or 0)


_REASONS = {  # an OS error number -> the storage_<reason> words that say it and what to do
    errno.ENOSPC: "disk_full",
    getattr(errno, "EDQUOT", errno.ENOSPC): "disk_full",
    errno.EACCES: "denied",
    errno.EPERM: "denied",
    errno.EROFS: "read_only",
    errno.EISDIR: "is_folder",
    errno.ENOTDIR: "not_folder",
    errno.EEXIST: "exists",
    errno.ENOENT: "missing",
    errno.ELOOP: "link",
    errno.EMFILE: "too_many_open",
    errno.ENFILE: "too_many_open",
}


def read_regular_file(
    path: Path, *, max_bytes: int, inside: Path | None = None, follow_symlinks: bool = False
) -> bytes:
    """The bytes of a regular file, refusing links, FIFOs, devices, folders and files over ``max_bytes``.

    ``inside``: the file must resolve to a path inside this folder. ``follow_symlinks``
    (for a file a user names on the command line) follows a link, but the target must
    still be a regular file within the size limit. Raises :class:`UnsafeFileError`
    (what the file is, in words) or :class:`StorageError` (an OS error).
    """
    shown = str(path)
    if inside is not None:
        try:
            resolved = path.resolve()
            base = inside.resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on older Pythons
            raise UnsafeFileError(shown, "unresolvable", detail=str(exc)) from None
        if not resolved.is_relative_to(base):
            raise UnsafeFileError(shown, "outside", inside=str(inside))
    fd = _open_no_follow(path, follow_symlinks)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(shown, _refused_kind(info.st_mode))
        if info.st_size > max_bytes:
            raise UnsafeFileError(shown, "file_too_large", size=info.st_size, limit=max_bytes)
        chunks: list[bytes] = []
        total = 0
        while True:
            block = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
            if total > max_bytes:  # it grew while we read
                raise UnsafeFileError(shown, "grew", size=total, limit=max_bytes)
        return b"".join(chunks)
    except OSError as exc:
        raise storage_error(exc, path, "read") from None
    finally:
        os.close(fd)


def _open_no_follow(path: Path, follow_symlinks: bool) -> int:
    """Open for reading without blocking (a FIFO) and, unless asked, without following a final link."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFileError(str(path), "not_regular_link") from None
        if exc.errno == errno.ENXIO:
            raise UnsafeFileError(str(path), "not_regular_other") from None
        raise storage_error(exc, path, "read") from None


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks of 1 MiB (model and index files run to hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stat_stamp(path: Path) -> tuple[int, int, int, int, int]:
    """A file's identity as the OS keeps it: size, mtime, ctime (ns), inode and device (links followed).

    Any write, ``touch`` or replacement changes it: ``os.utime`` can set the mtime back, but the ctime is
    always the kernel's clock at the change, and a copy or a re-made file has another inode (or device).
    """
    info = path.stat()
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk; raises OSError where it cannot be opened."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk; a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        fsync(path)


def atomic_write(path: Path, data: bytes, *, replacing: Path | None = None) -> None:
    """Write ``data`` to ``path`` all-or-nothing, with the umask's mode; raise StorageError on an OS error.

    ``replacing``: another file that ``path`` takes the place of (an entry moving to
    another folder). It is renamed onto ``path`` first, then the new content replaces
    it, so a crash at any moment leaves exactly one of the two files, old or new content.
    """
    tmp: str | None = None
    moved = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:60]}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), file_mode())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replacing is not None and replacing != path:
            os.rename(replacing, path)
            moved = True
            fsync_dir(replacing.parent)
        os.replace(tmp, path)
        tmp = None
        fsync_dir(path.parent)
    except OSError as exc:
        if moved and replacing is not None:  # put the old file back where it was
            with contextlib.suppress(OSError):
                os.rename(path, replacing)
        raise storage_error(exc, path, "write", "unchanged", exact=True) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
