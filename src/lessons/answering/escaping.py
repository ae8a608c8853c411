"""Markdown escaping: user and corpus text shown literally by Markdown and st.markdown."""

from __future__ import annotations

import re

__all__ = ["BLANK_LINES", "escape_markdown"]

# Characters that start Markdown syntax anywhere in a line: emphasis, code, links and
# images, HTML and autolinks, tables, strike-through, maths ($), entities (&), and
# Streamlit's ``:red[...]`` / ``:emoji:`` directives (a colon glued to the next character);
# '@' and the dot of 'www.' stop GFM's bare e-mail and web autolinks.
# The rest only matter at the start of a paragraph (headings, lists, block quotes).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~$&#@])|(:)(?=\S)|(?<=\bwww)(\.)")
_MD_LINE_START = re.compile(r"^([-+=>]|\d+(?=[.)]))")
BLANK_LINES = re.compile(r"\n\s*\n")


def _escape_paragraph(text: str) -> str:
    escaped = _MD_INLINE.sub(lambda m: "\\" + m.group(0), text)
    return _MD_LINE_START.sub(lambda m: m.group(0) + "\\" if m.group(0)[0].isdigit() else "\\" + m.group(0), escaped)


def escape_markdown(text: str) -> str:
    """Text that Markdown (and st.markdown) renders literally: no emphasis, links, HTML or code.

    Paragraph breaks are kept; other line breaks and runs of white space become one
    space, so an indented line can never turn into a code block. Ordinary prose
    ('CE-mærkning (MDR)?') stays readable: only syntax characters are escaped.
    """
    paragraphs = [" ".join(p.split()) for p in BLANK_LINES.split(text)]
    return "\n\n".join(_escape_paragraph(p) for p in paragraphs if p)
