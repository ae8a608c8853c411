"""Ingesting a report (PDF, plain text or Markdown) into draft entries.

The upload is checked from its first bytes (not its name), then parsed in a
subprocess (:mod:`lessons.ingest_worker`) with a time and memory limit, so a
hostile or broken file cannot hang or exhaust the app. Parsing:

1. splits the text into lines with their page (PDF pages, or form feeds in text),
   drops page footers, and joins words broken at line ends;
2. finds headings (short lines that stand alone between sentences; ``#`` lines in
   Markdown) and cuts the report into sections;
3. recognises entries: a project description (``Budget: / Formål: / Løsning:``),
   a handling example (``Udfordring: … Eksempel på håndtering: …``), a completed
   project's evaluation (``Afsluttet projekt: …`` with ``Beskrivelse`` etc.), and
   otherwise a finding per section; kind, areas, domain and sector are suggested.

Ids are deterministic (kind, title, and a hash of report, section and text), and
entries whose text already exists in the corpus are skipped, so ingesting a report
twice adds nothing. All drafts are written to a temporary folder first and moved
into place together; a failure leaves the corpus as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lessons.errors import CorpusError, IngestError
from lessons.models import MAX_FIELD_CHARS, Area, Domain, Entry, Sector, slugify
from lessons.textclean import dehyphenate, normalise
from lessons.words import labels

__all__ = [
    "Candidate",
    "IngestLimits",
    "IngestResult",
    "Skipped",
    "check_upload",
    "extract_pages",
    "ingest_bytes",
    "ingest_file",
    "parse_report",
    "sniff",
]

MB = 1024 * 1024
SUPPORTED = {".pdf": "pdf", ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown"}


@dataclass(frozen=True)
class IngestLimits:
    """Bounds on an upload and its parsing."""

    max_bytes: int = 25 * MB
    seconds: float = 60.0
    memory_mb: int = 1024
    max_pages: int = 1000


# --- checking an upload from its first bytes -----------------------------------------------------

# Magic numbers of things that are not reports, with what to call them.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "a Linux executable (ELF)"),
    (b"MZ", "a Windows executable"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable"),
    (b"\xce\xfa\xed\xfe", "a macOS executable"),
    (b"\xca\xfe\xba\xbe", "a macOS executable or Java class"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a ZIP archive (a Word, Excel or PowerPoint file is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%!PS", "a PostScript file"),
)


def sniff(data: bytes) -> str:
    """What the bytes are: 'pdf' or 'text'; raise IngestError naming anything else."""
    if data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n\f\x00").startswith(b"%PDF-"):
        return "pdf"
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            raise IngestError(f"the file is {what}, not a report; upload a PDF, .txt or .md file")
    sample = data[: 64 * 1024]
    if b"\x00" in sample:
        raise IngestError("the file is binary (it contains NUL bytes), not a PDF or text report")
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # a multi-byte character cut by the sample's end is fine
            raise IngestError(
                f"the file is neither a PDF nor UTF-8 text (undecodable byte at {exc.start}); "
                "save the report as PDF or as UTF-8 text"
            ) from None
    return "text"


def check_upload(data: bytes, name: str, limits: IngestLimits | None = None) -> str:
    """Check an upload before parsing; return its format ('pdf', 'text' or 'markdown').

    Refuses empty and oversized files, unsupported names, and files whose first
    bytes say they are something other than their name claims.
    """
    limits = limits or IngestLimits()
    shown = Path(name).name or "the upload"
    if not data:
        raise IngestError(f"{shown} is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise IngestError(f"{shown} is {len(data) / MB:.1f} MB; the limit is {limits.max_bytes / MB:.0f} MB")
    suffix = Path(name).suffix.lower()
    claimed = SUPPORTED.get(suffix)
    if claimed is None:
        raise IngestError(f"{shown}: upload a report as .pdf, .txt or .md (not {suffix or 'a file without extension'})")
    try:
        actual = sniff(data)
    except IngestError as exc:
        raise IngestError(f"{shown} is not what its name says: {exc}") from None
    if claimed == "pdf" and actual != "pdf":
        raise IngestError(f"{shown} is not a PDF: it is plain text without a PDF header; rename it .txt")
    if claimed != "pdf" and actual == "pdf":
        raise IngestError(f"{shown} is a PDF, not text; rename it .pdf")
    if claimed != "pdf" and not data.strip():
        raise IngestError(f"{shown} holds only white space")
    return claimed


# --- text extraction (runs in the worker) ----------------------------------------------------------


def _pdf_pages(data: bytes, max_pages: int) -> list[str]:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestError("the PDF is encrypted (password-protected); save an unprotected copy and upload that")
        count = len(reader.pages)
    except PdfReadError as exc:
        raise IngestError(f"the PDF cannot be read ({exc}); it may be damaged") from None
    if count == 0:
        raise IngestError("the PDF has no pages")
    if count > max_pages:
        raise IngestError(f"the PDF has {count} pages; the limit is {max_pages}")
    pages: list[str] = []
    for page in reader.pages:
        try:
            pages.append(page.extract_text() or "")
        except (PdfReadError, ValueError, KeyError, TypeError) as exc:
            raise IngestError(f"page {len(pages) + 1} of the PDF cannot be read ({exc})") from None
    if not any(p.strip() for p in pages):
        raise IngestError("the PDF has no extractable text (is it scanned images?); upload a text version")
    return pages


def extract_pages(data: bytes, fmt: str, max_pages: int = 1000) -> list[str]:
    """The text of each page: PDF pages, or a text file split at form feeds."""
    if fmt == "pdf":
        return _pdf_pages(data, max_pages)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"the file is not UTF-8 text (byte {exc.start})") from None
    return text.split("\f")


# --- segmentation ---------------------------------------------------------------------------------

_BULLET_GLYPHS = re.compile(r"^[\s]*([\uf000-\uf8ff\u2022\u25aa\u25cf\u2023\u2043\u2013\u25e6]|[-*])\s+")
_FOOTER = re.compile(r"^(?:side\s+)?\d{1,4}(?:\s*(?:af|of|/)\s*\d{1,4})?$|^page\s+\d{1,4}(?:\s+of\s+\d{1,4})?$", re.I)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LABEL = re.compile(r"^\**\s*(Udfordring|Eksempel på håndtering|Budget|Formål|Løsning)\s*:\s*\**\s*", re.I)
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
            if _FOOTER.match(text):
                continue
            heading = markdown and _MD_HEADING.match(text)
            if heading:
                out.append(Line(heading.group(2).strip(), number if paged else None, md_heading=True))
                continue
            bullet = bool(_BULLET_GLYPHS.match(raw))
            if bullet:
                text = _BULLET_GLYPHS.sub("", raw).strip()
            indent = raw[:1].isspace() and not bullet
            out.append(Line(text, number if paged else None, bullet=bullet, indent=indent))
    return _join_broken_words(out)


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


def _heading_areas(heading: str) -> tuple[Area, ...]:
    """Areas a chapter heading names: 'Data', 'Jura', 'Leverandører og kompetencer' ..."""
    low = heading.lower()
    found = []
    for value, (danish, english) in labels("area").items():
        area = Area(value)
        names = {danish.lower(), english.lower(), area.value}
        if area is Area.ETHICS:
            names |= {"dataetik"}
        if area is Area.INFRASTRUCTURE:
            names |= {"infrastruktur"}
        if any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", low) for n in names):
            found.append(area)
    return tuple(found) if len(low.split()) <= 4 else ()


def suggest_areas(text: str, limit: int = 2) -> list[Area]:
    """Areas whose key words occur at least twice in the text, most frequent first."""
    tokens = Counter(re.findall(r"[\wæøå-]+", text.lower()))
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
        name = re.sub(r"(Kommune|hospital|Hospital|Nord)s$", r"\1", name)
        name = re.sub(r"^(Region \w+)s$", r"\1", name)
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
_GRANT = re.compile(r"(\d+(?:,\d+)?) mio\. kr")


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
        raw["body"] = f"Budget. {budget}"
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
        project = re.sub(r"^afsluttet projekt:\s*", "", group, flags=re.I).strip()
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
    sections = _sections(_blocks(_lines(pages, markdown)))
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
    """The report's title: its first non-empty line when that is short, else ``fallback``."""
    for page in pages:
        for line in page.splitlines():
            text = " ".join(line.replace("#", " ").split())
            if text:
                return text if len(text) <= 150 and not _FOOTER.match(text) else fallback
    return fallback


def candidate_id(report: str, candidate: Candidate) -> str:
    """A deterministic id: kind, title and a hash of report, section and text."""
    raw = candidate.raw
    text = "\n".join(str(raw.get(k, "")) for k in sorted(raw) if k not in {"source", "areas", "organisations"})
    digest = hashlib.sha256(f"{report}\n{raw['source'].get('section', '')}\n{text}".encode()).hexdigest()[:8]
    return f"{slugify(str(raw['kind']), 20)}-{slugify(str(raw['title']), 60)}-{digest}"


# --- running the parser in a subprocess ---------------------------------------------------------


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    return env


def parse_in_subprocess(data: bytes, fmt: str, name: str, report: str | None, limits: IngestLimits) -> dict[str, Any]:
    """Run :mod:`lessons.ingest_worker` on the bytes with a time and memory limit; return its JSON answer."""
    request = {
        "format": fmt,
        "name": name,
        "report": report,
        "max_pages": limits.max_pages,
        "data": base64.b64encode(data).decode("ascii"),
    }
    command = [
        sys.executable,
        "-m",
        "lessons.ingest_worker",
        "--memory-mb",
        str(limits.memory_mb),
        "--cpu-seconds",
        str(int(limits.seconds) + 1),
    ]
    try:
        done = subprocess.run(
            command,
            input=json.dumps(request).encode("utf-8"),
            capture_output=True,
            timeout=limits.seconds,
            env=_worker_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise IngestError(
            f"reading {Path(name).name} took longer than {limits.seconds:g} s and was stopped; "
            "the file may be damaged or unusually complex"
        ) from None
    try:
        answer = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        answer = None
    if not isinstance(answer, dict):
        if done.returncode < 0 or b"MemoryError" in done.stderr:
            raise IngestError(
                f"reading {Path(name).name} was stopped: it needed more than {limits.memory_mb} MB of memory "
                f"or {limits.seconds:g} s of CPU"
            )
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise IngestError(f"reading {Path(name).name} failed ({tail[0]})")
    if not answer.get("ok"):
        raise IngestError(f"{Path(name).name}: {answer.get('message', 'cannot be read')}")
    return answer


# --- saving ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    """A recognised entry that was not saved, and why."""

    title: str
    page: int | None
    reason: str
    existing: str | None = None


@dataclass(frozen=True)
class IngestResult:
    """What an ingest found and saved."""

    report: str
    pages: int
    created: list[Entry]
    skipped: list[Skipped]
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        """Created drafts per kind."""
        return dict(Counter(e.kind.value for e in self.created))


def _write_all(root: Path, entries: list[Entry]) -> None:
    """Write every draft to a temporary folder, then move them all into place; undo on failure."""
    from lessons.corpus import entry_path, write_entry

    if not entries:
        return
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".ingest-"))
    moved: list[Path] = []
    try:
        staged = [(write_entry(staging, e), entry_path(root, e)) for e in entries]
        clash = [str(target) for _, target in staged if target.exists()]
        if clash:
            raise IngestError(f"files appeared while ingesting: {', '.join(clash[:3])}; nothing was saved")
        for source, target in staged:
            target.parent.mkdir(parents=True, exist_ok=True)
            _move(source, target)
            moved.append(target)
    except BaseException as exc:
        for target in moved:
            target.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise IngestError(f"could not save the drafts ({exc}); nothing was saved") from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move(source: Path, target: Path) -> None:
    """Move one staged file into the corpus (same file system: an atomic rename)."""
    os.replace(source, target)


def ingest_bytes(
    root: Path,
    data: bytes,
    name: str,
    *,
    by: str,
    report: str | None = None,
    limits: IngestLimits | None = None,
    dry_run: bool = False,
    keep_near_duplicates: bool = False,
) -> IngestResult:
    """Check, parse (in a subprocess) and save a report's recognised entries as drafts.

    Skips entries already ingested (same id) and entries whose text already exists
    in the corpus or earlier in this report; with ``dry_run`` nothing is written.
    """
    from lessons.corpus import load_corpus
    from lessons.curation import Thresholds, closest_entries, curation_lock, prepare_entry

    limits = limits or IngestLimits()
    fmt = check_upload(data, name, limits)
    answer = parse_in_subprocess(data, fmt, name, report, limits)
    title = str(answer["report"])
    candidates = [Candidate.from_json(c) for c in answer["candidates"]]
    thresholds = Thresholds()
    created: list[Entry] = []
    skipped: list[Skipped] = []
    with curation_lock(root):
        corpus = load_corpus(root)
        taken = set(corpus.by_id())
        known = list(corpus.entries)
        for candidate in candidates:
            raw = dict(candidate.raw)
            raw["id"] = candidate_id(title, candidate)
            label = str(raw.get("title", "?"))
            if raw["id"] in taken:
                skipped.append(Skipped(label, candidate.page, "already ingested", raw["id"]))
                continue
            where = f"{Path(name).name}" + (f" p. {candidate.page}" if candidate.page else "")
            note = f"ingested from {where} as a {candidate.reason}"
            try:
                entry = prepare_entry(raw, taken, by=by, file=where, note=note)
            except CorpusError as exc:
                skipped.append(Skipped(label, candidate.page, f"invalid: {exc.problems[0].message}"))
                continue
            if not keep_near_duplicates:
                same = [
                    m
                    for m in closest_entries(known, entry, k=3, thresholds=thresholds)
                    if m.contained >= thresholds.contained or m.jaccard >= 0.9
                ]
                if same:
                    best = same[0]
                    reason = f"text already in {best.entry.id} ({best.contained:.0%} of its words)"
                    skipped.append(Skipped(label, candidate.page, reason, best.entry.id))
                    continue
            created.append(entry)
            taken.add(entry.id)
            known.append(entry)
        if not dry_run:
            _write_all(root, created)
    return IngestResult(report=title, pages=int(answer["pages"]), created=created, skipped=skipped, dry_run=dry_run)


def ingest_file(root: Path, path: Path, *, by: str, limits: IngestLimits | None = None, **options: Any) -> IngestResult:
    """:func:`ingest_bytes` for a file on disk; its size is checked before it is read."""
    limits = limits or IngestLimits()
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise IngestError(f"{path.name} is {size / MB:.1f} MB; the limit is {limits.max_bytes / MB:.0f} MB")
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise IngestError(f"{path} is a folder; give a report file") from None
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc.strerror}") from None
    return ingest_bytes(root, data, path.name, by=by, limits=limits, **options)
