"""The briefing as a Markdown document; every text from the corpus or the profile is escaped."""

from __future__ import annotations

from collections.abc import Sequence

from lessons.answering import escape_markdown
from lessons.briefing.generate import Briefing
from lessons.briefing.layout import Block, Heading, Item, Notice, Para, Quote, layout

__all__ = ["blocks_markdown", "render_markdown"]


def _cites(numbers: tuple[int, ...]) -> str:
    return "".join(f"\\[{n}\\]" for n in numbers)


def _inline(text: str, label: str | None, cites: tuple[int, ...], *, italic: bool = False, bold: bool = False) -> str:
    parts = []
    if label:
        parts.append(f"**{escape_markdown(label)}:**" if text or not bold else f"**{escape_markdown(label)}**")
    body = escape_markdown(text)
    if body:
        parts.append(f"*{body}*" if italic else f"**{body}**" if bold else body)
    line = " ".join(parts)
    if cites:
        line += " " + _cites(cites)
    return line


def _block(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return ["#" * min(6, block.level) + " " + escape_markdown(block.text), ""]
    if isinstance(block, Para):
        return [_inline(block.text, block.label, block.cites, italic=block.italic), ""]
    if isinstance(block, Quote):
        return ["> " + _inline(block.text, block.label, block.cites), ""]
    if isinstance(block, Notice):
        return ["> ⚠️ " + escape_markdown(block.text), ""]
    item: Item = block
    head = item.mark(bullet="- ", check="- [ ] ", number="{n}\\. ")
    if item.label:
        text = f"**{escape_markdown(item.label)}**"
        if item.text:
            text += (
                f" – {escape_markdown(item.text)}"
                if item.kind == "bullet" and not item.cites
                else f": {escape_markdown(item.text)}"
            )
    else:
        text = escape_markdown(item.text)
    if item.cites:
        text += " " + _cites(item.cites)
    lines = [head + text + ("  " if item.note else "")]
    if item.note:
        lines.append("   *" + escape_markdown(item.note) + "*")
    return lines


def blocks_markdown(blocks: Sequence[Block]) -> str:
    """Blocks as Markdown, list items kept together."""
    lines: list[str] = []
    previous: Block | None = None
    for block in blocks:
        if isinstance(previous, Item) and not isinstance(block, Item):
            lines.append("")
        lines += _block(block)
        previous = block
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(briefing: Briefing, lang: str = "da", *, gaps_logged: bool = False) -> str:
    """The whole briefing as Markdown."""
    return blocks_markdown(layout(briefing, lang, gaps_logged=gaps_logged))
