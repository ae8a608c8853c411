"""The briefing: what the corpus says a project like the team's will meet, in the order they meet it.

No language model writes anything here. A briefing is assembled from

1. the rules that fire for the profile (:mod:`lessons.briefing.rules`): each is a
   likely challenge with the profile facts that make it likely, the lesson that
   motivates it, and handling examples, the rule's own and those the search finds
   in its area for the team's description;
2. the advice those rules name, as a checklist;
3. the signature projects most like the team's (:mod:`lessons.similar`), with what
   happened to them, quoted from their evaluations;
4. the questions to settle before starting, each with the lesson it comes from;
5. the gaps: parts of the profile the corpus has nothing for.

Every quoted text is an entry of the corpus, cited by number like the chat's
cards. An entry marked ``superseded_by`` a newer one is replaced by the newer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

from lessons.abstention import Confidence
from lessons.answering import Card, card_from_entry
from lessons.briefing.profile import ProjectProfile
from lessons.briefing.rules import Match, OutcomeCues, Question, Reason, Rule, RuleSet
from lessons.feedback import record_gap
from lessons.models import Area, Domain, Entry, Kind, ProjectStatus, Sector
from lessons.search import Filters, Searcher
from lessons.similar import SimilarProject, find_similar_projects
from lessons.text import split_sentences, words

__all__ = [
    "AdviceItem",
    "Briefing",
    "Challenge",
    "Cited",
    "Example",
    "Gap",
    "GapKind",
    "Outcome",
    "QuestionItem",
    "SimilarBrief",
    "classify_outcome",
    "generate_briefing",
    "log_gaps",
]

MAX_SIMILAR = 5
MIN_SIMILAR = 3
SEARCH_DEPTH = 8
MAX_SUPERSEDE_STEPS = 20
MAX_OUTCOME_SENTENCES = 2


@dataclass(frozen=True)
class Cited:
    """A corpus entry the briefing quotes, with its citation number."""

    number: int
    entry: Entry
    replaces: tuple[str, ...] = ()  # older entries this one supersedes, when it was chosen in their place

    @property
    def card(self) -> Card:
        """The entry as a card (the chat's shape), numbered for citing."""
        return card_from_entry(self.number, self.entry)

    @property
    def legal(self) -> bool:
        """Whether the entry is about law (its lesson may have aged most)."""
        return Area.LAW in self.entry.areas

    @property
    def as_of(self) -> date | None:
        """When the situation its source describes held."""
        return self.entry.as_of


class _Citations:
    """Numbers entries in order of first citation; the same entry keeps its number."""

    def __init__(self) -> None:
        self.by_id: dict[str, Cited] = {}

    def cite(self, entry: Entry, replaces: tuple[str, ...] = ()) -> Cited:
        found = self.by_id.get(entry.id)
        if found is None:
            found = Cited(number=len(self.by_id) + 1, entry=entry, replaces=replaces)
            self.by_id[entry.id] = found
        return found

    def all(self) -> list[Cited]:
        return sorted(self.by_id.values(), key=lambda c: c.number)


@dataclass(frozen=True)
class Example:
    """A handling example for a challenge: what a team did, cited."""

    cited: Cited
    same_domain: bool


@dataclass(frozen=True)
class Challenge:
    """A likely challenge for the profile: why, and what other teams did about it."""

    rule: Rule
    reasons: tuple[Reason, ...]
    lesson: Cited | None
    examples: tuple[Example, ...]

    @property
    def area(self) -> Area:
        """The challenge area."""
        return self.rule.area

    @property
    def legal(self) -> bool:
        """A legal challenge: its lessons are shown with their date and a note that rules change."""
        return self.rule.legal or any(e.cited.legal for e in self.examples)


@dataclass(frozen=True)
class AdviceItem:
    """A piece of good advice that applies, with the challenges that make it apply."""

    cited: Cited
    because: tuple[Rule, ...]


class Outcome(StrEnum):
    """What happened to a signature project, as far as the report tells."""

    DEPLOYED = "deployed"  # put into operation
    PROTOTYPE = "prototype"  # completed with a prototype, not (yet) in operation
    STOPPED = "stopped"  # ended without a solution in operation
    COMPLETED = "completed"  # completed; the evaluation does not say whether it went into operation
    ONGOING = "ongoing"  # still running at the time of the report


@dataclass(frozen=True)
class SimilarBrief:
    """A signature project like the team's: what happened to it and why, quoted from its evaluation."""

    project: SimilarProject
    cited: Cited
    evaluation: Cited | None
    outcome: Outcome
    evidence: tuple[str, ...]  # sentences quoted from the evaluation (cited by ``evaluation``)
    lessons: tuple[Cited, ...]
    same_domain: bool
    same_sector: bool
    nearest_completed: bool = False  # added as the nearest completed project, when none of the nearest had finished


@dataclass(frozen=True)
class QuestionItem:
    """A question to settle before starting, with the lesson it comes from."""

    question: Question
    lesson: Cited | None
    rule: Rule


class GapKind(StrEnum):
    """What the corpus lacks for a part of the profile."""

    SECTOR = "sector"  # no signature project was run by this sector
    DOMAIN_SECTOR = "domain_sector"  # no project in this domain run by this sector
    DESCRIPTION = "description"  # nothing in the corpus resembles the description
    EXAMPLES = "examples"  # a likely challenge without any handling example


@dataclass(frozen=True)
class Gap:
    """A part of the profile the corpus has nothing for."""

    kind: GapKind
    field: str
    value: str
    rule: Rule | None = None


@dataclass
class Briefing:
    """Everything a team should know before starting, drawn from the corpus and cited."""

    profile: ProjectProfile
    order_lesson: Cited | None
    challenges: list[Challenge]
    advice: list[AdviceItem]
    similar: list[SimilarBrief]
    questions: list[QuestionItem]
    gaps: list[Gap]
    sources: list[Cited]
    index_version: str
    description_confidence: Confidence = Confidence.MATCH  # how well the corpus matches the description
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def areas(self) -> list[Area]:
        """The likely challenge areas, in the order a team meets them."""
        return list(dict.fromkeys(c.area for c in self.challenges))

    @property
    def as_of_years(self) -> list[int]:
        """The years the cited sources describe."""
        return sorted({c.as_of.year for c in self.sources if c.as_of is not None})

    @property
    def has_legal(self) -> bool:
        """Whether the briefing quotes legal lessons (shown with a note that rules may have changed)."""
        return any(c.legal for c in self.challenges) or any(c.legal for c in self.sources)


# --- helpers -----------------------------------------------------------------------------------


def _current(entry: Entry, entries: Mapping[str, Entry]) -> tuple[Entry, tuple[str, ...]]:
    """The newest retrievable entry that supersedes ``entry`` (itself when none), and the ids it replaces."""
    replaced: list[str] = []
    current = entry
    for _ in range(MAX_SUPERSEDE_STEPS):
        newer = entries.get(current.superseded_by) if current.superseded_by else None
        if newer is None or newer.id in replaced or newer.id == entry.id:
            break
        replaced.append(current.id)
        current = newer
    return current, tuple(replaced)


def _cite_id(citations: _Citations, entry_id: str, entries: Mapping[str, Entry]) -> Cited | None:
    entry = entries.get(entry_id)
    if entry is None:
        return None
    current, replaced = _current(entry, entries)
    return citations.cite(current, replaced)


def _query(searcher: Searcher, *parts: str) -> str:
    """Parts joined into one search text that fits the searcher's limit (the later parts are cut)."""
    room = searcher.max_question_chars
    out: list[str] = []
    for part in parts:
        text = " ".join(part.split())[: max(0, room)]
        if text:
            out.append(text)
            room -= len(text) + 1
    return " ".join(out)


def _examples(
    match: Match,
    *,
    profile: ProjectProfile,
    searcher: Searcher,
    entries: Mapping[str, Entry],
    citations: _Citations,
    shown: set[str],
) -> tuple[Example, ...]:
    """The rule's own examples first, then the best search hits in its area; examples shown already come last."""
    rule = match.rule
    candidates: list[Entry] = [entries[i] for i in rule.examples if i in entries]
    if rule.search:
        filters = Filters(kinds=frozenset(rule.search_kinds), areas=frozenset({rule.area}))
        result = searcher.search(_query(searcher, rule.search, profile.description), SEARCH_DEPTH, filters=filters)
        hits = [entries[h.chunk.entry_id] for h in result.hits if h.chunk.entry_id in entries]
        # Examples from projects in the team's own domain first, otherwise in the searcher's order.
        hits.sort(key=lambda e: e.domain is not profile.domain)
        candidates += hits
    resolved: dict[str, tuple[Entry, tuple[str, ...]]] = {}
    for entry in candidates:
        current, replaced = _current(entry, entries)
        resolved.setdefault(current.id, (current, replaced))
    fresh = [pair for entry_id, pair in resolved.items() if entry_id not in shown]  # dicts keep their order
    again = [pair for entry_id, pair in resolved.items() if entry_id in shown]
    # Examples shown under an earlier challenge are repeated only when there is nothing new.
    chosen = fresh[: rule.max_examples] or again[:1]
    out = []
    for entry, replaced in chosen:
        shown.add(entry.id)
        out.append(Example(cited=citations.cite(entry, replaced), same_domain=entry.domain is profile.domain))
    return tuple(out)


# --- what happened to a project ------------------------------------------------------------------


def _phrase(text: str) -> str:
    """Lower-case words separated by single spaces, padded, so cues match whole words only."""
    return " " + " ".join(words(text)) + " "


def _has(sentence: str, cues: Iterable[str]) -> bool:
    return any(_phrase(cue) in sentence for cue in cues)


def classify_outcome(
    evaluation: Entry | None, status: ProjectStatus | None, cues: OutcomeCues
) -> tuple[Outcome, tuple[str, ...]]:
    """What happened to a project, and the sentences of its evaluation that say so (in reading order).

    A sentence with a ``stopped`` cue says it ended without a solution in operation; one
    with a ``deployed`` cue and no negation says it went into operation; otherwise a
    ``prototype`` cue says it stopped at a prototype; a sentence with a ``reasons`` cue is
    added as the why. Without an evaluation, the
    project was ongoing (or completed without an evaluation in the report).
    """
    if evaluation is None:
        return (Outcome.COMPLETED if status is ProjectStatus.COMPLETED else Outcome.ONGOING), ()
    sentences = [s for _, text in evaluation.text_fields() for s in split_sentences(text)]
    stopped, deployed, prototype = [], [], []
    for sentence in sentences:
        lowered = _phrase(sentence)
        if _has(lowered, cues.stopped):
            stopped.append(sentence)
        elif _has(lowered, cues.deployed) and not _has(lowered, cues.negations):
            deployed.append(sentence)
        elif _has(lowered, cues.prototype):
            prototype.append(sentence)
    if stopped:
        outcome, evidence = Outcome.STOPPED, stopped
    elif deployed:
        outcome, evidence = Outcome.DEPLOYED, deployed
    elif prototype:
        outcome, evidence = Outcome.PROTOTYPE, prototype
    else:
        outcome, evidence = Outcome.COMPLETED, sentences[:1]
    chosen = evidence[:MAX_OUTCOME_SENTENCES]
    why = next((s for s in sentences if s not in chosen and _has(_phrase(s), cues.reasons)), None)
    if why is not None:  # the sentence that says why, in reading order with the others
        chosen = sorted([*chosen, why], key=sentences.index)
    return outcome, tuple(chosen)


def _similar(
    profile: ProjectProfile,
    searcher: Searcher,
    entries: Mapping[str, Entry],
    rules: RuleSet,
    citations: _Citations,
) -> list[SimilarBrief]:
    """The 3–5 projects most like the team's: same domain and sector first, then same domain, then any."""
    sector = profile.sector.corpus_sector
    passes: list[tuple[tuple[Domain, ...], tuple[Sector, ...], int]] = []
    if sector is not None:
        passes.append(((profile.domain,), (sector,), MAX_SIMILAR))
    passes += [((profile.domain,), (), MAX_SIMILAR), ((), (), MIN_SIMILAR)]
    found: list[SimilarProject] = []
    for domains, sectors, limit in passes:
        if len(found) >= limit:
            continue
        for project in find_similar_projects(
            searcher, profile.description, entries, k=MAX_SIMILAR, domains=domains, sectors=sectors
        ):
            if len(found) >= limit:
                break
            if all(project.title != f.title for f in found):
                found.append(project)
    nearest_completed: str | None = None
    if not any(p.evaluation is not None for p in found):
        # A team learns most from a project that finished: add the nearest one in the team's domain.
        for project in find_similar_projects(searcher, profile.description, entries, k=20, domains=(profile.domain,)):
            if project.evaluation is not None:
                found = [*found[: MAX_SIMILAR - 1], project]
                nearest_completed = project.title
                break
    out = []
    for project in found:
        main, main_replaced = _current(project.main, entries)
        evaluation = project.evaluation
        outcome, evidence = classify_outcome(evaluation, project.status, rules.outcomes)
        out.append(
            SimilarBrief(
                project=project,
                cited=citations.cite(main, main_replaced),
                evaluation=citations.cite(evaluation) if evaluation is not None else None,
                outcome=outcome,
                evidence=evidence,
                lessons=tuple(citations.cite(*_current(lesson, entries)) for lesson in project.lessons),
                same_domain=project.domain is profile.domain,
                same_sector=sector is not None and project.sector is sector,
                nearest_completed=project.title == nearest_completed,
            )
        )
    return out


# --- gaps ----------------------------------------------------------------------------------------


def _gaps(
    profile: ProjectProfile, confidence: Confidence, entries: Mapping[str, Entry], challenges: Sequence[Challenge]
) -> list[Gap]:
    projects = [e for e in entries.values() if e.kind in (Kind.PROJECT, Kind.EVALUATION)]
    gaps: list[Gap] = []
    sector = profile.sector.corpus_sector
    if sector is None or not any(p.sector is sector for p in projects):
        gaps.append(Gap(GapKind.SECTOR, "sector", profile.sector.value))
    elif not any(p.sector is sector and p.domain is profile.domain for p in projects):
        gaps.append(Gap(GapKind.DOMAIN_SECTOR, "domain", f"{profile.domain.value}/{profile.sector.value}"))
    if confidence is Confidence.NO_MATCH:  # the no-match decision of lessons.abstention
        gaps.append(Gap(GapKind.DESCRIPTION, "description", " ".join(profile.description.split()[:12])))
    gaps += [
        Gap(GapKind.EXAMPLES, "rule", challenge.rule.id, rule=challenge.rule)
        for challenge in challenges
        if not challenge.examples
    ]
    return gaps


# --- the briefing --------------------------------------------------------------------------------


def generate_briefing(
    profile: ProjectProfile,
    searcher: Searcher,
    entries: Mapping[str, Entry],
    rules: RuleSet,
) -> Briefing:
    """The briefing for a profile, from the retrievable ``entries`` and the index behind ``searcher``.

    Raises QuestionError when the description cannot be searched (e.g. too long for the searcher).
    """
    citations = _Citations()
    order_lesson = _cite_id(citations, rules.area_order.lesson, entries)
    shown: set[str] = set()
    challenges = []
    for match in rules.match(profile):
        lesson = _cite_id(citations, match.rule.lesson, entries)
        examples = _examples(
            match, profile=profile, searcher=searcher, entries=entries, citations=citations, shown=shown
        )
        challenges.append(Challenge(rule=match.rule, reasons=match.reasons, lesson=lesson, examples=examples))

    advice_rules: dict[str, list[Rule]] = {}
    for challenge in challenges:
        for advice_id in challenge.rule.advice:
            advice_rules.setdefault(advice_id, []).append(challenge.rule)
    advice = []
    for advice_id in sorted(advice_rules):
        cited = _cite_id(citations, advice_id, entries)
        if cited is not None:
            advice.append(AdviceItem(cited=cited, because=tuple(advice_rules[advice_id])))

    similar = _similar(profile, searcher, entries, rules, citations)
    confidence = searcher.search(profile.description, 1).confidence  # does the corpus know projects like this?

    questions = []
    seen_questions: set[str] = set()
    for challenge in challenges:
        for question in challenge.rule.questions:
            if question.da in seen_questions:
                continue
            seen_questions.add(question.da)
            lesson = _cite_id(citations, question.lesson, entries)
            questions.append(QuestionItem(question=question, lesson=lesson, rule=challenge.rule))

    return Briefing(
        profile=profile,
        order_lesson=order_lesson,
        challenges=challenges,
        advice=advice,
        similar=similar,
        questions=questions,
        gaps=_gaps(profile, confidence, entries, challenges),
        description_confidence=confidence,
        sources=citations.all(),
        index_version=searcher.version,
    )


def log_gaps(data_dir: Path, briefing: Briefing, describe: Mapping[GapKind, str] | None = None) -> int:
    """Record the briefing's gaps in the gap log, so curators see what the corpus lacks. Returns how many."""
    profile = briefing.profile
    for gap in briefing.gaps:
        label = (describe or {}).get(gap.kind, gap.kind.value)
        record_gap(
            data_dir,
            f"Projektbriefing «{profile.title}»: {label} ({gap.field}: {gap.value})",
            query=profile.description,
            language="da",
            filters={"briefing": [f"{gap.field}={gap.value}"]},
            index_version=briefing.index_version,
        )
    return len(briefing.gaps)
