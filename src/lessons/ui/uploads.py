"""Streamlit's file uploader in our words.

The uploader writes its own English into the browser ("Upload", "200MB per file", "Drag and drop a
file here"), which no widget parameter changes. :func:`file_uploader` puts it in a keyed container
and adds a style scoped to that container which hides those words and shows ours from
:mod:`lessons.words` instead (CSS ``content``). The style is built only from our words and the size
limit, every character other than a letter, digit or space written as a CSS escape (six hex digits
and the space that ends an escape).

The accepted file types are checked here, on the server, not by the browser: Streamlit's own
client-side type check shows its English error on a Danish page. A file of another type gets our
message, naming the file and the accepted types, and is not handed to the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from lessons.errors import size_text
from lessons.ui.render import safe
from lessons.words import t

__all__ = ["accepts", "css_string", "file_uploader", "uploader_style", "wrong_type_message"]

MAX_NAME_CHARS = 120  # a file name is the browser's to choose: shown at most this long


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string: letters, digits and spaces as they are, every other character escaped."""
    return '"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):06x} " for c in text) + '"'


def uploader_style(box: str, lang: str, max_bytes: int) -> str:
    """A <style> that replaces the built-in English of the uploader inside the container keyed ``box``."""
    zone = f".st-key-{box} [data-testid='stFileUploaderDropzone']"
    button = f"{zone} [data-testid='stBaseButton-secondary']"
    instructions = f"{zone} [data-testid='stFileUploaderDropzoneInstructions'] > div"
    dragging = f"{zone} > input + div:has(> span)"  # shown while a file is dragged over the drop zone
    words = {
        "button": t("upload_button", lang),
        "instructions": t("upload_instructions", lang, limit=size_text(max_bytes, lang)),
        "drop": t("upload_drop", lang),
    }
    rules = (
        f"{button} [data-testid='stMarkdownContainer'] {{ display: none; }}",
        f"{button} span[data-has-shortcut]::after {{ content: {css_string(words['button'])}; }}",
        f"{instructions} > span {{ display: none; }}",
        f"{instructions}::after {{ content: {css_string(words['instructions'])}; }}",
        f"{dragging} > span {{ display: none; }}",
        f"{dragging}::after {{ content: {css_string(words['drop'])}; }}",
    )
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def _suffixes(types: Sequence[str]) -> list[str]:
    return [f".{kind.lower().lstrip('.')}" for kind in types]


def accepts(name: str, types: Sequence[str]) -> bool:
    """Whether the file ``name`` has one of the ``types`` ('pdf' or '.pdf'; any letter case)."""
    return PurePath(name).suffix.lower() in _suffixes(types)


def wrong_type_message(name: str, types: Sequence[str], lang: str) -> str:
    """Why the file ``name`` is refused, naming it (made literal, shortened) and the accepted types."""
    shown = name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"
    return t("upload_wrong_type", lang, name=safe(shown), types=", ".join(_suffixes(types)))


def file_uploader(
    label: str,
    *,
    key: str,
    lang: str,
    max_bytes: int,
    types: Sequence[str] | None = None,
    help_text: str | None = None,
) -> UploadedFile | None:
    """``st.file_uploader`` for one file, showing our words in ``lang`` and the limit we enforce ourselves.

    ``types`` (suffixes) are checked here: a file of another type is refused with our message and None
    is returned. The browser is given no type filter (its refusal would be Streamlit's English).
    """
    with st.container(key=f"{key}-box"):
        st.html(uploader_style(f"{key}-box", lang, max_bytes))
        upload = st.file_uploader(label, key=key, help=help_text)
        if upload is not None and types is not None and not accepts(upload.name, types):
            st.error(wrong_type_message(upload.name, types, lang))
            return None
        return upload
