"""The briefing as a PDF a team can bring to a steering-group meeting (ReportLab).

The text is set in Bitstream Vera, the TrueType family that ships inside ReportLab,
so æ, ø, å and the report's typographic punctuation print without any system font
or download. A character the font lacks is replaced by a close one (or '?'), never
dropped silently into an empty box. The PDF carries title and author metadata and
a footer with the page number and the freshness note.
"""

from __future__ import annotations

import io
import os
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lessons.briefing.generate import Briefing
from lessons.briefing.layout import Block, Heading, Item, Notice, Para, Quote, layout, years_text
from lessons.words import t

__all__ = ["FONT", "render_pdf"]

FONT = "LessonsVera"
_FACES = {"": "Vera.ttf", "-Bold": "VeraBd.ttf", "-Italic": "VeraIt.ttf", "-BoldItalic": "VeraBI.ttf"}
# Close stand-ins for characters Vera lacks.
_STAND_INS = {"→": "->", "←": "<-", "⚠": "!", "✓": "v", "☐": "[ ]", "\u200b": "", "\ufe0f": ""}
MARGIN = 18 * mm
ACCENT = colors.HexColor("#1f4e79")
NOTICE_BG = colors.HexColor("#fff4d6")
QUOTE_RULE = colors.HexColor("#9bb3c9")


@cache
def _fonts() -> frozenset[int]:
    """Register the Vera family once; return the code points it covers."""
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    covered: frozenset[int] = frozenset()
    for suffix, filename in _FACES.items():
        font = TTFont(FONT + suffix, os.path.join(folder, filename))
        pdfmetrics.registerFont(font)
        if not suffix:
            covered = frozenset(font.face.charToGlyph)
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT + "-Bold", italic=FONT + "-Italic", boldItalic=FONT + "-BoldItalic"
    )
    return covered


def _plain(text: str) -> str:
    """The text with every character the font lacks replaced by a stand-in (or '?')."""
    covered = _fonts()
    return "".join(ch if ord(ch) in covered or ch in "\n\t" else _STAND_INS.get(ch, "?") for ch in text)


def _printable(text: str) -> str:
    """The text with missing characters replaced, escaped for ReportLab's paragraph markup."""
    return escape(_plain(text))


def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=13, alignment=TA_LEFT, spaceAfter=4)
    return {
        "base": base,
        "h1": ParagraphStyle(
            "h1", base, fontName=FONT + "-Bold", fontSize=18, leading=22, textColor=ACCENT, spaceAfter=6
        ),
        "h2": ParagraphStyle(
            "h2",
            base,
            fontName=FONT + "-Bold",
            fontSize=13.5,
            leading=17,
            textColor=ACCENT,
            spaceBefore=10,
            spaceAfter=5,
        ),
        "h3": ParagraphStyle(
            "h3", base, fontName=FONT + "-Bold", fontSize=11.5, leading=15, spaceBefore=7, spaceAfter=3
        ),
        "h4": ParagraphStyle("h4", base, fontName=FONT + "-Bold", fontSize=10, leading=13, spaceBefore=5, spaceAfter=2),
        "quote": ParagraphStyle("quote", base, fontSize=9, leading=12, textColor=colors.HexColor("#333333")),
        "item": ParagraphStyle("item", base, leftIndent=14, firstLineIndent=-10, spaceAfter=2),
        "note": ParagraphStyle(
            "note",
            base,
            fontName=FONT + "-Italic",
            fontSize=8.5,
            leading=11,
            leftIndent=14,
            textColor=colors.HexColor("#555555"),
        ),
        "notice": ParagraphStyle("notice", base, fontSize=9, leading=12),
    }


def _cites(numbers: tuple[int, ...]) -> str:
    return "".join(f" [{n}]" for n in numbers)


def _inline(text: str, label: str | None, cites: tuple[int, ...], *, italic: bool = False) -> str:
    parts = []
    if label:
        parts.append(f"<b>{_printable(label)}{':' if text else ''}</b>")
    if text:
        body = _printable(text)
        parts.append(f"<i>{body}</i>" if italic else body)
    return " ".join(parts) + _printable(_cites(cites))


def _boxed(flowable: Flowable, *, background: colors.Color | None = None, rule: colors.Color | None = None) -> Table:
    table = Table([[flowable]], colWidths=[A4[0] - 2 * MARGIN - (12 if rule else 0)])
    style: list[tuple[Any, ...]] = [
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if background is not None:
        style.append(("BACKGROUND", (0, 0), (-1, -1), background))
    if rule is not None:
        style.append(("LINEBEFORE", (0, 0), (0, -1), 2, rule))
    table.setStyle(TableStyle(style))
    table.hAlign = "RIGHT" if rule else "CENTER"
    return table


def _flowables(blocks: list[Block]) -> list[Flowable]:
    styles = _styles()
    out: list[Flowable] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(Paragraph(_printable(block.text), styles[f"h{min(4, block.level)}"]))
        elif isinstance(block, Para):
            out.append(Paragraph(_inline(block.text, block.label, block.cites, italic=block.italic), styles["base"]))
        elif isinstance(block, Quote):
            paragraph = Paragraph(_inline(block.text, block.label, block.cites), styles["quote"])
            out.append(_boxed(paragraph, rule=QUOTE_RULE))
            out.append(Spacer(1, 2))
        elif isinstance(block, Notice):
            out.append(_boxed(Paragraph("<b>!</b> " + _printable(block.text), styles["notice"]), background=NOTICE_BG))
            out.append(Spacer(1, 4))
        else:
            out.append(_item(block, styles))
    return out


def _item(item: Item, styles: dict[str, ParagraphStyle]) -> Flowable:
    mark = item.mark(bullet="•", check='<font name="ZapfDingbats">o</font>', number="{n}.")
    if item.label:
        text = f"<b>{_printable(item.label)}</b>"
        if item.text:
            text += " – " + _printable(item.text)
        text += _printable(_cites(item.cites))
    else:
        text = _inline(item.text, None, item.cites)
    parts: list[Flowable] = [Paragraph(f"{mark}&nbsp;{text}", styles["item"])]
    if item.note:
        parts.append(Paragraph(_printable(item.note), styles["note"]))
    return KeepTogether(parts)


def render_pdf(briefing: Briefing, lang: str = "da", *, gaps_logged: bool = False) -> bytes:
    """The whole briefing as PDF bytes."""
    blocks = layout(briefing, lang, gaps_logged=gaps_logged)
    years = years_text(briefing.as_of_years)
    title = t("brief_title", lang, title=briefing.profile.title)
    footer = f"{title} · {t('brief_as_described', lang, years=years)}"

    def on_page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(MARGIN, 10 * mm, _plain(footer)[:150])
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, str(doc.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="lessons",
        subject=t("brief_intro", lang)[:200],
        creator="lessons (ReportLab)",
        invariant=True,
    )
    doc.build(_flowables(blocks), onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
