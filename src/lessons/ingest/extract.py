"""Text extraction from a PDF or a text file (runs inside the sandboxed worker)."""

from __future__ import annotations

from lessons.errors import UploadError

__all__ = ["extract_pages"]


def _pdf_pages(data: bytes, max_pages: int, name: str) -> list[str]:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UploadError("pdf_encrypted", name)
        count = len(reader.pages)
    except PdfReadError as exc:
        raise UploadError("pdf_unreadable", name, detail=str(exc)) from None
    if count == 0:
        raise UploadError("pdf_no_pages", name)
    if count > max_pages:
        raise UploadError("pdf_too_many_pages", name, pages=count, max_pages=max_pages)
    pages: list[str] = []
    for page in reader.pages:
        try:
            pages.append(page.extract_text() or "")
        except (PdfReadError, ValueError, KeyError, TypeError) as exc:
            raise UploadError("pdf_page_unreadable", name, page=len(pages) + 1, detail=str(exc)) from None
    if not any(p.strip() for p in pages):
        raise UploadError("pdf_no_text", name)
    return pages


def extract_pages(data: bytes, fmt: str, max_pages: int = 1000, name: str = "?") -> list[str]:
    """The text of each page: PDF pages, or a text file split at form feeds; an :class:`UploadError` naming
    ``name`` when it cannot be had."""
    if fmt == "pdf":
        return _pdf_pages(data, max_pages, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError("not_utf8", name, offset=exc.start) from None
    return text.split("\f")
