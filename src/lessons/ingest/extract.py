"""Text extraction from a PDF or a text file (runs inside the sandboxed worker)."""

from __future__ import annotations

from lessons.errors import IngestError

__all__ = ["extract_pages"]


def _pdf_pages(data: bytes, max_pages: int) -> list[str]:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestError("the PDF is encrypted (password-protected); save an unprotected copy and upload that")
        count = len(reader.pages)
    except PdfReadError as exc:
        raise IngestError(f"the PDF cannot be read ({exc}); it may be damaged") from None
    if count == 0:
        raise IngestError("the PDF has no pages")
    if count > max_pages:
        raise IngestError(f"the PDF has {count} pages; the limit is {max_pages}")
    pages: list[str] = []
    for page in reader.pages:
        try:
            pages.append(page.extract_text() or "")
        except (PdfReadError, ValueError, KeyError, TypeError) as exc:
            raise IngestError(f"page {len(pages) + 1} of the PDF cannot be read ({exc})") from None
    if not any(p.strip() for p in pages):
        raise IngestError("the PDF has no extractable text (is it scanned images?); upload a text version")
    return pages


def extract_pages(data: bytes, fmt: str, max_pages: int = 1000) -> list[str]:
    """The text of each page: PDF pages, or a text file split at form feeds."""
    if fmt == "pdf":
        return _pdf_pages(data, max_pages)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"the file is not UTF-8 text (byte {exc.start})") from None
    return text.split("\f")
