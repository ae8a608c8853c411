"""Turning entries into chunks: bounded pieces of text with a short context header."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from lessons.models import Area, Domain, Entry, Kind, ProjectStatus, Sector, Source
from lessons.words import label

__all__ = ["Chunk", "ChunkMeta", "chunk_entries", "chunk_entry", "context_header"]

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


class ChunkMeta(BaseModel):
    """What search filters on and cards show of a chunk's entry, typed with the corpus's own vocabularies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    title: str
    areas: tuple[Area, ...] = ()
    sector: Sector | None = None
    domain: Domain | None = None
    project_status: ProjectStatus | None = None
    project: str | None = None
    organisations: tuple[str, ...] = ()
    source: Source

    @classmethod
    def of(cls, entry: Entry) -> ChunkMeta:
        """The metadata of an entry's chunks."""
        return cls(
            kind=entry.kind,
            title=entry.title,
            areas=tuple(entry.areas),
            sector=entry.sector,
            domain=entry.domain,
            project_status=entry.project_status,
            project=entry.project,
            organisations=tuple(entry.organisations),
            source=entry.source,
        )


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of one entry. ``text`` is what a user reads; ``embed_text`` is what is indexed."""

    id: str
    entry_id: str
    ordinal: int
    header: str
    body: str
    fields: tuple[str, ...]
    meta: ChunkMeta

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
        return {
            "id": self.id,
            "entry_id": self.entry_id,
            "ordinal": self.ordinal,
            "header": self.header,
            "body": self.body,
            "fields": list(self.fields),
            "meta": self.meta.model_dump(mode="json"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chunk:
        """Inverse of :meth:`to_json`; raises ValueError (pydantic's ValidationError) on bad metadata."""
        return cls(
            id=str(data["id"]),
            entry_id=str(data["entry_id"]),
            ordinal=int(data["ordinal"]),
            header=str(data["header"]),
            body=str(data["body"]),
            fields=tuple(data["fields"]),
            meta=ChunkMeta.model_validate(data["meta"]),
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


def chunk_entry(entry: Entry, max_words: int = 160) -> list[Chunk]:
    """Chunk one entry. Labelled fields are packed greedily into chunks of about max_words.

    Every word of every text field lands in exactly one chunk, in order; ids are
    ``<entry id>#<n>`` and so are deterministic.
    """
    header = context_header(entry)
    meta = ChunkMeta.of(entry)
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
                    meta=meta,
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
