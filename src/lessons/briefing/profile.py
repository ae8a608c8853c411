"""The project profile: what a team tells us about a project that has not started yet.

A profile is a short YAML file (for the CLI and the API) or a form (in the app),
validated by :class:`ProjectProfile`. Unknown keys are refused by name, so a typo
never silently drops a fact the briefing depends on. :func:`parse_profile` turns
every validation problem into a :class:`~lessons.errors.Problem` naming the file,
the key and its line.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from pydantic_core import ErrorDetails

from lessons.errors import Problem, ProblemsError
from lessons.models import Domain, Sector
from lessons.yamlio import YamlError, load_yaml, path_lines

__all__ = [
    "MAX_PROFILE_BYTES",
    "DataKind",
    "Phase",
    "ProfileError",
    "ProfileSector",
    "ProjectProfile",
    "line_of",
    "load_profile",
    "parse_profile",
    "validate_profile",
    "validation_errors",
]

MAX_PROFILE_BYTES = 64_000
MAX_DESCRIPTION_CHARS = 2000


class ProfileSector(StrEnum):
    """Who will run the project.

    ``state`` is not in the corpus's vocabulary (no signature project was run by the state),
    so it has no :attr:`corpus_sector`; the briefing says so and logs it as a gap.
    """

    MUNICIPALITY = "municipality"
    REGION = "region"
    CROSS = "cross"
    STATE = "state"

    @property
    def corpus_sector(self) -> Sector | None:
        """The corpus's sector for this value, or None when the corpus has no such sector."""
        try:
            return Sector(self.value)
        except ValueError:
            return None


class DataKind(StrEnum):
    """The kinds of data a project will use."""

    PERSONAL = "personal"  # personal data (GDPR)
    HEALTH_RECORDS = "health_records"  # patient records, e.g. in Sundhedsplatformen
    OTHER_AUTHORITY_SYSTEM = "other_authority_system"  # data held in another authority's or a vendor's system
    FREE_TEXT = "free_text"  # notes, letters, applications, e-mails
    IMAGES = "images"  # scans, X-rays, photos
    SOUND = "sound"  # recordings, speech


class Phase(StrEnum):
    """Where the project stands."""

    IDEA = "idea"
    PILOT = "pilot"
    DEVELOPMENT = "development"
    OPERATION = "operation"


_Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ProjectProfile(BaseModel):
    """A new project as its team describes it. Unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: _Line
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=10, max_length=MAX_DESCRIPTION_CHARS)
    ] = Field(description="What the project will build, and for whom.")
    sector: ProfileSector
    domain: Domain
    data: tuple[DataKind, ...] = Field(min_length=1, max_length=len(DataKind))
    decision_support: bool = Field(description="True when the output supports clinical or case decisions.")
    phase: Phase
    vendor: bool = Field(description="True when a vendor builds the solution.")
    # Optional facts beyond the required ones.
    citizen_facing: bool | None = Field(
        default=None, description="True when the solution assesses or addresses citizens directly."
    )
    systems: tuple[_Line, ...] = Field(
        default=(), max_length=20, description="Named systems the data lives in, e.g. Sundhedsplatformen."
    )
    organisation: _Line | None = None

    @field_validator("data", "systems", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, str):
            return [value]
        return value

    @field_validator("data")
    @classmethod
    def _no_repeats(cls, value: tuple[DataKind, ...]) -> tuple[DataKind, ...]:
        return tuple(dict.fromkeys(value))

    def values_of(self, field: str) -> tuple[str, ...]:
        """A profile field's value(s) as strings, for matching rules and naming reasons."""
        value = getattr(self, field)
        if isinstance(value, tuple):
            return tuple(str(v) for v in value)
        if value is None:
            return ()
        if isinstance(value, bool):
            return ("true" if value else "false",)
        return (str(value),)


class ProfileError(ProblemsError):
    """A profile that cannot be used; lists every problem with file, key and line."""

    subject: ClassVar[str] = "the project profile"
    subject_key: ClassVar[str] = "subject_profile"


_PROFILE_FIELDS = tuple(ProjectProfile.model_fields)


def _message(err: dict[str, object]) -> str:
    kind = err.get("type")
    if kind == "extra_forbidden":
        return f"unknown key; the keys are: {', '.join(_PROFILE_FIELDS)}"
    if kind == "missing":
        return "required key is missing"
    if kind == "enum":
        ctx = err.get("ctx")
        expected = ctx.get("expected") if isinstance(ctx, dict) else None
        return f"{err.get('msg')}" if expected is None else f"not a valid value; use one of {expected}"
    return _clean_message(str(err.get("msg")))


def validation_errors(exc: ValidationError) -> list[ErrorDetails]:
    """pydantic's errors without the echoes: a "too short" on a list whose own items failed is dropped."""
    errors = exc.errors()
    failed = [tuple(err["loc"]) for err in errors if err["type"] != "too_short"]
    return [
        err
        for err in errors
        if err["type"] != "too_short"
        or not any(loc[: len(err["loc"])] == tuple(err["loc"]) and len(loc) > len(err["loc"]) for loc in failed)
    ]


def _clean_message(message: str) -> str:
    return message.removeprefix("Value error, ")


def line_of(loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int | None:
    """The line of the deepest part of ``loc`` that the file has (a missing key has none)."""
    for end in range(len(loc), 0, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return None


def validate_profile(
    raw: object, file: str = "<profile>", lines: dict[tuple[str | int, ...], int] | None = None
) -> ProjectProfile:
    """Validate already-parsed profile data; raise :class:`ProfileError` naming file, key and line."""
    if not isinstance(raw, dict):
        kind = "an empty file" if raw is None else f"a {type(raw).__name__}"
        raise ProfileError(
            [Problem(file=file, message=f"a profile is a mapping of keys (title, description, …), not {kind}")]
        )
    lines = lines or {}
    try:
        return ProjectProfile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in validation_errors(exc):
            loc = tuple(err["loc"])
            field = ".".join(str(part) for part in loc) if loc else None
            line = line_of(loc, lines)
            values = tuple(
                (key, value) for key, value in (err.get("ctx") or {}).items() if isinstance(value, str | int | float)
            )
            problems.append(
                Problem(
                    file=file,
                    field=field,
                    line=line,
                    message=_message(dict(err)),
                    code=err["type"],
                    values=values,
                    vocabulary="profile_field",
                )
            )
        raise ProfileError(problems) from None


def parse_profile(data: bytes | str, file: str = "<profile>") -> ProjectProfile:
    """Validate a profile from YAML text; raise :class:`ProfileError` naming file, key and line."""
    size = len(data)
    if size > MAX_PROFILE_BYTES:
        raise ProfileError([Problem(file=file, message=f"is {size:,} bytes; a profile may be {MAX_PROFILE_BYTES:,}")])
    try:
        raw = load_yaml(data)
    except YamlError as exc:
        raise ProfileError([exc.problem(file)]) from None
    return validate_profile(raw, file, path_lines(data))


def load_profile(path: Path) -> ProjectProfile:
    """Read and validate a profile file: a regular file, size checked before reading."""
    name = str(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ProfileError([Problem(file=name, message=f"cannot read: {exc.strerror or exc}")]) from None
    if not path.is_file():
        raise ProfileError([Problem(file=name, message="is not a regular file")])
    if stat.st_size > MAX_PROFILE_BYTES:
        raise ProfileError(
            [Problem(file=name, message=f"is {stat.st_size:,} bytes; a profile may be {MAX_PROFILE_BYTES:,}")]
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PROFILE_BYTES + 1)  # bounded, even if the file grew since stat
    except OSError as exc:
        raise ProfileError([Problem(file=name, message=f"cannot read: {exc.strerror or exc}")]) from None
    return parse_profile(data, name)
