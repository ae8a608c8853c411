"""The corpus data model: one curated experience ("entry") and its vocabularies.

Every corpus file is validated through :class:`Entry`. The vocabularies (kinds,
challenge areas, sectors, domains, statuses) are closed enums, so filters and
forms can list the valid values and reject anything else by name.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "KIND_FIELDS",
    "REVISABLE_FIELDS",
    "TEXT_FIELDS",
    "Area",
    "Domain",
    "Entry",
    "Kind",
    "ProjectStatus",
    "ReviewState",
    "Revision",
    "Sector",
    "Source",
]

ENTRY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,98}[a-z0-9]$"
MAX_FIELD_CHARS = 20_000


class Kind(StrEnum):
    """What sort of experience an entry records."""

    PROJECT = "project"  # one of the 40 project descriptions
    EVALUATION = "evaluation"  # the evaluation of a completed project
    HANDLING = "handling"  # a challenge and how a project handled it
    ADVICE = "advice"  # one of the ten pieces of good advice
    FINDING = "finding"  # challenge-area overviews, MDR, trends, overview facts


class Area(StrEnum):
    """The seven challenge areas of the report."""

    DATA = "data"
    INFRASTRUCTURE = "infrastructure"
    LAW = "law"
    ETHICS = "ethics"
    ORGANISATION = "organisation"
    VENDORS = "vendors"
    COMPETENCIES = "competencies"


class Sector(StrEnum):
    """Who ran the project."""

    MUNICIPALITY = "municipality"
    REGION = "region"
    CROSS = "cross"  # municipalities and regions together


class Domain(StrEnum):
    """The policy domain a project works in."""

    ADMINISTRATION = "administration"
    EMPLOYMENT = "employment"
    CLIMATE = "climate"
    SOCIAL_CARE = "social-care"
    HEALTH = "health"


class ProjectStatus(StrEnum):
    """Where a project stood at the time of the source."""

    ONGOING = "ongoing"
    COMPLETED = "completed"


class ReviewState(StrEnum):
    """Curation state: only approved entries are retrieved for users."""

    DRAFT = "draft"
    APPROVED = "approved"
    RETIRED = "retired"


# The text fields an entry can have, in reading order (their labels are in lessons.words). Each kind
# uses some of them (KIND_FIELDS): the first group is required for the kind; the rest are optional.
TEXT_FIELDS: tuple[str, ...] = (
    "purpose",
    "solution",
    "description",
    "prerequisites",
    "direct_gains",
    "derived_gains",
    "ending",
    "challenge",
    "handling",
    "outcome",
    "body",
)

KIND_FIELDS: dict[Kind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Kind.PROJECT: (("purpose", "solution"), ("body",)),
    Kind.EVALUATION: (("description",), ("prerequisites", "direct_gains", "derived_gains", "ending", "body")),
    Kind.HANDLING: (("challenge", "handling"), ("outcome", "body")),
    Kind.ADVICE: (("body",), ()),
    Kind.FINDING: (("body",), ()),
}


def _visible_or_empty(value: str) -> str:
    """The value stripped as Python strips it, or "" when nothing in it is visible.

    pydantic strips Unicode's White_Space only; Python's ``str.strip`` (which the chunker uses) also drops
    the information separators U+001C-U+001F. A value made only of those, of control characters (NUL, DEL)
    or of format characters (zero-width space, word joiner, BOM) would pass as text and chunk to nothing.
    """
    stripped = value.strip()
    if all(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in stripped):
        return ""
    return stripped


def _visible_name(value: str) -> str:
    """A name with something visible in it; refused as empty (pydantic's own error type) otherwise."""
    visible = _visible_or_empty(value)
    if not visible:
        raise PydanticCustomError(
            "string_too_short", "String should have at least {min_length} character", {"min_length": 1}
        )
    return visible


_Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_FIELD_CHARS), AfterValidator(_visible_or_empty)
]
_Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), AfterValidator(_visible_name)
]


class Source(BaseModel):
    """Where an entry's wording comes from, so users can cite it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report: _Name
    section: _Name | None = None
    page: int | None = Field(default=None, ge=1, le=10_000)


# Fields lessons sets itself (state, who, when, history) and the pending revision: never part of a revision.
_NOT_REVISABLE = frozenset(
    {"id", "state", "created_by", "created_at", "approved_by", "approved_at", "retired_at", "history", "revision"}
)


class Revision(BaseModel):
    """Changes to an approved entry that wait for a second editor; until then the approved text is served.

    Kept in the entry's own file under ``revision:``. ``changes`` holds the new value of each
    changed field, ``cleared`` the fields the revision empties; ``base`` is the
    :meth:`Entry.content_digest` of the approved entry the revision was made against, so a
    revision whose entry changed since is told apart (it no longer applies). ``authors`` are
    everyone who wrote it: none of them may approve it (four-eyes).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    changes: dict[str, Any] = Field(default_factory=dict)
    cleared: list[str] = Field(default_factory=list, max_length=40)
    authors: list[_Name] = Field(min_length=1, max_length=100)
    proposed_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _fields_are_revisable(self) -> Revision:
        unknown = [name for name in [*self.changes, *self.cleared] if name not in REVISABLE_FIELDS]
        if unknown:
            raise ValueError(
                f"a revision cannot change the field(s): {', '.join(sorted(map(str, unknown)))[:300]}; "
                f"it may change: {', '.join(REVISABLE_FIELDS)}"
            )
        both = sorted(set(self.changes) & set(self.cleared))
        if both:
            raise ValueError(f"field(s) both changed and cleared: {', '.join(both)}")
        if not self.changes and not self.cleared:
            raise ValueError("a revision must change at least one field; remove the empty revision")
        return self


class Entry(BaseModel):
    """One curated experience. Challenge, handling and outcome keep the source's wording."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: Annotated[str, StringConstraints(pattern=ENTRY_ID_PATTERN)]
    kind: Kind
    title: _Name
    summary: _Text | None = None
    tags: list[_Name] = Field(default_factory=list, max_length=50)

    areas: list[Area] = Field(default_factory=list)
    sector: Sector | None = None
    domain: Domain | None = None
    project: _Name | None = None
    organisations: list[_Name] = Field(default_factory=list, max_length=50)
    location: _Name | None = None
    grant_mio_kr: float | None = Field(default=None, ge=0, le=10_000)
    period: _Name | None = None
    project_status: ProjectStatus | None = None

    purpose: _Text | None = None
    solution: _Text | None = None
    description: _Text | None = None
    prerequisites: _Text | None = None
    direct_gains: _Text | None = None
    derived_gains: _Text | None = None
    ending: _Text | None = None
    challenge: _Text | None = None
    handling: _Text | None = None
    outcome: _Text | None = None
    body: _Text | None = None

    source: Source
    # When the situation the source describes held (the report's status date), so readers can
    # judge whether a lesson, above all a legal one, may be out of date. See corpus/README.md.
    as_of: date | None = None
    # A newer entry that replaces this one; the briefing shows the newer one instead.
    superseded_by: Annotated[str, StringConstraints(pattern=ENTRY_ID_PATTERN)] | None = None

    state: ReviewState = ReviewState.APPROVED
    created_by: _Name | None = None
    created_at: datetime | None = None
    approved_by: _Name | None = None
    approved_at: datetime | None = None
    retired_at: datetime | None = None
    history: list[str] = Field(default_factory=list, max_length=1000)
    # Changes to an approved entry waiting for a second editor (not served until approved).
    revision: Revision | None = None

    @field_validator("areas", "tags", "organisations")
    @classmethod
    def _no_duplicates(cls, value: list[str]) -> list[str]:
        seen: list[str] = []
        for item in value:
            if item not in seen:
                seen.append(item)
        return seen

    @model_validator(mode="after")
    def _kind_has_its_fields(self) -> Entry:
        required, optional = KIND_FIELDS[self.kind]
        missing = [name for name in required if not getattr(self, name)]
        if missing:
            raise PydanticCustomError(  # typed, so an edge can word it in Danish (lessons.errors.Problem.describe)
                "kind_fields",
                "a {kind} entry needs the field(s): {fields}",
                {"kind": self.kind.value, "fields": ", ".join(missing)},
            )
        allowed = set(required) | set(optional)
        foreign = [name for name in TEXT_FIELDS if name not in allowed and getattr(self, name)]
        if foreign:
            raise PydanticCustomError(
                "kind_foreign",
                "a {kind} entry does not use the field(s): {fields}; its text fields are: {allowed}",
                {"kind": self.kind.value, "fields": ", ".join(foreign), "allowed": ", ".join(required + optional)},
            )
        return self

    @model_validator(mode="after")
    def _revision_only_when_approved(self) -> Entry:
        if self.revision is not None and self.state is not ReviewState.APPROVED:
            raise ValueError(
                f"a {self.state.value} entry cannot have a pending revision (only approved entries do); "
                "remove the revision: block or edit the entry directly"
            )
        return self

    @field_validator("superseded_by")
    @classmethod
    def _not_itself(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value == info.data.get("id"):
            raise PydanticCustomError(
                "superseded_self", "superseded_by names the entry itself; name the newer entry that replaces it"
            )
        return value

    def text_fields(self) -> list[tuple[str, str]]:
        """The entry's filled text fields as (field name, text), in reading order."""
        required, optional = KIND_FIELDS[self.kind]
        out: list[tuple[str, str]] = []
        for name in required + optional:
            value = getattr(self, name)
            if value:
                out.append((name, value))
        return out

    def full_text(self) -> str:
        """All text of the entry, title first, as one string (for duplicates and coverage)."""
        parts = [self.title, *(text for _, text in self.text_fields())]
        return "\n\n".join(parts)

    def content(self) -> dict[str, Any]:
        """The fields a revision may change, as JSON values (empty ones left out)."""
        data = self.model_dump(mode="json", include=set(REVISABLE_FIELDS), exclude_none=True)
        return {key: value for key, value in data.items() if value != []}

    def content_digest(self) -> str:
        """sha256 of :meth:`content`: what a pending revision was made against."""
        return hashlib.sha256(json.dumps(self.content(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def proposed(self) -> Entry:
        """The entry as its pending revision would make it (itself when there is none).

        Raises pydantic's ValidationError when the revision does not fit the entry.
        """
        if self.revision is None:
            return self
        data = self.model_dump(mode="json", exclude={"revision"}, exclude_none=True)
        data.update(self.revision.changes)
        for name in self.revision.cleared:
            data.pop(name, None)
        return Entry.model_validate(data)

    @property
    def retrievable(self) -> bool:
        """Only approved entries are served to users."""
        return self.state is ReviewState.APPROVED


REVISABLE_FIELDS: tuple[str, ...] = tuple(name for name in Entry.model_fields if name not in _NOT_REVISABLE)

_SLUG_TABLE = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", "ö": "oe", "ä": "ae"})
# Code and markup are not words: a script or style element with its content, then any tag (bounded: linear).
_SLUG_CODE = re.compile(r"<(script|style)\b[^>]{0,200}>.{0,2000}?</\1\s{0,20}>", re.IGNORECASE | re.DOTALL)
_SLUG_TAG = re.compile(r"<[^<>]{0,200}>")
_SLUG_WORD = re.compile(r"[a-z0-9]+")


def slugify(text: str, max_length: int = 48, max_words: int = 6) -> str:
    """A short lowercase ASCII id fragment of the text's words: 'Adgang til data via API' -> 'adgang-til-data-via-api'.

    Markup is not words (tags, and the content of script and style elements, are dropped), nor are
    single letters; at most ``max_words`` words and ``max_length`` characters, cut between words.
    """
    plain = _SLUG_TAG.sub(" ", _SLUG_CODE.sub(" ", text[:5000]))
    found = _SLUG_WORD.findall(plain.lower().translate(_SLUG_TABLE))
    kept = [w for w in found if len(w) > 1 or w.isdigit()] or found
    slug = ""
    for word in kept[:max_words]:
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > max_length:
            break
        slug = longer
    return slug or (kept[0][:max_length] if kept else "entry")
