"""Checking an upload from its first bytes (not its name), and the limits on an upload and its parsing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lessons.errors import UploadError

__all__ = ["MB", "SUPPORTED", "IngestLimits", "check_upload", "sniff"]

MB = 1024 * 1024
SUPPORTED = {".pdf": "pdf", ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown"}


@dataclass(frozen=True)
class IngestLimits:
    """Bounds on an upload and its parsing."""

    max_bytes: int = 25 * MB
    seconds: float = 60.0
    memory_mb: int = 1024
    max_pages: int = 1000


# Magic numbers of things that are not reports, with what they are (the words' file_kind vocabulary).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "elf"),
    (b"MZ", "windows_exe"),
    (b"\xcf\xfa\xed\xfe", "macos_exe"),
    (b"\xce\xfa\xed\xfe", "macos_exe"),
    (b"\xca\xfe\xba\xbe", "macos_or_java"),
    (b"#!", "script"),
    (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0", "old_office"),
    (b"{\\rtf", "rtf"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf", "7z"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"%!PS", "postscript"),
)
SAMPLE_BYTES = 64 * 1024  # how much of a text upload is checked for NUL bytes and UTF-8 before parsing


def _undecodable_at(sample: bytes) -> int | None:
    """Where ``sample`` stops being UTF-8 (None when it is; a character cut by the sample's end is fine)."""
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:
            return exc.start
    return None


def sniff(data: bytes) -> str:
    """What the first bytes say the data is: 'pdf', 'text', 'undecodable' (neither PDF nor UTF-8 text), or a
    kind that is no report ('elf', 'zip', 'binary', …: the words' ``file_kind`` vocabulary)."""
    if data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n\f\x00").startswith(b"%PDF-"):
        return "pdf"
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    sample = data[:SAMPLE_BYTES]
    if b"\x00" in sample:
        return "binary"
    return "text" if _undecodable_at(sample) is None else "undecodable"


def check_upload(data: bytes, name: str, limits: IngestLimits | None = None) -> str:
    """Check an upload before parsing; return its format ('pdf', 'text' or 'markdown').

    Refuses empty and oversized files, unsupported names, and files whose first bytes say they are
    something other than their name claims, each with an :class:`UploadError` naming the file and
    what is wrong (size and limit, what the name says and what the bytes are).
    """
    limits = limits or IngestLimits()
    shown = Path(name).name or "?"
    if not data:
        raise UploadError("empty", shown)
    if len(data) > limits.max_bytes:
        raise UploadError("too_large", shown, size=len(data), limit=limits.max_bytes)
    suffix = Path(name).suffix.lower()
    claimed = SUPPORTED.get(suffix)
    if claimed is None:
        raise UploadError("unsupported", shown, suffix=suffix, types=", ".join(SUPPORTED))
    actual = sniff(data)
    if actual == "undecodable":
        raise UploadError("undecodable", shown, offset=_undecodable_at(data[:SAMPLE_BYTES]) or 0)
    if actual not in ("pdf", "text"):
        raise UploadError("not_a_report", shown, expected=claimed, found=actual)
    if claimed == "pdf" and actual != "pdf":
        raise UploadError("renamed", shown, expected="pdf", found="plain_text", suffix=".txt")
    if claimed != "pdf" and actual == "pdf":
        raise UploadError("renamed", shown, expected=claimed, found="pdf", suffix=".pdf")
    if claimed != "pdf" and not data.strip():
        raise UploadError("blank", shown)
    return claimed
