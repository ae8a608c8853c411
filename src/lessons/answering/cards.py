"""Experience cards: one retrieved experience, numbered, labelled, with its source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from lessons.chunking import ChunkMeta
from lessons.models import Area, Domain, Entry, Kind, ProjectStatus, Sector
from lessons.search import Hit

__all__ = ["Card", "CardSource", "build_cards", "card_from_entry"]


@dataclass(frozen=True)
class CardSource:
    """Where a card's wording comes from."""

    report: str
    section: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class Card:
    """One retrieved experience, ready to show: numbered, labelled, with its source."""

    number: int
    entry_id: str
    kind: Kind
    title: str
    source: CardSource
    fields: tuple[tuple[str, str], ...]
    excerpt: str
    score: float
    summary: str | None = None
    areas: tuple[Area, ...] = ()
    sector: Sector | None = None
    domain: Domain | None = None
    project: str | None = None
    organisations: tuple[str, ...] = ()
    project_status: ProjectStatus | None = None
    period: str | None = None
    grant_mio_kr: float | None = None
    tags: tuple[str, ...] = ()
    as_of: date | None = None  # when the situation the source describes held

    @property
    def legal(self) -> bool:
        """A card about law: shown with the year it describes and a note that rules may have changed."""
        return Area.LAW in self.areas

    @property
    def key_fields(self) -> tuple[tuple[str, str], ...]:
        """The fields a card shows: challenge → handling → outcome, or the kind's text fields in order."""
        if self.kind is Kind.HANDLING:
            wanted = ("challenge", "handling", "outcome")
            return tuple(f for f in self.fields if f[0] in wanted)
        return self.fields

    @property
    def project_name(self) -> str | None:
        """The project, unless the card is the project itself (or its title already names it)."""
        return self.project if self.project and self.project not in self.title else None


def _card(
    number: int, entry_id: str, meta: ChunkMeta, *, fields: tuple[tuple[str, str], ...], excerpt: str, score: float
) -> Card:
    """A card from what the index keeps of an entry (its chunk metadata) and the text to show."""
    return Card(
        number=number,
        entry_id=entry_id,
        kind=meta.kind,
        title=meta.title or entry_id,
        source=CardSource(report=meta.source.report, section=meta.source.section, page=meta.source.page),
        fields=fields,
        excerpt=excerpt,
        score=score,
        areas=meta.areas,
        sector=meta.sector,
        domain=meta.domain,
        project=meta.project,
        organisations=meta.organisations,
        project_status=meta.project_status,
    )


def _card_from_chunk(number: int, hit: Hit) -> Card:
    """A card from the index alone, when the corpus no longer has the entry."""
    chunk = hit.chunk
    return _card(
        number, chunk.entry_id, chunk.meta, fields=(("body", chunk.body),), excerpt=chunk.body, score=hit.score
    )


def card_from_entry(number: int, entry: Entry, *, excerpt: str = "", score: float = 0.0) -> Card:
    """A card from a corpus entry: the index's metadata of it plus what only the corpus has."""
    fields = tuple(entry.text_fields())
    card = _card(number, entry.id, ChunkMeta.of(entry), fields=fields, excerpt=excerpt, score=score)
    return replace(
        card,
        summary=entry.summary,
        period=entry.period,
        grant_mio_kr=entry.grant_mio_kr,
        tags=tuple(entry.tags),
        as_of=entry.as_of,
    )


def build_cards(hits: Sequence[Hit], entries: Mapping[str, Entry]) -> list[Card]:
    """One card per hit, numbered from 1 in rank order; the full entry when the corpus has it."""
    cards = []
    for number, hit in enumerate(hits, start=1):
        entry = entries.get(hit.chunk.entry_id)
        if entry is None:
            cards.append(_card_from_chunk(number, hit))
        else:
            cards.append(card_from_entry(number, entry, excerpt=hit.chunk.body, score=hit.score))
    return cards
