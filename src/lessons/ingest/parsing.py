"""Parsing a report's text into sections and recognised entries (runs inside the sandboxed worker).

1. split the text into lines with their page (PDF pages, or form feeds in text),
   drop page footers, and join words broken at line ends;
2. find headings (short lines that stand alone between sentences; ``#`` lines in
   Markdown) and cut the report into sections;
3. recognise entries: a project description (``Budget: / Formål: / Løsning:``),
   a handling example (``Udfordring: … Eksempel på håndtering: …``), a completed
   project's evaluation (``Afsluttet projekt: …`` with ``Beskrivelse`` etc.), and
   otherwise a finding per section; kind, areas, domain and sector are suggested.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lessons.models import MAX_FIELD_CHARS, Area, Domain, Sector, slugify
from lessons.text import dehyphenate, markdown_heading, normalise
from lessons.words import labels

__all__ = [
    "Candidate",
    "candidate_id",
    "is_date_line",
    "organisations",
    "parse_report",
    "report_title",
    "suggest_areas",
    "suggest_sector",
]

_BULLET_GLYPHS = re.compile(r"^[\s]*([\uf000-\uf8ff\u2022\u25aa\u25cf\u2023\u2043\u2013\u25e6]|[-*])\s+")
_FOOTER = re.compile(r"^(?:side\s+)?\d{1,4}(?:\s*(?:af|of|/)\s*\d{1,4})?$|^page\s+\d{1,4}(?:\s+of\s+\d{1,4})?$", re.I)
_LABEL = re.compile(r"^\**\s*(Udfordring|Eksempel på håndtering|Budget|Formål|Løsning)\s*:\s*\**\s*", re.I)
# A label inside a paragraph ('… stor. Eksempel på håndtering: …'): capitalised, after a sentence end.
_INLINE_LABEL = re.compile(
    r"(?<=[.!?»”\"])\s+(?=\*{0,2}(?:Udfordring|Eksempel på håndtering|Budget|Formål|Løsning)\s*:)"
)
_MONTHS = (
    "januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december|"
    "january|february|march|may|june|july|october|jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|oct|nov|dec"
)
# A date line ('Publiceret 16-01-2025', 'Opdateret: 3. marts 2024 kl. 10.15', '2025-01-16'): metadata, never a title.
_DATE_LINE = re.compile(
    r"^(?:(?:publiceret|offentliggjort|udgivet|opdateret|senest opdateret|dato|published|updated|posted|date)"
    r"\b[\s:]{0,3}(?:den |d\. |on )?)?"
    r"(?:\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}\.? (?:" + _MONTHS + r")\.? \d{4}|"
    r"(?:" + _MONTHS + r")\.? \d{1,2},? \d{4})"
    r"(?:,? (?:kl\. ?|at )?\d{1,2}[.:]\d{2})?\.?$",
    re.IGNORECASE,
)
_SENTENCE_END = (".", "!", "?")
# Words a heading does not end with, though a wrapped line of prose often does.
_OPEN_ENDINGS = frozenset(
    "en et at og i til med af for på der som om de den det ved fra eller samt mellem hos under over efter "
    "inden end men har er var kan skal vil the a an of and to in with for on by or is are".split()
)
MAX_HEADING_CHARS = 150
MAX_HEADING_WORDS = 20
MIN_FINDING_WORDS = 25


@dataclass(frozen=True)
class Line:
    """One line of the report with its page."""

    text: str
    page: int | None
    bullet: bool = False
    md_heading: bool = False
    indent: bool = False


@dataclass
class Block:
    """A heading or a paragraph (bullets are paragraphs of their own)."""

    text: str
    page: int | None
    heading: bool = False
    bullet: bool = False


@dataclass
class Section:
    """A heading, the group heading above it, and its paragraphs."""

    heading: str
    group: str | None
    page: int | None
    blocks: list[Block] = field(default_factory=list)
    areas: tuple[Area, ...] = ()

    @property
    def path(self) -> str:
        """'Group – Heading', for the entry's source.section."""
        return f"{self.group} – {self.heading}" if self.group and self.group != self.heading else self.heading


def _lines(pages: list[str], markdown: bool) -> list[Line]:
    """Non-empty lines with their page; footers dropped, words broken at line ends joined."""
    out: list[Line] = []
    paged = len(pages) > 1
    for number, page in enumerate(pages, start=1):
        for raw in normalise(page).splitlines():
            text = raw.strip()
            if not text:
                if markdown and out and out[-1].text:
                    out.append(Line("", number if paged else None))  # a paragraph break
                continue
            if _FOOTER.match(text) or is_date_line(text):
                continue
            heading = markdown_heading(text) if markdown else None
            if heading:
                out.append(Line(heading[1], number if paged else None, md_heading=True))
                continue
            bullet = bool(_BULLET_GLYPHS.match(raw))
            if bullet:
                text = _BULLET_GLYPHS.sub("", raw).strip()
            indent = raw[:1].isspace() and not bullet
            out.append(Line(text, number if paged else None, bullet=bullet, indent=indent))
    return _join_broken_words(out)


def is_date_line(text: str) -> bool:
    """Whether a line is only a date, maybe with 'Publiceret'/'Opdateret' and a time: never a heading or title."""
    plain = " ".join(text.replace("#", " ").strip("*_ ").split())
    return len(plain) <= 60 and bool(_DATE_LINE.match(plain))


def split_inline_labels(blocks: list[Block]) -> list[Block]:
    """Paragraphs cut before each label written inline ('Udfordring: … Eksempel på håndtering: …')."""
    out: list[Block] = []
    for block in blocks:
        if block.heading:
            out.append(block)
            continue
        parts = [part.strip() for part in _INLINE_LABEL.split(block.text) if part.strip()]
        out.extend(Block(part, block.page, bullet=block.bullet) for part in parts)
    return out


def _join_broken_words(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    for line in lines:
        prev = out[-1] if out else None
        if prev and prev.text.endswith("-") and line.text and not line.bullet and not line.md_heading:
            joined = dehyphenate(f"{prev.text}\n{line.text}")
            if "\n" not in joined:
                out[-1] = Line(joined, prev.page, prev.bullet, prev.md_heading, prev.indent)
                continue
        out.append(line)
    return out


def _starts_upper(text: str, digits: bool = True) -> bool:
    first = text.lstrip("»«\"'“(*")[:1]
    return first.isupper() or (digits and first.isdigit())


_GENITIVE = re.compile(r"(Kommune|hospital|Hospital|Nord)s$")
_REGION_GENITIVE = re.compile(r"^(Region \w+)s$")
_COMPLETED_PREFIX = re.compile(r"^afsluttet projekt:\s*", re.IGNORECASE)
_AREA_TOKEN = re.compile(r"[\wæøå-]+")
_LIST_ITEM = re.compile(r"^\d{1,2}[.)]\s")


def _continues(text: str) -> bool:
    """Whether a line can continue the line before: it starts in lower case or with a number that is no list item."""
    first = text[:1]
    return first.islower() or (first.isdigit() and not _LIST_ITEM.match(text))


def _ends_sentence(text: str) -> bool:
    return text.rstrip("»«\"'”)*").endswith(_SENTENCE_END)


def _heading_at(lines: list[Line], i: int, prev_closed: bool) -> int:
    """How many lines from i form a heading (0 if none): short, standalone, no final punctuation."""
    first = lines[i]
    if not prev_closed or first.bullet or not _starts_upper(first.text) or _LABEL.match(first.text):
        return 0
    parts = [first.text]
    j = i + 1
    while j < len(lines) and lines[j].text and not lines[j].bullet and _continues(lines[j].text):
        parts.append(lines[j].text)
        j += 1
    text = " ".join(parts)
    if text.rstrip().endswith((".", "!", "?", ":", ";", ",", "-")):
        return 0
    if text.split()[-1].lower() in _OPEN_ENDINGS:  # 'med en' goes on: a sentence, not a heading
        return 0
    if len(text) > MAX_HEADING_CHARS or len(text.split()) > MAX_HEADING_WORDS:
        return 0
    return j - i


def _blocks(lines: list[Line]) -> list[Block]:
    """Group lines into headings and paragraphs."""
    blocks: list[Block] = []
    current: Block | None = None
    closed = True  # the previous line ended a sentence (or there is none)
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.text:  # Markdown paragraph break
            current, closed = None, True
            i += 1
            continue
        if line.md_heading:
            blocks.append(Block(line.text, line.page, heading=True))
            current, closed = None, True
            i += 1
            continue
        previous_heading = bool(blocks) and blocks[-1].heading and current is None
        size = _heading_at(lines, i, closed or previous_heading)
        if size:
            text = " ".join(" ".join(x.text.split()) for x in lines[i : i + size])
            blocks.append(Block(text, line.page, heading=True))
            current, closed = None, True
            i += size
            continue
        new_paragraph = (
            current is None
            or line.bullet
            or bool(_LABEL.match(line.text))
            or (line.indent and _starts_upper(line.text, False))  # a bullet whose glyph was lost
            or (closed and _starts_upper(line.text))
        )
        if new_paragraph:
            current = Block(" ".join(line.text.split()), line.page, bullet=line.bullet)
            blocks.append(current)
        elif current is not None:
            current.text = f"{current.text} {' '.join(line.text.split())}"
        closed = _ends_sentence(line.text)
        i += 1
    return blocks


_AREA_WORDS: dict[Area, tuple[str, ...]] = {
    Area.DATA: ("data", "datakvalitet", "datamængde", "datasæt", "datastandard", "træningsdata"),
    Area.INFRASTRUCTURE: ("infrastruktur", "it-infrastruktur", "api", "integration", "arkitektur", "it-system"),
    Area.LAW: ("jura", "juridisk", "gdpr", "hjemmel", "mdr", "ce-mærk", "lovgivning", "databeskyttelse"),
    Area.ETHICS: ("etik", "dataetik", "etisk", "bias", "transparens", "dataetisk"),
    Area.ORGANISATION: ("organisering", "ledelse", "forankring", "organisation", "ledelsesopbakning"),
    Area.VENDORS: ("leverandør", "leverandøren", "leverandører", "leverandørerne"),
    Area.COMPETENCIES: ("kompetence", "kompetencer", "frontlinjemedarbejder", "kompetenceudvikling"),
}


@cache
def _area_patterns() -> tuple[tuple[Area, re.Pattern[str]], ...]:
    """Per area, one pattern for its names as whole words (Danish, English, the value, a few synonyms)."""
    out = []
    for value, (danish, english) in labels("area").items():
        area = Area(value)
        names = {danish.lower(), english.lower(), area.value}
        if area is Area.ETHICS:
            names |= {"dataetik"}
        if area is Area.INFRASTRUCTURE:
            names |= {"infrastruktur"}
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        out.append((area, re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")))
    return tuple(out)


def _heading_areas(heading: str) -> tuple[Area, ...]:
    """Areas a chapter heading names: 'Data', 'Jura', 'Leverandører og kompetencer' ..."""
    low = heading.lower()
    if len(low.split()) > 4:
        return ()
    return tuple(area for area, pattern in _area_patterns() if pattern.search(low))


def suggest_areas(text: str, limit: int = 2) -> list[Area]:
    """Areas whose key words occur at least twice in the text, most frequent first."""
    tokens = Counter(_AREA_TOKEN.findall(text.lower()))
    scores: Counter[Area] = Counter()
    for area, stems in _AREA_WORDS.items():
        for token, n in tokens.items():
            if any(token.startswith(stem) for stem in stems):
                scores[area] += n
    return [area for area, n in scores.most_common(limit) if n >= 2]


def _sections(blocks: list[Block]) -> list[Section]:
    """Cut blocks into sections. A heading followed directly by another heading is a group heading."""
    sections: list[Section] = []
    group: str | None = None
    areas: tuple[Area, ...] = ()
    for i, block in enumerate(blocks):
        if not block.heading:
            if not sections:
                sections.append(Section(heading=group or "Indledning", group=None, page=block.page))
            sections[-1].blocks.append(block)
            continue
        next_is_heading = i + 1 < len(blocks) and blocks[i + 1].heading
        if next_is_heading:
            group = block.text
            areas = _heading_areas(block.text) or (areas if _is_area_subheading(block.text, areas) else ())
            continue
        sections.append(Section(heading=block.text, group=group, page=block.page, areas=areas))
    return [s for s in sections if s.blocks]


def _is_area_subheading(heading: str, areas: tuple[Area, ...]) -> bool:
    """A heading inside an area chapter that does not start a new chapter ('Tre tiltag ... MDR')."""
    return bool(areas) and not heading.lower().startswith(("afsluttet projekt", "appendiks", "signaturprojekter"))


# --- recognising entries --------------------------------------------------------------------------


@dataclass
class Candidate:
    """A draft entry found in the report, as raw fields, with why it was recognised."""

    raw: dict[str, Any]
    reason: str
    page: int | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the worker's output)."""
        return {"raw": self.raw, "reason": self.reason, "page": self.page}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Candidate:
        """Inverse of :meth:`to_json`."""
        page = data.get("page")
        return cls(raw=dict(data["raw"]), reason=str(data["reason"]), page=int(page) if page else None)


_ORG = re.compile(
    r"\b(?:(?:Region|Sygehus|Regionshospital(?:et)?)\s+[A-ZÆØÅ][\wæøå]+"
    r"|[A-ZÆØÅ][\wæøå]+\s(?:Kommunes?|Universitetshospitals?|Regionshospitals?|Hospitals?)"
    r"|TeleCare Nords?|Med[Cc]om)\b"
)
_NOT_A_PLACE = frozenset("På I Hos Ved Fra Med Det Den Et En Projektet Kommunen".split())
_DOMAIN_WORDS: dict[Domain, tuple[str, ...]] = {
    Domain.HEALTH: ("sundhed", "patient", "hospital", "klinik", "behandling", "sygdom"),
    Domain.EMPLOYMENT: ("beskæftigelse", "ledige", "jobcenter", "job", "virksomheder"),
    Domain.CLIMATE: ("klima", "energi", "co2", "vand", "regn", "bygning"),
    Domain.SOCIAL_CARE: ("social", "omsorg", "ældre", "pleje", "rehabilitering", "hjælpemid", "visitation", "børn"),
    Domain.ADMINISTRATION: ("administration", "sagsbehandling", "post", "mail", "aktindsigt", "byggeansøgning"),
}


def organisations(text: str) -> list[str]:
    """Organisations named in a text ('Aalborg Kommunes' -> 'Aalborg Kommune'), in order of appearance."""
    names: list[str] = []
    for match in _ORG.finditer(text):
        name = match.group(0)
        if name.split()[0] in _NOT_A_PLACE:
            continue
        name = _GENITIVE.sub(r"\1", name)
        name = _REGION_GENITIVE.sub(r"\1", name)
        if name not in names:
            names.append(name)
    return names


def suggest_sector(names: list[str]) -> Sector | None:
    """Municipality, region or both, from the organisations named."""
    municipal = any("Kommune" in n for n in names)
    regional = any(not ("Kommune" in n or n.startswith("TeleCare")) for n in names)
    if municipal and regional:
        return Sector.CROSS
    if municipal:
        return Sector.MUNICIPALITY
    return Sector.REGION if regional else None


def _suggest_domain(heading: str, text: str) -> Domain | None:
    """The domain a heading names; if it names several, the one the text talks about most."""
    low_heading, low_text = heading.lower(), text.lower()
    named = [d for d, words in _DOMAIN_WORDS.items() if any(w in low_heading for w in words[:2])]
    pool = named or list(_DOMAIN_WORDS)
    scores = {d: sum(low_text.count(w) for w in _DOMAIN_WORDS[d]) for d in pool}
    if len(named) == 1:
        return named[0]
    best = max(scores, key=lambda d: scores[d])
    return best if scores[best] > 0 else None


def _label(block: Block) -> tuple[str | None, str]:
    match = _LABEL.match(block.text)
    if not match:
        return None, block.text
    return match.group(1).lower(), block.text[match.end() :].strip().strip("*").strip()


def _source(report: str, section: Section, page: int | None) -> dict[str, Any]:
    source: dict[str, Any] = {"report": report, "section": section.path[:300]}
    if page:
        source["page"] = page
    return source


_PERIOD = re.compile(r"fra (primo|medio|ultimo) (\d{4}) til (primo|medio|ultimo) (\d{4})")
# Not starting inside a run of digits: '(\d+...) mio' tried at every digit of a long run is quadratic.
_GRANT = re.compile(r"(?<![\d,])(\d+(?:,\d+)?) mio\. kr")


def _project(report: str, section: Section, labelled: dict[str, str]) -> Candidate:
    budget = labelled.get("budget", "")
    raw: dict[str, Any] = {
        "kind": "project",
        "title": section.heading,
        "project": section.heading,
        "purpose": labelled["formål"],
        "solution": labelled["løsning"],
        "project_status": "completed" if budget.lower().startswith("afsluttet") else "ongoing",
        "source": _source(report, section, section.page),
    }
    if budget:
        raw["body"] = budget  # the report's "Budget:" line; cards label it Budget
    if grant := _GRANT.search(budget):
        raw["grant_mio_kr"] = float(grant.group(1).replace(",", "."))
    if period := _PERIOD.search(budget):
        raw["period"] = f"{period.group(1)} {period.group(2)} – {period.group(3)} {period.group(4)}"
    domain = _suggest_domain(section.group or "", " ".join(labelled.values()))
    if domain:
        raw["domain"] = domain.value
        raw["sector"] = (Sector.REGION if domain is Domain.HEALTH else Sector.MUNICIPALITY).value
    if orgs := organisations(" ".join(labelled.values())):
        raw["organisations"] = orgs[:10]
    return Candidate(raw=raw, reason="project description (Budget / Formål / Løsning)", page=section.page)


def _handling(report: str, section: Section) -> tuple[list[Candidate], list[Block]]:
    """Handling examples: each 'Eksempel på håndtering' with the 'Udfordring' before it."""
    found: list[tuple[list[str], Block, list[str]]] = []  # (challenge, example block, example paragraphs)
    rest: list[Block] = []
    challenge: list[str] | None = None
    current: list[str] | None = None  # the paragraphs that unlabelled text continues
    for block in section.blocks:
        label, text = _label(block)
        if label == "udfordring":
            challenge = current = [text]
        elif label == "eksempel på håndtering" and challenge:
            current = [text]
            found.append((challenge, block, current))
        elif label is None and current is not None:
            current.append(text)  # the challenge or example goes on, after a page break or in a new paragraph
        elif label is None:
            rest.append(block)
    candidates = []
    for n, (challenge_paragraphs, block, paragraphs) in enumerate(found, start=1):
        challenge_text = "\n\n".join(challenge_paragraphs)
        handling = "\n\n".join(paragraphs)
        orgs = organisations(handling)
        title = section.heading
        if len(found) > 1:
            title = f"{title} – {orgs[0]}" if orgs else f"{title} ({n})"
        raw: dict[str, Any] = {
            "kind": "handling",
            "title": title[:300],
            "challenge": challenge_text,
            "handling": handling,
            "source": _source(report, section, block.page),
        }
        areas = list(section.areas) or suggest_areas(f"{section.heading} {challenge_text} {handling}")
        if areas:
            raw["areas"] = [a.value for a in areas]
        if orgs:
            raw["organisations"] = orgs[:10]
            if sector := suggest_sector(orgs):
                raw["sector"] = sector.value
        candidates.append(Candidate(raw=raw, reason="handling example (Udfordring / Eksempel)", page=block.page))
    return candidates, rest


_EVALUATION_FIELDS = {
    "beskrivelse": "description",
    "forudsætninger": "prerequisites",
    "direkte gevinster": "direct_gains",
    "afledte gevinster": "derived_gains",
    "afslutning": "ending",
}


def _paragraphs(blocks: Iterable[Block]) -> str:
    return "\n\n".join(b.text for b in blocks)


def _finding(report: str, section: Section, blocks: list[Block]) -> Iterator[Candidate]:
    text = _paragraphs(blocks)
    if len(text.split()) < MIN_FINDING_WORDS:
        return
    areas = list(section.areas) or suggest_areas(f"{section.heading} {text}")
    parts: list[list[Block]] = [[]]
    for block in blocks:  # split only a section longer than one field may be
        if parts[-1] and len(_paragraphs([*parts[-1], block])) > MAX_FIELD_CHARS // 2:
            parts.append([])
        parts[-1].append(block)
    for n, part in enumerate(parts, start=1):
        title = section.heading if len(parts) == 1 else f"{section.heading} (del {n})"
        raw: dict[str, Any] = {
            "kind": "finding",
            "title": title[:300],
            "body": _paragraphs(part)[:MAX_FIELD_CHARS],
            "source": _source(report, section, part[0].page or section.page),
        }
        if areas:
            raw["areas"] = [a.value for a in areas]
        yield Candidate(raw=raw, reason="section", page=part[0].page or section.page)


def _evaluations(report: str, sections: list[Section]) -> tuple[list[Candidate], set[int]]:
    """One evaluation per 'Afsluttet projekt: X' group whose sections are Beskrivelse, Forudsætninger, ..."""
    groups: dict[str, list[int]] = {}
    for i, section in enumerate(sections):
        if (
            section.group
            and section.group.lower().startswith("afsluttet projekt")
            and section.heading.lower() in _EVALUATION_FIELDS
        ):
            groups.setdefault(section.group, []).append(i)
    candidates: list[Candidate] = []
    used: set[int] = set()
    for group, indices in groups.items():
        fields = {_EVALUATION_FIELDS[sections[i].heading.lower()]: _paragraphs(sections[i].blocks) for i in indices}
        if "description" not in fields:
            continue
        project = _COMPLETED_PREFIX.sub("", group).strip()
        first = sections[indices[0]]
        raw: dict[str, Any] = {
            "kind": "evaluation",
            "title": group,
            "project": project,
            "project_status": "completed",
            **{k: v[:MAX_FIELD_CHARS] for k, v in fields.items()},
            "source": {"report": report, "section": group[:300], **({"page": first.page} if first.page else {})},
        }
        everything = " ".join(fields.values())
        if orgs := organisations(everything):
            raw["organisations"] = orgs[:10]
        if areas := suggest_areas(everything):
            raw["areas"] = [a.value for a in areas]
        candidates.append(Candidate(raw=raw, reason="completed project's evaluation", page=first.page))
        used.update(indices)
    return candidates, used


def parse_report(pages: list[str], report: str, *, markdown: bool = False) -> list[Candidate]:
    """Recognise draft entries in a report's pages (pure: no files, no validation)."""
    sections = _sections(split_inline_labels(_blocks(_lines(pages, markdown))))
    candidates, used = _evaluations(report, sections)
    for i, section in enumerate(sections):
        if i in used:
            continue
        labelled: dict[str, str] = {}
        for block in section.blocks:
            label, text = _label(block)
            if label and label not in labelled:
                labelled[label] = text
        if {"formål", "løsning"} <= set(labelled):
            candidates.append(_project(report, section, labelled))
            continue
        handling, rest = _handling(report, section)
        candidates.extend(handling)
        candidates.extend(_finding(report, section, rest))
    return candidates


def report_title(pages: list[str], fallback: str) -> str:
    """The report's title: its first non-empty line that is no date or page number, when that is short; else
    ``fallback``."""
    for page in pages:
        for line in page.splitlines():
            text = " ".join(line.replace("#", " ").split())
            if not text or _FOOTER.match(text) or is_date_line(text):
                continue
            return text if len(text) <= 150 else fallback
    return fallback


def candidate_id(report: str, candidate: Candidate) -> str:
    """A deterministic id: kind, title and a hash of report, section and text."""
    raw = candidate.raw
    text = "\n".join(str(raw.get(k, "")) for k in sorted(raw) if k not in {"source", "areas", "organisations"})
    digest = hashlib.sha256(f"{report}\n{raw['source'].get('section', '')}\n{text}".encode()).hexdigest()[:8]
    return f"{slugify(str(raw['kind']), 20)}-{slugify(str(raw['title']))}-{digest}"
