"""Follow-up questions: whether a question leans on the previous turn, and how it is searched."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lessons.models import Kind, Sector
from lessons.text import stopwords, tokens

__all__ = ["Context", "Focus", "contextualise", "detect_focus", "detect_sectors", "is_followup"]

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


@dataclass(frozen=True)
class Focus:
    """Where a follow-up moves the answer: towards some kinds of entry, away from some fields' sentences."""

    name: str
    kinds: frozenset[Kind]
    skip_fields: frozenset[str] = frozenset()


# First match wins; each pattern is a short alternation of literal phrases (linear time on any input).
_FOCUS_PATTERNS: tuple[tuple[re.Pattern[str], Focus], ...] = (
    (
        re.compile(
            r"\b(?:hvilke (?:andre )?projekt\w*|hvilket projekt|hvem (?:gjorde|har gjort|lavede)|"
            r"which (?:other )?projects?|what projects?|who did)\b",
            re.IGNORECASE,
        ),
        Focus("projects", frozenset({Kind.PROJECT, Kind.EVALUATION})),
    ),
    (
        re.compile(
            r"\b(?:hvad kom der ud af|hvad blev resultat\w*|hvordan gik det|resultat\w*|gevinst\w*|effekt\w*|"
            r"what came of|how did it go|outcomes?|results?|gains?|benefits?)\b",
            re.IGNORECASE,
        ),
        Focus("outcome", frozenset({Kind.EVALUATION, Kind.HANDLING}), frozenset({"challenge", "purpose"})),
    ),
    (
        re.compile(
            r"\b(?:hvad gjorde|hvad har \w+ gjort|hvordan (?:gjorde|håndterede|løste|klarede|greb)|konkret\w*|"
            r"i praksis|what did \w+ do|how did \w+ (?:handle|solve|deal|do|tackle)|in practice|concretely)\b",
            re.IGNORECASE,
        ),
        Focus("handling", frozenset({Kind.HANDLING, Kind.EVALUATION}), frozenset({"challenge", "purpose"})),
    ),
)


def detect_focus(text: str) -> Focus | None:
    """What a follow-up asks for: 'hvad gjorde de?' → handling examples and outcomes, 'hvilke projekter?' →
    project cards, 'hvad kom der ud af det?' → outcomes; None when it asks for nothing in particular."""
    return next((focus for pattern, focus in _FOCUS_PATTERNS if pattern.search(text)), None)


def detect_sectors(text: str) -> frozenset[Sector]:
    """The sectors a text names: 'i kommunerne' → municipality, 'in the regions' → region."""
    return frozenset(sector for sector, pattern in _SECTOR_PATTERNS if pattern.search(text))


@dataclass(frozen=True)
class Context:
    """How a question is searched: on its own, or with the previous question as context."""

    query: str
    followup: bool
    sectors: frozenset[Sector] = frozenset()
    focus: Focus | None = None


def is_followup(question: str) -> bool:
    """Whether a question reads as a follow-up of the previous one.

    It does when it opens with a marker ('hvad med', 'og', 'what about', 'and'), when
    it is elliptic (at most four words with at most one content word: 'i kommunerne?',
    'hvad kostede det?'), or when it is short and leans on a pronoun ('hvordan
    håndterede de det juridiske?').
    """
    words = tokens(question)
    if not words:
        return False
    if _FOLLOWUP_START.match(question.strip()):
        return True
    stop = stopwords()
    content = [w for w in words if w not in stop and not w.isdigit()]
    if len(words) <= SHORT_FOLLOWUP_WORDS and len(content) <= 1:
        return True
    return len(words) <= PRONOUN_FOLLOWUP_WORDS and any(w in _PRONOUNS for w in words)


def contextualise(question: str, previous_query: str | None, max_chars: int = 2000) -> Context:
    """Put a follow-up in the context of the previous turn.

    A follow-up is searched as the previous (effective) question plus the follow-up,
    a sector it names ('i kommunerne', 'in the regions') becomes that turn's sector
    filter, and what it asks for ('hvad gjorde de?', 'hvilke projekter?') its focus.
    A short question with a focus counts as a follow-up. Anything else is searched as asked.
    """
    focus = detect_focus(question)
    short = len(tokens(question)) <= PRONOUN_FOLLOWUP_WORDS
    if not previous_query or not (is_followup(question) or (focus is not None and short)):
        return Context(query=question, followup=False)
    room = max_chars - len(question) - 1
    context = previous_query[-room:] if room > 0 else ""
    query = f"{context} {question}".strip() if context else question
    return Context(query=query, followup=True, sectors=detect_sectors(question), focus=focus)
