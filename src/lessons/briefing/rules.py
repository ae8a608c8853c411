"""The rules that decide which challenge areas are likely for a profile: data, not code.

The rules live in a YAML file (``lessons/data/briefing_rules.yaml`` by default,
documented in ``docs/briefing.md``) so curators can change them without touching
code. Each rule names a challenge area, the profile facts that make it likely
(``when``), why (in Danish and English), the corpus entry whose lesson motivates
it, how to find handling examples, the advice that applies, and the questions to
settle before starting, each with the lesson it comes from.

:func:`parse_rules` validates the file with pydantic and reports every problem
with file, key path and line; :func:`check_rules` checks that every entry a rule
names exists in the corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from lessons.briefing.profile import DataKind, Phase, ProfileSector, ProjectProfile, line_of, validation_errors
from lessons.errors import Problem, ProblemsError
from lessons.models import ENTRY_ID_PATTERN, Area, Domain, Entry, Kind
from lessons.yamlio import YamlError, load_yaml, path_lines

__all__ = [
    "DEFAULT_RULES",
    "Condition",
    "Match",
    "Question",
    "Reason",
    "Rule",
    "RuleSet",
    "RulesError",
    "Text",
    "check_rules",
    "fired_areas",
    "load_rules",
    "parse_rules",
]

DEFAULT_RULES = "briefing_rules.yaml"
MAX_RULES_BYTES = 500_000

_EntryId = Annotated[str, StringConstraints(pattern=ENTRY_ID_PATTERN)]
_Words = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Text(BaseModel):
    """A text in Danish and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    da: _Words
    en: _Words

    def get(self, lang: str) -> str:
        """The text in ``lang`` ('en' or else Danish)."""
        return self.en if lang == "en" else self.da


@dataclass(frozen=True)
class Reason:
    """A fact of the profile that made a rule fire: a key and the value(s) that matched."""

    field: str
    values: tuple[str, ...]


class Condition(BaseModel):
    """Profile facts that must all hold. A list field holds when the profile has any of the listed values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sector: tuple[ProfileSector, ...] | None = None
    domain: tuple[Domain, ...] | None = None
    data: tuple[DataKind, ...] | None = None
    phase: tuple[Phase, ...] | None = None
    decision_support: bool | None = None
    vendor: bool | None = None
    citizen_facing: bool | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.model_fields_set or all(getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError(
                "a condition needs at least one profile key (sector, domain, data, phase, decision_support, "
                "vendor, citizen_facing): a rule that always fires would give an area no reason from the profile"
            )
        for name in self.model_fields_set:
            value = getattr(self, name)
            if isinstance(value, tuple) and not value:
                raise ValueError(f"{name}: list at least one value")
        return self

    def match(self, profile: ProjectProfile) -> tuple[Reason, ...] | None:
        """The reasons when every fact holds for the profile, else None."""
        reasons: list[Reason] = []
        for name in type(self).model_fields:
            wanted = getattr(self, name)
            if wanted is None:
                continue
            have = profile.values_of(name)
            if isinstance(wanted, tuple):
                hit = tuple(v for v in have if v in {str(w) for w in wanted})
            else:
                hit = have if have == ("true" if wanted else "false",) else ()
            if not hit:
                return None
            reasons.append(Reason(field=name, values=hit))
        return tuple(reasons)


class Question(BaseModel):
    """A question to settle before starting, with the lesson it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    da: _Words
    en: _Words
    lesson: _EntryId

    def get(self, lang: str) -> str:
        """The question in ``lang``."""
        return self.en if lang == "en" else self.da


class Rule(BaseModel):
    """One likely challenge: the area, when it is likely and why, and what the corpus offers for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: _EntryId
    area: Area
    title: Text
    when: tuple[Condition, ...] = Field(min_length=1, max_length=20)
    why: Text
    lesson: _EntryId
    examples: tuple[_EntryId, ...] = Field(default=(), max_length=10)
    search: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)] | None = None
    search_kinds: tuple[Kind, ...] = (Kind.HANDLING,)
    max_examples: int = Field(default=2, ge=1, le=5)
    advice: tuple[_EntryId, ...] = Field(default=(), max_length=10)
    questions: tuple[Question, ...] = Field(default=(), max_length=10)

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, dict) else value

    @property
    def legal(self) -> bool:
        """Whether the rule is about law (its lessons age fastest)."""
        return self.area is Area.LAW

    def match(self, profile: ProjectProfile) -> tuple[Reason, ...] | None:
        """The reasons of the first condition that holds, or None when none does."""
        for condition in self.when:
            reasons = condition.match(profile)
            if reasons is not None:
                return reasons
        return None


class AreaOrder(BaseModel):
    """The order in which a team meets the challenge areas, with the lesson that says so."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lesson: _EntryId
    areas: tuple[Area, ...]

    @model_validator(mode="after")
    def _every_area_once(self) -> AreaOrder:
        missing = [a.value for a in Area if a not in self.areas]
        repeated = sorted({a.value for a in self.areas if self.areas.count(a) > 1})
        if missing or repeated:
            raise ValueError(
                "list every area exactly once"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; repeated: {', '.join(repeated)}" if repeated else "")
            )
        return self


class OutcomeCues(BaseModel):
    """Words that tell, in a completed project's evaluation, whether its solution went into operation.

    A sentence with a ``deployed`` cue and none of the ``negations`` says it was put into
    operation; a ``stopped`` cue says it was not; a ``prototype`` cue says it stopped at a
    prototype. A sentence with a ``reasons`` cue says why, and is quoted too. Cues match whole
    words (or phrases of whole words), case-insensitively.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    deployed: tuple[_Words, ...] = Field(min_length=1, max_length=50)
    negations: tuple[_Words, ...] = Field(default=(), max_length=50)
    stopped: tuple[_Words, ...] = Field(default=(), max_length=50)
    prototype: tuple[_Words, ...] = Field(default=(), max_length=50)
    reasons: tuple[_Words, ...] = Field(default=(), max_length=50)


@dataclass(frozen=True)
class Match:
    """A rule that fired for a profile, with the profile facts that made it fire."""

    rule: Rule
    reasons: tuple[Reason, ...]


class RuleSet(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    area_order: AreaOrder
    rules: tuple[Rule, ...] = Field(min_length=1, max_length=500)
    outcomes: OutcomeCues

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        ids = [rule.id for rule in self.rules]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(repeated)}")
        return self

    def match(self, profile: ProjectProfile) -> list[Match]:
        """The rules that fire, in the order a team meets their areas, then in file order."""
        fired = [Match(rule, reasons) for rule in self.rules if (reasons := rule.match(profile)) is not None]
        order = {area: position for position, area in enumerate(self.area_order.areas)}
        return sorted(fired, key=lambda m: order[m.rule.area])  # stable: file order within an area

    def entry_ids(self) -> list[tuple[str, str]]:
        """Every entry id the rules name, with where (for :func:`check_rules`)."""
        out = [("area_order.lesson", self.area_order.lesson)]
        for number, rule in enumerate(self.rules):
            where = f"rules.{number}"
            out.append((f"{where}.lesson", rule.lesson))
            out += [(f"{where}.examples.{i}", e) for i, e in enumerate(rule.examples)]
            out += [(f"{where}.advice.{i}", e) for i, e in enumerate(rule.advice)]
            out += [(f"{where}.questions.{i}.lesson", q.lesson) for i, q in enumerate(rule.questions)]
        return out


class RulesError(ProblemsError):
    """The rules file cannot be used; lists every problem with file, key path and line."""

    subject: ClassVar[str] = "the briefing rules"
    subject_key: ClassVar[str] = "subject_rules"


def parse_rules(data: bytes | str, file: str = "<rules>") -> RuleSet:
    """Validate a rules file's text; raise :class:`RulesError` naming file, key path and line."""
    if len(data) > MAX_RULES_BYTES:
        raise RulesError([Problem(file=file, message=f"is {len(data):,} bytes; the limit is {MAX_RULES_BYTES:,}")])
    try:
        raw = load_yaml(data)
    except YamlError as exc:
        raise RulesError([exc.problem(file)]) from None
    if not isinstance(raw, dict):
        raise RulesError([Problem(file=file, message="expected a mapping with version, area_order, rules, outcomes")])
    try:
        return RuleSet.model_validate(raw)
    except ValidationError as exc:
        lines = path_lines(data)
        problems = []
        for err in validation_errors(exc):
            loc = tuple(part for part in err["loc"] if not (isinstance(part, str) and part.startswith("function-")))
            message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
            problems.append(
                Problem(
                    file=file,
                    field=".".join(str(p) for p in loc) or None,
                    line=line_of(loc, lines),
                    message=message,
                )
            )
        raise RulesError(problems) from None


def load_rules(path: Path | None = None) -> RuleSet:
    """The rules from ``path``, or the rules shipped with lessons. Raises :class:`RulesError`."""
    if path is None:
        text = resources.files("lessons").joinpath(f"data/{DEFAULT_RULES}").read_bytes()
        return parse_rules(text, f"lessons/data/{DEFAULT_RULES}")
    name = str(path)
    try:
        if not path.is_file():
            raise RulesError([Problem(file=name, message="is not a regular file")])
        if path.stat().st_size > MAX_RULES_BYTES:
            raise RulesError([Problem(file=name, message=f"is larger than {MAX_RULES_BYTES:,} bytes")])
        with path.open("rb") as handle:
            data = handle.read(MAX_RULES_BYTES + 1)
    except OSError as exc:
        raise RulesError([Problem(file=name, message=f"cannot read: {exc.strerror or exc}")]) from None
    return parse_rules(data, name)


def check_rules(rules: RuleSet, entries: Mapping[str, Entry], file: str = "<rules>") -> list[Problem]:
    """Problems with the entries the rules name: unknown ids, and advice that is not an advice entry."""
    problems = []
    for where, entry_id in rules.entry_ids():
        entry = entries.get(entry_id)
        if entry is None:
            message = f"names {entry_id!r}, which is not in the corpus"
            values: tuple[tuple[str, str], ...] = (("id", repr(entry_id)),)
            problems.append(Problem(file=file, field=where, message=message, code="rule_unknown", values=values))
        elif ".advice." in where and entry.kind is not Kind.ADVICE:
            message = f"{entry_id!r} is a {entry.kind.value}, not advice"
            values = (("id", repr(entry_id)), ("kind", entry.kind.value))
            problems.append(Problem(file=file, field=where, message=message, code="rule_not_advice", values=values))
    return problems


def fired_areas(matches: Iterable[Match]) -> list[Area]:
    """The distinct areas of the fired rules, in order."""
    return list(dict.fromkeys(m.rule.area for m in matches))
