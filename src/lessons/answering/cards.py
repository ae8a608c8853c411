"""Experience cards: one retrieved experience, numbered, labelled, with its source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

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


def _card_from_chunk(number: int, hit: Hit) -> Card:
    """A card from the index alone, when the corpus no longer has the entry."""
    meta = hit.chunk.meta
    return Card(
        number=number,
        entry_id=hit.chunk.entry_id,
        kind=meta.kind,
        title=meta.title or hit.chunk.entry_id,
        source=CardSource(report=meta.source.report, section=meta.source.section, page=meta.source.page),
        fields=(("body", hit.chunk.body),),
        excerpt=hit.chunk.body,
        score=hit.score,
        areas=meta.areas,
        sector=meta.sector,
        domain=meta.domain,
        project=meta.project,
        organisations=meta.organisations,
        project_status=meta.project_status,
    )


def card_from_entry(number: int, entry: Entry, *, excerpt: str = "", score: float = 0.0) -> Card:
    """A card from a corpus entry."""
    return Card(
        number=number,
        entry_id=entry.id,
        kind=entry.kind,
        title=entry.title,
        source=CardSource(report=entry.source.report, section=entry.source.section, page=entry.source.page),
        fields=tuple(entry.text_fields()),
        excerpt=excerpt,
        score=score,
        summary=entry.summary,
        areas=tuple(entry.areas),
        sector=entry.sector,
        domain=entry.domain,
        project=entry.project,
        organisations=tuple(entry.organisations),
        project_status=entry.project_status,
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
