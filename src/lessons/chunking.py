"""Turning entries into chunks: bounded pieces of text with a short context header."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from lessons.models import Entry
from lessons.words import label

__all__ = ["Chunk", "chunk_entries", "chunk_entry", "context_header"]

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of one entry. ``text`` is what a user reads; ``embed_text`` is what is indexed."""

    id: str
    entry_id: str
    ordinal: int
    header: str
    body: str
    fields: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Header and body, as shown to a user."""
        return f"{self.header}\n{self.body}"

    @property
    def content_hash(self) -> str:
        """Hash of the text that is embedded, to reuse vectors across builds."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["fields"] = list(self.fields)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chunk:
        """Inverse of :meth:`to_json`."""
        return cls(
            id=str(data["id"]),
            entry_id=str(data["entry_id"]),
            ordinal=int(data["ordinal"]),
            header=str(data["header"]),
            body=str(data["body"]),
            fields=tuple(data["fields"]),
            meta=dict(data.get("meta", {})),
        )


def context_header(entry: Entry) -> str:
    """One line naming kind, title, project and areas; in front of every chunk of the entry."""
    parts = [f"[{label('kind', entry.kind, 'da')}] {entry.title}"]
    if entry.project and entry.project != entry.title:
        parts.append(f"Projekt: {entry.project}")
    if entry.organisations:
        parts.append(", ".join(entry.organisations))
    if entry.areas:
        parts.append("Område: " + ", ".join(label("area", a, "da") for a in entry.areas))
    if entry.tags:
        parts.append("Emner: " + ", ".join(entry.tags))
    return " · ".join(parts)


def _word_count(text: str) -> int:
    return len(text.split())


def _pieces(text: str, max_words: int) -> list[str]:
    """Split text into pieces of at most max_words, at paragraph, then sentence, then word boundaries."""
    out: list[str] = []
    for para in (p.strip() for p in _PARAGRAPHS.split(text)):
        if not para:
            continue
        if _word_count(para) <= max_words:
            out.append(para)
            continue
        for sentence in (s.strip() for s in _SENTENCES.split(para)):
            words = sentence.split()
            for start in range(0, len(words), max_words):
                out.append(" ".join(words[start : start + max_words]))
    return out


def _meta(entry: Entry) -> dict[str, Any]:
    return {
        "kind": entry.kind.value,
        "title": entry.title,
        "areas": [a.value for a in entry.areas],
        "sector": entry.sector.value if entry.sector else None,
        "domain": entry.domain.value if entry.domain else None,
        "project_status": entry.project_status.value if entry.project_status else None,
        "project": entry.project,
        "organisations": list(entry.organisations),
        "source": entry.source.model_dump(),
    }


def chunk_entry(entry: Entry, max_words: int = 160) -> list[Chunk]:
    """Chunk one entry. Labelled fields are packed greedily into chunks of about max_words.

    Every word of every text field lands in exactly one chunk, in order; ids are
    ``<entry id>#<n>`` and so are deterministic.
    """
    header = context_header(entry)
    units: list[tuple[str, str]] = []  # (field, labelled piece)
    for name, text in entry.text_fields():
        label_da = label("field", name, "da")
        for i, piece in enumerate(_pieces(text, max_words)):
            units.append((name, f"{label_da}: {piece}" if i == 0 and name != "body" else piece))
    chunks: list[Chunk] = []
    current: list[str] = []
    current_fields: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal current, current_fields, size
        if current:
            n = len(chunks)
            chunks.append(
                Chunk(
                    id=f"{entry.id}#{n}",
                    entry_id=entry.id,
                    ordinal=n,
                    header=header,
                    body="\n\n".join(current),
                    fields=tuple(dict.fromkeys(current_fields)),
                    meta=_meta(entry),
                )
            )
        current, current_fields, size = [], [], 0

    for name, piece in units:
        words = _word_count(piece)
        if current and size + words > max_words:
            flush()
        current.append(piece)
        current_fields.append(name)
        size += words
    flush()
    return chunks


def chunk_entries(entries: list[Entry], max_words: int = 160) -> list[Chunk]:
    """Chunk many entries, in the order given."""
    return [chunk for entry in entries for chunk in chunk_entry(entry, max_words)]
