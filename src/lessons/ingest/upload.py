"""Checking an upload from its first bytes (not its name), and the limits on an upload and its parsing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lessons.errors import IngestError

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


# Magic numbers of things that are not reports, with what to call them.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "a Linux executable (ELF)"),
    (b"MZ", "a Windows executable"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable"),
    (b"\xce\xfa\xed\xfe", "a macOS executable"),
    (b"\xca\xfe\xba\xbe", "a macOS executable or Java class"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a ZIP archive (a Word, Excel or PowerPoint file is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%!PS", "a PostScript file"),
)


def sniff(data: bytes) -> str:
    """What the bytes are: 'pdf' or 'text'; raise IngestError naming anything else."""
    if data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n\f\x00").startswith(b"%PDF-"):
        return "pdf"
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            raise IngestError(f"the file is {what}, not a report; upload a PDF, .txt or .md file")
    sample = data[: 64 * 1024]
    if b"\x00" in sample:
        raise IngestError("the file is binary (it contains NUL bytes), not a PDF or text report")
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # a multi-byte character cut by the sample's end is fine
            raise IngestError(
                f"the file is neither a PDF nor UTF-8 text (undecodable byte at {exc.start}); "
                "save the report as PDF or as UTF-8 text"
            ) from None
    return "text"


def check_upload(data: bytes, name: str, limits: IngestLimits | None = None) -> str:
    """Check an upload before parsing; return its format ('pdf', 'text' or 'markdown').

    Refuses empty and oversized files, unsupported names, and files whose first
    bytes say they are something other than their name claims.
    """
    limits = limits or IngestLimits()
    shown = Path(name).name or "the upload"
    if not data:
        raise IngestError(f"{shown} is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise IngestError(f"{shown} is {len(data) / MB:.1f} MB; the limit is {limits.max_bytes / MB:.0f} MB")
    suffix = Path(name).suffix.lower()
    claimed = SUPPORTED.get(suffix)
    if claimed is None:
        raise IngestError(f"{shown}: upload a report as .pdf, .txt or .md (not {suffix or 'a file without extension'})")
    try:
        actual = sniff(data)
    except IngestError as exc:
        raise IngestError(f"{shown} is not what its name says: {exc}") from None
    if claimed == "pdf" and actual != "pdf":
        raise IngestError(f"{shown} is not a PDF: it is plain text without a PDF header; rename it .txt")
    if claimed != "pdf" and actual == "pdf":
        raise IngestError(f"{shown} is a PDF, not text; rename it .pdf")
    if claimed != "pdf" and not data.strip():
        raise IngestError(f"{shown} holds only white space")
    return claimed
