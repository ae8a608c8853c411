"""`lessons serve`: a read-only HTTP API over the index, for search boxes, chat bots and other tools.

The HTTP layer only translates: JSON in, a call to :mod:`lessons.serving` (which calls the
core), the core's own JSON out (``SearchResult.to_json`` is also what ``lessons ask --json``
prints), and domain errors turned into JSON errors. Every error has one shape::

    {"error": {"status": 422, "code": "invalid_request", "message": "...", "details": [...]}}

Routes live on one ``APIRouter`` (:data:`router`); a later endpoint is one more function there.

The documentation pages (``/docs``, Swagger UI; ``/redoc``) load their scripts, styles and icon
from :data:`DOCS_ASSETS` on this server (the files ship in the ``fastapi-offline`` package), not
from a CDN, so they work on a machine without internet.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from lessons import __version__
from lessons import settings as settings_module
from lessons.briefing.generate import generate_briefing
from lessons.briefing.profile import ProjectProfile
from lessons.briefing.render_json import briefing_to_json
from lessons.briefing.render_md import render_markdown
from lessons.briefing.rules import RuleSet, load_rules
from lessons.errors import IndexUnusableError, LessonsError, ModelNotFoundError, QuestionError
from lessons.search import Filters
from lessons.serving import EntryNotFoundError, LoadedVersion, SearchService, entry_to_json
from lessons.settings import Settings

__all__ = ["create_app", "refuse_if_reading_is_closed", "router"]

log = logging.getLogger("lessons.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_LIST = 20  # values per filter
JSON_TYPES = ("application/json",)
EXEMPT_FROM_RATE_LIMIT = frozenset({"/health"})
DOCS_ASSETS = "/docs-assets"
# Swagger UI's default validator badge fetches an image from validator.swagger.io: off, so /docs stays offline.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


# --------------------------------------------------------------------------- errors


def error_body(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The one JSON shape of every error."""
    error: dict[str, Any] = {"status": status, "code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(error_body(status, code, message, details), status_code=status, headers=headers)


async def _send_json_error(
    send: Send, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> None:
    """An error sent straight from ASGI middleware (before the app has run)."""
    response = error_response(status, code, message, headers=headers)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _validation_details(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    details = []
    for problem in exc.errors()[:20]:
        kind = str(problem.get("type", ""))
        where = _field(tuple(problem.get("loc", ())))
        if kind == "json_invalid":
            return "the request body is not valid JSON", [{"field": "body", "message": str(problem.get("msg"))}]
        message = str(problem.get("msg", "invalid value"))
        if kind == "extra_forbidden":
            message = "unknown field"
        if kind == "missing":
            message = "this field is required"
        details.append({"field": where, "message": message})
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return f"the request is not valid: {summary}", details


def install_error_handlers(app: FastAPI) -> None:
    """Every failure becomes a JSON error with a clear message: never a traceback, never HTML."""

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = _validation_details(exc)
        return error_response(422, "invalid_request", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint; see /docs for the API"
        if exc.status_code == 405:
            message = "this endpoint does not accept that method; see /docs"
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(EntryNotFoundError)
    async def no_entry(_: Request, exc: EntryNotFoundError) -> JSONResponse:
        return error_response(404, "entry_not_found", str(exc))

    @app.exception_handler(QuestionError)
    async def bad_question(_: Request, exc: QuestionError) -> JSONResponse:
        return error_response(422, "bad_question", str(exc))

    @app.exception_handler(IndexUnusableError)
    async def no_index(_: Request, exc: IndexUnusableError) -> JSONResponse:
        return error_response(503, "index_unavailable", str(exc), headers={"Retry-After": "5"})

    @app.exception_handler(ModelNotFoundError)
    async def no_model(_: Request, exc: ModelNotFoundError) -> JSONResponse:
        return error_response(503, "model_unavailable", str(exc), headers={"Retry-After": "5"})

    @app.exception_handler(LessonsError)
    async def domain_error(_: Request, exc: LessonsError) -> JSONResponse:
        return error_response(400, "bad_request", str(exc))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(
            500, "internal_error", f"internal error ({type(exc).__name__}); the server log has details"
        )


# --------------------------------------------------------------------------- limits (ASGI middleware)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (413), whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _send_json_error(send, 400, "bad_request", "the Content-Length header is not a number")
                return
            if size > self.max_bytes:
                await _send_json_error(send, 413, "body_too_large", self._message(size))
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise StarletteHTTPException(413, self._message(received))
            return message

        await self.app(scope, limited, send)

    def _message(self, size: int) -> str:
        return f"the request body is {size:,} bytes or more; the limit is {self.max_bytes:,}"


class JsonOnly:
    """POST bodies must be JSON (415 otherwise), so a form post or a text/plain body gets a clear answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST":
            raw = dict(scope.get("headers") or ()).get(b"content-type", b"")
            media = raw.decode("latin-1").split(";", 1)[0].strip().lower()
            if media not in JSON_TYPES:
                shown = media[:60] or "none"
                await _send_json_error(
                    send, 415, "unsupported_media_type", f"send the body as application/json (got {shown})"
                )
                return
        await self.app(scope, receive, send)


class RateLimit:
    """A token bucket per client address: ``rate`` requests a second, bursts up to ``burst``; 429 beyond.

    The client is the connection's address (behind a load balancer, run uvicorn with
    ``--forwarded-allow-ips`` so it is the real client's). At most ``max_clients``
    buckets are kept, least recently seen dropped first, so memory stays bounded.
    """

    def __init__(
        self,
        app: ASGIApp,
        rate: float,
        burst: int,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _take(self, client: str) -> float:
        """0 when the request may pass, else the seconds until it would."""
        now = self.clock()
        with self._lock:
            tokens, seen = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or scope.get("path") in EXEMPT_FROM_RATE_LIMIT:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self._take(str(client[0]) if client else "unknown")
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            await _send_json_error(
                send,
                429,
                "too_many_requests",
                f"too many requests from this client; the limit is {self.rate:g} a second. Retry in {retry} s",
                headers={"Retry-After": retry},
            )
            return
        await self.app(scope, receive, send)


# --------------------------------------------------------------------------- request bodies

FilterValues = Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=MAX_LIST)]


class FiltersIn(BaseModel):
    """Restrict results by entry metadata; each value list may also be one comma-separated string."""

    model_config = ConfigDict(extra="forbid")

    kind: FilterValues | Annotated[str, Field(max_length=400)] = []
    area: FilterValues | Annotated[str, Field(max_length=400)] = []
    sector: FilterValues | Annotated[str, Field(max_length=400)] = []
    domain: FilterValues | Annotated[str, Field(max_length=400)] = []
    status: FilterValues | Annotated[str, Field(max_length=400)] = []

    def parse(self) -> Filters:
        """The core's filters; an unknown value raises QuestionError listing the valid ones."""

        def values(value: list[str] | str) -> list[str]:
            return [value] if isinstance(value, str) else value

        return Filters.parse(
            kinds=values(self.kind),
            areas=values(self.area),
            sectors=values(self.sector),
            domains=values(self.domain),
            statuses=values(self.status),
        )


class AskIn(BaseModel):
    """A question, as for `lessons ask --json`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "Skal vores algoritme CE-mærkes?", "k": 5}]},
    )

    question: str = Field(description="The question, in Danish or English.")
    k: int = Field(default=5, ge=1, le=50, description="How many experiences to return.")
    filters: FiltersIn = Field(default_factory=FiltersIn)
    per_entry: int = Field(default=1, ge=1, le=10, description="Chunks allowed per entry.")


class SimilarIn(BaseModel):
    """A description of a project, to find the signature projects most like it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"description": "Vi vil forudsige genindlæggelser af ældre borgere.", "k": 3}]},
    )

    description: str = Field(description="A few sentences: domain, data, aim.")
    k: int = Field(default=5, ge=1, le=20)
    domains: FilterValues = []
    sectors: FilterValues = []


class BriefIn(BaseModel):
    """A project profile (the same model as `lessons brief`'s YAML file), and how to answer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "profile": {
                        "title": "Screening for diabetisk øjensygdom",
                        "description": "En algoritme vurderer fundusfotos, så de mest syge ses først.",
                        "sector": "region",
                        "domain": "health",
                        "data": ["health_records", "images"],
                        "decision_support": True,
                        "phase": "idea",
                        "vendor": True,
                    },
                    "format": "json",
                }
            ]
        },
    )

    profile: ProjectProfile
    format: Literal["json", "markdown"] = Field(default="json", description="JSON data, or the Markdown document.")
    lang: Literal["da", "en"] = Field(default="da", description="The language of the briefing's own words.")


_RULES: list[RuleSet] = []


def briefing_rules() -> RuleSet:
    """The shipped briefing rules, parsed once."""
    if not _RULES:
        _RULES.append(load_rules())
    return _RULES[0]


# --------------------------------------------------------------------------- routes

router = APIRouter()


def get_service(request: Request) -> SearchService:
    """The app's search service."""
    service: SearchService = request.app.state.service
    return service


def current_version(service: Annotated[SearchService, Depends(get_service)]) -> LoadedVersion:
    """The index version answering this request (kept for the whole request, even if a new one is swapped in)."""
    return service.current()


Version = Annotated[LoadedVersion, Depends(current_version)]


@router.post("/ask", summary="Answer a question", tags=["search"])
def ask(body: AskIn, version: Version) -> dict[str, Any]:
    """The most relevant experiences for a question: the same JSON as `lessons ask --json`."""
    result = version.ask(body.question, body.k, body.filters.parse(), body.per_entry)
    return result.to_json()


@router.post("/similar", summary="Projects like a description", tags=["search"])
def similar(body: SimilarIn, version: Version) -> dict[str, Any]:
    """The signature projects most like a project description, with what happened to them and their lessons."""
    parsed = Filters.parse(domains=body.domains, sectors=body.sectors)
    projects = version.similar(body.description, body.k, domains=parsed.domains, sectors=parsed.sectors)
    return {
        "description": " ".join(body.description.split()),
        "projects": [project.to_json() for project in projects],
        "index_version": version.manifest.version,
    }


@router.post("/brief", summary="A briefing for a project that has not started", tags=["briefing"], response_model=None)
def brief(body: BriefIn, version: Version) -> dict[str, Any] | PlainTextResponse:
    """Likely challenges with handling examples, advice, similar projects, questions and gaps, cited.

    The same briefing as `lessons brief`; this read-only API does not write the gap log.
    """
    briefing = generate_briefing(body.profile, version.searcher, version.entries, briefing_rules())
    if body.format == "markdown":
        return PlainTextResponse(render_markdown(briefing, body.lang), media_type="text/markdown; charset=utf-8")
    return briefing_to_json(briefing, body.lang)


@router.get("/entries/{entry_id}", summary="One entry", tags=["entries"])
def entry(entry_id: str, version: Version) -> dict[str, Any]:
    """An approved entry: its fields and source (drafts and retired entries are not served)."""
    return entry_to_json(version.entry(entry_id))


@router.get("/health", summary="What is served", tags=["service"])
def health(service: Annotated[SearchService, Depends(get_service)]) -> JSONResponse:
    """Index version, model, query runtime and counts; 503 while no index is loaded."""
    service.check_for_new_version()
    body = service.health()
    return JSONResponse(body, status_code=200 if body["ok"] else 503)


# --------------------------------------------------------------------------- the app


def refuse_if_reading_is_closed(settings: Settings) -> None:
    """The API has no sign-in: where readers must sign in, it must not serve at all (LessonsError says why)."""
    if settings.reading_requires_sign_in:
        raise LessonsError(
            "LESSONS_READING_REQUIRES_SIGN_IN is on, and `lessons serve` has no sign-in: it would let anyone read. "
            "Not started. Serve the API only where reading is open, or put it behind your own authenticating proxy "
            "and run it with LESSONS_READING_REQUIRES_SIGN_IN=0 there."
        )


def create_app(settings: Settings | None = None, *, service: SearchService | None = None) -> FastAPI:
    """The ASGI app. Without arguments it reads LESSONS_* settings (this is uvicorn's factory)."""
    settings = settings if settings is not None else settings_module.load()
    refuse_if_reading_is_closed(settings)
    service = service if service is not None else SearchService(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        if service.health().get("ok") is not True:
            service.load()
        if service.problem:
            log.warning("not serving yet: %s", service.problem)
        yield

    app = FastAPIOffline(
        title="lessons",
        version=__version__,
        summary="Experiences of Denmark's 40 public-sector AI signature projects, as JSON. Read-only.",
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )
    app.state.service = service
    app.include_router(router)
    install_error_handlers(app)
    # Middleware: added last runs first. Rate limit, then content type, then body size, then the routes.
    app.add_middleware(BodyLimit, max_bytes=settings.serve_max_body_bytes)
    app.add_middleware(JsonOnly)
    app.add_middleware(RateLimit, rate=settings.serve_rate_limit, burst=settings.serve_rate_burst)
    return app
