"""Answers for the chat: an extractive overview with citations, experience cards, follow-ups, export.

No language model writes anything here. An answer is

1. the question, put in the context of the previous turn when it is a short or
   elliptic follow-up (:func:`contextualise`);
2. the retrieved experiences as :class:`Card` objects, numbered from 1;
3. an overview of the two to four sentences from those experiences that best
   answer the question, each citing its card (:func:`extract_overview`).

A conversation of answers can be exported as Markdown (:func:`export_markdown`);
every piece of user or corpus text in it is escaped (:func:`escape_markdown`).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import bm25s.stopwords
import numpy as np
import numpy.typing as npt
import Stemmer

from lessons.chunking import Chunk
from lessons.embedding import Embedder
from lessons.models import (
    Area,
    Domain,
    Entry,
    Kind,
    ProjectStatus,
    Sector,
)
from lessons.search import Filters, Hit, Searcher, detect_language, expand_query, prepare_question
from lessons.textclean import split_sentences
from lessons.words import label, labels, t

__all__ = [
    "Answer",
    "Card",
    "CardSource",
    "Context",
    "OverviewSentence",
    "answer_question",
    "build_cards",
    "card_from_entry",
    "common_sentences",
    "contextualise",
    "detect_sectors",
    "escape_markdown",
    "export_markdown",
    "extract_overview",
    "filter_summary",
    "is_followup",
    "label",
    "shorten",
    "source_line",
]

# --- Markdown escaping -------------------------------------------------------------------------

# Characters that start Markdown syntax anywhere in a line: emphasis, code, links and
# images, HTML and autolinks, tables, strike-through, maths ($), entities (&), and
# Streamlit's ``:red[...]`` / ``:emoji:`` directives (a colon glued to the next character);
# '@' and the dot of 'www.' stop GFM's bare e-mail and web autolinks.
# The rest only matter at the start of a paragraph (headings, lists, block quotes).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~$&#@])|(:)(?=\S)|(?<=\bwww)(\.)")
_MD_LINE_START = re.compile(r"^([-+=>]|\d+(?=[.)]))")
_BLANK_LINES = re.compile(r"\n\s*\n")


def _escape_paragraph(text: str) -> str:
    escaped = _MD_INLINE.sub(lambda m: "\\" + m.group(0), text)
    return _MD_LINE_START.sub(lambda m: m.group(0) + "\\" if m.group(0)[0].isdigit() else "\\" + m.group(0), escaped)


def escape_markdown(text: str) -> str:
    """Text that Markdown (and st.markdown) renders literally: no emphasis, links, HTML or code.

    Paragraph breaks are kept; other line breaks and runs of white space become one
    space, so an indented line can never turn into a code block. Ordinary prose
    ('CE-mærkning (MDR)?') stays readable: only syntax characters are escaped.
    """
    paragraphs = [" ".join(p.split()) for p in _BLANK_LINES.split(text)]
    return "\n\n".join(_escape_paragraph(p) for p in paragraphs if p)


# --- labels ------------------------------------------------------------------------------------


def filter_summary(filters: Filters, lang: str) -> list[str]:
    """The active filters as readable labels, e.g. ['Jura', 'Region']."""
    out: list[str] = []
    for vocabulary, values in (
        ("kind", filters.kinds),
        ("area", filters.areas),
        ("sector", filters.sectors),
        ("domain", filters.domains),
        ("status", filters.statuses),
    ):
        out.extend(label(vocabulary, v.value, lang) for v in sorted(values))
    return out


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ0-9\"“(])")


def shorten(text: str, max_words: int) -> str:
    """The text cut to about ``max_words`` words, at a sentence end when one is near; '…' marks a cut.

    A sentence end is a full stop followed by a capital, so 'bl.a. de' or 'ca. 66' are not ends.
    """
    words = text.split()
    if len(words) <= max_words:
        return " ".join(words)
    cut = " ".join(words[:max_words])
    ends = [m.start() for m in _SENTENCE_BREAK.finditer(cut)]
    if ends and ends[-1] > len(cut) * 0.6:
        return cut[: ends[-1]]
    return cut.rstrip(",;:–-") + " …"


# --- cards -------------------------------------------------------------------------------------


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


def _enum_or_none(enum: type[Sector] | type[Domain] | type[ProjectStatus], value: object) -> object:
    try:
        return enum(str(value)) if value else None
    except ValueError:
        return None


def _card_from_chunk(number: int, hit: Hit) -> Card:
    """A card from the index alone, when the corpus no longer has the entry."""
    meta = hit.chunk.meta
    source = meta.get("source") or {}
    areas = []
    for raw in meta.get("areas") or ():
        try:
            areas.append(Area(raw))
        except ValueError:
            continue
    sector = _enum_or_none(Sector, meta.get("sector"))
    domain = _enum_or_none(Domain, meta.get("domain"))
    status = _enum_or_none(ProjectStatus, meta.get("project_status"))
    try:
        kind = Kind(str(meta.get("kind")))
    except ValueError:
        kind = Kind.FINDING
    return Card(
        number=number,
        entry_id=hit.chunk.entry_id,
        kind=kind,
        title=str(meta.get("title") or hit.chunk.entry_id),
        source=CardSource(
            report=str(source.get("report") or ""), section=source.get("section"), page=source.get("page")
        ),
        fields=(("body", hit.chunk.body),),
        excerpt=hit.chunk.body,
        score=hit.score,
        areas=tuple(areas),
        sector=sector if isinstance(sector, Sector) else None,
        domain=domain if isinstance(domain, Domain) else None,
        project=meta.get("project"),
        organisations=tuple(meta.get("organisations") or ()),
        project_status=status if isinstance(status, ProjectStatus) else None,
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


# --- the extractive overview -------------------------------------------------------------------


@dataclass(frozen=True)
class OverviewSentence:
    """A sentence quoted from a card, with the card's number as citation."""

    text: str
    card: int
    score: float


_STEMMER = Stemmer.Stemmer("danish")
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_DANISH) | frozenset(bm25s.stopwords.STOPWORDS_EN_PLUS)
_TOKEN = re.compile(r"\w+", re.UNICODE)
_FIELD_PREFIX = re.compile(
    "^(?:" + "|".join(re.escape(da) for da, _ in labels("field").values()) + r"):\s*", re.IGNORECASE
)

MIN_SENTENCE_WORDS = 4
MAX_SENTENCE_WORDS = 70
SENTENCES_PER_HIT = 3
MAX_CANDIDATES = 12
LEXICAL_WEIGHT = 0.15
EXPANSION_SHARE = 0.5
RANK_WEIGHT = 0.04
SCORE_MARGIN = 0.06
DUPLICATE_OVERLAP = 0.6
VECTOR_CACHE_SIZE = 4096
BOILERPLATE_ENTRIES = 3


def _stems(text: str) -> set[str]:
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    return set(_STEMMER.stemWords([t for t in tokens if t not in _STOPWORDS and len(t) > 1]))


def _sentences(body: str) -> list[str]:
    """A chunk body's sentences, without the 'Udfordring:'-style field labels."""
    out = []
    for paragraph in _BLANK_LINES.split(body):
        text = _FIELD_PREFIX.sub("", " ".join(paragraph.split()))
        for sentence in split_sentences(text):
            if len(sentence.split()) >= MIN_SENTENCE_WORDS:
                out.append(shorten(sentence, MAX_SENTENCE_WORDS))
    return out


class _VectorCache:
    """Sentence vectors by (model, sentence): cards recur across questions, so most sentences embed once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors for texts (as passages), embedding only those not seen before."""
        keys = [(embedder.fingerprint, text) for text in texts]
        with self._lock:
            missing = [key[1] for key in dict.fromkeys(keys) if key not in self._vectors]
        if missing:
            fresh = embedder.embed_documents(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._vectors[(embedder.fingerprint, text)] = vector
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        with self._lock:
            found = [self._vectors.get(key) for key in keys]
        if any(v is None for v in found):  # evicted meanwhile by a concurrent session: embed directly
            return embedder.embed_documents(list(texts))
        return np.stack([v for v in found if v is not None]).astype(np.float32)


_VECTORS = _VectorCache(VECTOR_CACHE_SIZE)


@dataclass
class _Candidate:
    text: str
    card: int
    position: int
    lexical: float
    stems: set[str]
    score: float = 0.0


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def common_sentences(chunks: Iterable[Chunk]) -> frozenset[str]:
    """Sentences found in three or more entries: boilerplate (e.g. the advice entries' shared introduction)."""
    entries_of: dict[str, set[str]] = {}
    for chunk in chunks:
        for sentence in _sentences(chunk.body):
            entries_of.setdefault(sentence, set()).add(chunk.entry_id)
    return frozenset(sentence for sentence, ids in entries_of.items() if len(ids) >= BOILERPLATE_ENTRIES)


_COMMON: dict[str, frozenset[str]] = {}


def _common_for(searcher: Searcher) -> frozenset[str]:
    """common_sentences of a searcher's index, computed once per index version."""
    common = _COMMON.get(searcher.version)
    if common is None:
        common = common_sentences(searcher.chunks)
        if len(_COMMON) >= 4:
            _COMMON.clear()
        _COMMON[searcher.version] = common
    return common


def _candidates(query: str, hits: Sequence[Hit], skip: Collection[str]) -> list[_Candidate]:
    """Each hit's few sentences that overlap the query most (then the earliest), best hits first.

    A sentence in ``skip``, or one that recurs in several hits, is boilerplate and skipped.
    """
    own = _stems(query)
    expansion = _stems(" ".join(expand_query(query))) - own
    per_hit_sentences = [(hit.rank, _sentences(hit.chunk.body)) for hit in hits]
    seen_in: dict[str, set[int]] = {}
    for rank, sentences in per_hit_sentences:
        for sentence in sentences:
            seen_in.setdefault(sentence, set()).add(rank)
    out: list[_Candidate] = []
    for rank, sentences in per_hit_sentences:
        scored = []
        for position, sentence in enumerate(sentences):
            if len(seen_in[sentence]) > 1 or sentence in skip:
                continue
            stems = _stems(sentence)
            matched = len(stems & own) + EXPANSION_SHARE * len(stems & expansion)
            scored.append(_Candidate(sentence, rank, position, min(1.0, matched / max(1, len(own))), stems))
        scored.sort(key=lambda c: (-c.lexical, c.position))
        out.extend(scored[:SENTENCES_PER_HIT])
    return out[:MAX_CANDIDATES]


def extract_overview(
    query: str,
    query_vector: npt.NDArray[np.float32] | None,
    hits: Sequence[Hit],
    embedder: Embedder | None,
    *,
    min_sentences: int = 2,
    max_sentences: int = 4,
    skip: Collection[str] = frozenset(),
) -> list[OverviewSentence]:
    """The 2–4 sentences of the hits that best answer the query, each citing its hit's rank.

    Each hit's sentences are pre-ranked by lexical overlap with the query (stemmed;
    glossary expansions count half, so English questions still meet Danish terms);
    the best few are embedded (cached) and scored by cosine against the query
    vector, plus a little for lexical overlap and for the hit's rank. Near-duplicates
    are dropped and one card gives at most two sentences. Without an embedder the
    lexical overlap alone decides. Sentences in ``skip`` (boilerplate) are never quoted.
    """
    candidates = _candidates(query, hits, skip)
    if not candidates:
        return []
    dense = np.zeros(len(candidates), dtype=np.float32)
    if embedder is not None and query_vector is not None:
        vectors = _VECTORS.embed(embedder, [c.text for c in candidates])
        dense = (vectors @ query_vector.astype(np.float32)).astype(np.float32)
    for candidate, cosine in zip(candidates, dense, strict=True):
        candidate.score = float(cosine) + LEXICAL_WEIGHT * candidate.lexical + RANK_WEIGHT / candidate.card
    candidates.sort(key=lambda c: -c.score)
    chosen: list[_Candidate] = []
    per_card: dict[int, int] = {}
    best = candidates[0].score
    for candidate in candidates:
        if len(chosen) >= max_sentences:
            break
        if len(chosen) >= min_sentences and candidate.score < best - SCORE_MARGIN:
            break
        if per_card.get(candidate.card, 0) >= 2:
            continue
        if any(_overlap(candidate.stems, c.stems) >= DUPLICATE_OVERLAP for c in chosen):
            continue
        chosen.append(candidate)
        per_card[candidate.card] = per_card.get(candidate.card, 0) + 1
    return [OverviewSentence(text=c.text, card=c.card, score=round(c.score, 6)) for c in chosen]


# --- follow-up questions -----------------------------------------------------------------------

_FOLLOWUP_START = re.compile(
    r"^(?:hvad så med|hvad med|hvordan med|hvad hvis|og|men|også|samt|end|"
    r"what about|how about|what if|and|but|also|plus)\b",
    re.IGNORECASE,
)
_PRONOUNS = frozenset(
    "de dem deres disse dette denne dens dets heraf deraf they them their theirs those these it its".split()
)
SHORT_FOLLOWUP_WORDS = 4
PRONOUN_FOLLOWUP_WORDS = 7

_SECTOR_PATTERNS: tuple[tuple[Sector, re.Pattern[str]], ...] = (
    (Sector.MUNICIPALITY, re.compile(r"\b(?:kommun\w*|municipal\w*)", re.IGNORECASE)),
    (Sector.REGION, re.compile(r"\bregion\w*", re.IGNORECASE)),
    (Sector.CROSS, re.compile(r"\b(?:tværgående|tværkommunal\w*|cross[- ]sector\w*|across sectors)", re.IGNORECASE)),
)


def detect_sectors(text: str) -> frozenset[Sector]:
    """The sectors a text names: 'i kommunerne' → municipality, 'in the regions' → region."""
    return frozenset(sector for sector, pattern in _SECTOR_PATTERNS if pattern.search(text))


@dataclass(frozen=True)
class Context:
    """How a question is searched: on its own, or with the previous question as context."""

    query: str
    followup: bool
    sectors: frozenset[Sector] = frozenset()


def is_followup(question: str) -> bool:
    """Whether a question reads as a follow-up of the previous one.

    It does when it opens with a marker ('hvad med', 'og', 'what about', 'and'), when
    it is elliptic (at most four words with at most one content word: 'i kommunerne?',
    'hvad kostede det?'), or when it is short and leans on a pronoun ('hvordan
    håndterede de det juridiske?').
    """
    words = [w.lower() for w in _TOKEN.findall(question)]
    if not words:
        return False
    if _FOLLOWUP_START.match(question.strip()):
        return True
    content = [w for w in words if w not in _STOPWORDS and not w.isdigit()]
    if len(words) <= SHORT_FOLLOWUP_WORDS and len(content) <= 1:
        return True
    return len(words) <= PRONOUN_FOLLOWUP_WORDS and any(w in _PRONOUNS for w in words)


def contextualise(question: str, previous_query: str | None, max_chars: int = 2000) -> Context:
    """Put a follow-up in the context of the previous turn.

    A follow-up is searched as the previous (effective) question plus the follow-up,
    and a sector it names ('i kommunerne', 'in the regions') becomes that turn's
    sector filter. Anything else is searched as asked.
    """
    if not previous_query or not is_followup(question):
        return Context(query=question, followup=False)
    room = max_chars - len(question) - 1
    context = previous_query[-room:] if room > 0 else ""
    query = f"{context} {question}".strip() if context else question
    return Context(query=query, followup=True, sectors=detect_sectors(question))


# --- answering ---------------------------------------------------------------------------------


@dataclass
class Answer:
    """One turn of the conversation: the question, how it was searched, and what came back."""

    question: str
    query: str
    followup: bool
    language: str
    filters: Filters
    no_match: bool
    cards: list[Card]
    overview: list[OverviewSentence]
    index_version: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    asked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    sector_from_question: frozenset[Sector] = frozenset()

    @property
    def entry_ids(self) -> list[str]:
        """The cited entries, in card order."""
        return [card.entry_id for card in self.cards]


def answer_question(
    searcher: Searcher,
    question: str,
    *,
    entries: Mapping[str, Entry],
    filters: Filters | None = None,
    previous: Answer | None = None,
    k: int = 5,
) -> Answer:
    """Answer one question (maybe a follow-up of ``previous``) with cards and a cited overview.

    A follow-up that names a sector replaces the sector filter for this answer only.
    Raises QuestionError for an empty or over-long question.
    """
    text = prepare_question(question, searcher.max_question_chars)
    context = contextualise(text, previous.query if previous else None, searcher.max_question_chars)
    turn_filters = filters or Filters()
    if context.sectors:
        turn_filters = replace(turn_filters, sectors=context.sectors)
    vector = searcher.embed(context.query)
    result = searcher.search(context.query, k, filters=turn_filters, vector=vector)
    cards = build_cards(result.hits, entries)
    overview = (
        []
        if result.no_match
        else extract_overview(context.query, vector, result.hits, searcher.embedder, skip=_common_for(searcher))
    )
    return Answer(
        question=text,
        query=context.query,
        followup=context.followup,
        language=detect_language(text),
        filters=turn_filters,
        no_match=result.no_match,
        cards=cards,
        overview=overview,
        index_version=searcher.version,
        sector_from_question=context.sectors,
    )


# --- export ------------------------------------------------------------------------------------


def source_line(source: CardSource, lang: str) -> str:
    """'Status på signaturprojekterne 2022, afsnit …, s. 12' (plain text, not escaped)."""
    parts = [source.report]
    if source.section:
        parts.append(f"{t('section', lang)} {source.section}")
    if source.page:
        parts.append(f"{t('page', lang)} {source.page}")
    return ", ".join(p for p in parts if p)


def _card_markdown(card: Card, lang: str) -> list[str]:
    e = escape_markdown
    meta = [label("kind", card.kind.value, lang)]
    meta += [label("area", a.value, lang) for a in card.areas]
    if card.project_name:
        meta.append(f"{t('project', lang)}: {card.project_name}")
    meta += list(card.organisations)
    lines = [f"**\\[{card.number}\\] {e(card.title)}**  ", e(" · ".join(meta)) + "  "]
    lines.append(f"*{t('source', lang)}: {e(source_line(card.source, lang))}*")
    lines.append("")
    for name, text in card.key_fields:
        lines.append(f"> **{e(label('field', name, lang))}:** {e(' '.join(text.split()))}")
        lines.append(">")
    if lines[-1] == ">":
        lines.pop()
    lines.append("")
    return lines


def export_markdown(answers: Sequence[Answer], lang: str = "da", *, now: datetime | None = None) -> str:
    """The conversation as a Markdown document: questions, cited overviews, cards with sources."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    versions = sorted({a.index_version for a in answers if a.index_version})
    header = f"{t('export_exported', lang)} {stamp}"
    if versions:
        header += f" · {t('export_index', lang)} {', '.join(versions)}"
    lines = [f"# {t('export_title', lang)}", "", header, ""]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {t('export_question', lang)}: {escape_markdown(answer.question)}", ""]
        if answer.followup:
            lines += [f"*{t('export_searched_as', lang)}: {escape_markdown(answer.query)}*", ""]
        if answer.filters.active:
            lines += [
                f"*{t('filters', lang)}: {escape_markdown(', '.join(filter_summary(answer.filters, lang)))}*",
                "",
            ]
        if answer.no_match:
            lines += [t("export_no_match", lang), ""]
            continue
        if answer.overview:
            lines += [f"**{t('overview', lang)}**", ""]
            lines += [f"- {escape_markdown(s.text)} \\[{s.card}\\]" for s in answer.overview]
            lines.append("")
        lines += [f"### {t('experiences', lang)}", ""]
        for card in answer.cards:
            lines += _card_markdown(card, lang)
    return "\n".join(lines).rstrip() + "\n"
