"""The HTTP API (`lessons serve`) through FastAPI's TestClient, with the fake embedder and the tiny corpus."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lessons.api import create_app
from lessons.build import build_index
from lessons.cli import app as cli_app
from lessons.embedding import Embedder, FakeEmbedder
from lessons.engine import open_searcher
from lessons.search import Filters, Searcher
from lessons.serving import LoadedVersion, SearchService
from lessons.settings import Settings
from lessons.store import read_current

pytestmark = pytest.mark.heavy

MDR = "Skal algoritmen CE-mærkes efter MDR?"
JSON = {"content-type": "application/json"}


def fake_opener(fake: FakeEmbedder) -> Any:
    """An opener that answers with the fake embedder."""

    def opener(settings: Settings, embedder: Embedder | None) -> tuple[Searcher, list[str]]:
        return open_searcher(settings, fake)

    return opener


def reloading_opener(fake: FakeEmbedder, before_reload: Callable[[], None]) -> Any:
    """An opener that answers with the fake embedder, running ``before_reload`` before every open after the first
    (a reload: slowed down, or failing)."""
    calls = 0

    def opener(settings: Settings, embedder: Embedder | None) -> tuple[Searcher, list[str]]:
        nonlocal calls
        calls += 1
        if calls > 1:
            before_reload()
        return open_searcher(settings, fake)

    return opener


@pytest.fixture
def built(settings: Settings, fake: FakeEmbedder) -> Settings:
    """The tiny corpus, indexed with the fake embedder; reload checks on every request."""
    settings = settings.model_copy(update={"serve_reload_check": 0.05})
    build_index(settings, fake)
    return settings


@pytest.fixture
def service(built: Settings, fake: FakeEmbedder) -> SearchService:
    """A search service over the built index."""
    return SearchService(built, opener=fake_opener(fake))


@pytest.fixture
def client(built: Settings, service: SearchService) -> Iterator[TestClient]:
    """A test client of the API (start-up runs, so the index is loaded)."""
    with TestClient(create_app(built, service=service), raise_server_exceptions=False) as test_client:
        yield test_client


def post(client: TestClient, path: str, body: Any) -> Any:
    """POST a JSON body."""
    return client.post(path, content=json.dumps(body), headers=JSON)


def assert_error(response: Any, status: int, code: str, words: str = "") -> dict[str, Any]:
    """The response is our JSON error with this status and code, and its message mentions ``words``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == status and error["code"] == code
    assert words.lower() in error["message"].lower()
    return error


# --------------------------------------------------------------------------- the endpoints


def test_ask_returns_the_same_json_as_the_cli(
    client: TestClient, env_settings: Settings, use_fake_embedder: FakeEmbedder
) -> None:
    """POST /ask answers with exactly what `lessons ask --json` prints for the same question and filters."""
    response = post(client, "/ask", {"question": MDR, "k": 3, "filters": {"sector": ["region"]}})
    assert response.status_code == 200
    cli = CliRunner().invoke(cli_app, ["ask", MDR, "-k", "3", "--sector", "region", "--json"])
    assert cli.exit_code == 0, cli.output
    assert response.json() == json.loads(cli.stdout.strip().splitlines()[-1])
    assert response.json()["hits"][0]["entry_id"] == "handling-mdr-ce"


def test_ask_defaults_and_comma_separated_filters(client: TestClient) -> None:
    """k defaults to 5; a filter may be one comma-separated string; filters restrict the hits."""
    body = post(client, "/ask", {"question": "data og algoritme", "filters": {"kind": "project,advice"}}).json()
    assert 0 < len(body["hits"]) <= 5
    assert {hit["kind"] for hit in body["hits"]} <= {"project", "advice"}
    assert body["filters"] == {"kind": ["advice", "project"]}


def test_similar_returns_projects_with_lessons(client: TestClient) -> None:
    """POST /similar returns the signature projects most like a description, best first."""
    response = post(client, "/similar", {"description": "hjemmemålinger hos KOL-patienter med iltmætning", "k": 2})
    assert response.status_code == 200
    projects = response.json()["projects"]
    assert projects[0]["project"] == "Forværring hos KOL-patienter"
    assert projects[0]["description"]["entry_id"] == "project-kol"
    assert [p["rank"] for p in projects] == list(range(1, len(projects) + 1))


def test_similar_refuses_an_unknown_domain(client: TestClient) -> None:
    """A domain outside the vocabulary is a 422 naming the valid values."""
    response = post(client, "/similar", {"description": "energi i bygninger", "domains": ["space"]})
    assert_error(response, 422, "bad_question", "valid values")


def test_entry_by_id(client: TestClient) -> None:
    """GET /entries/{id} returns the entry's content and source, without curation metadata."""
    body = client.get("/entries/handling-mdr-ce").json()
    assert body["id"] == "handling-mdr-ce"
    assert body["challenge"].startswith("Projektet skulle afklare")
    assert body["source"]["report"] == "Testrapport"
    assert "history" not in body and "state" not in body


def test_unknown_entry_is_404(client: TestClient) -> None:
    """An id no approved entry has is a JSON 404 naming the id."""
    assert_error(client.get("/entries/no-such-entry"), 404, "entry_not_found", "no-such-entry")


def test_drafts_are_not_served(built: Settings, fake: FakeEmbedder) -> None:
    """A draft entry in the corpus is not readable through the API."""
    draft = built.corpus_dir / "entries" / "advice" / "advice-draft.yaml"
    draft.write_text(
        "id: advice-draft\nkind: advice\ntitle: Et udkast\nbody: Endnu ikke godkendt.\nstate: draft\n"
        "source:\n  report: Testrapport\n",
        encoding="utf-8",
    )
    service = SearchService(built, opener=fake_opener(fake))
    with TestClient(create_app(built, service=service)) as client:
        assert_error(client.get("/entries/advice-draft"), 404, "entry_not_found")


def test_health_names_version_model_and_counts(client: TestClient, built: Settings) -> None:
    """GET /health reports the index version, model, query runtime and counts."""
    body = client.get("/health").json()
    assert body["ok"] is True
    assert body["index_version"] == read_current(built.index_dir)
    assert body["model"] == "fake-embedder"
    assert body["query_runtime"] == "fake-embedder"
    assert body["entries"] == 5 and body["chunks"] >= 5


def test_openapi_docs(client: TestClient) -> None:
    """The OpenAPI schema lists every endpoint, and /docs is served."""
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/ask", "/similar", "/entries/{entry_id}", "/health"} <= set(paths)
    assert client.get("/docs").status_code == 200


_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']{1,500})["']|\burl:\s*'([^']{1,500})'""")


@pytest.mark.parametrize(
    ("page", "assets"),
    [("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}), ("/redoc", {"redoc.standalone.js"})],
)
def test_docs_pages_work_offline(client: TestClient, page: str, assets: set[str]) -> None:
    """The docs pages name no other host; every script, style, icon and the schema they load is served here."""
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert re.search(r"https?:|//[a-z0-9]", html, re.IGNORECASE) is None, html
    references = {a or b for a, b in _REFERENCE.findall(html)} | set(re.findall(r'spec-url="([^"]{1,500})"', html))
    assert {ref.rsplit("/", 1)[-1] for ref in references} >= assets | {"openapi.json"}
    for reference in references:
        assert reference.startswith("/"), reference
        served = client.get(reference)
        assert served.status_code == 200, reference
        assert len(served.content) > 400, reference
    script = client.get(f"/docs-assets/{sorted(a for a in assets if a.endswith('.js'))[0]}")
    assert "javascript" in script.headers["content-type"]


def test_swagger_ui_validator_badge_is_off(client: TestClient) -> None:
    """Swagger UI's validator badge (an image from validator.swagger.io) is switched off."""
    assert '"validatorUrl": null' in client.get("/docs").text


def test_docs_assets_refuse_paths_outside_the_asset_folder(client: TestClient) -> None:
    """The asset route serves only its own files: traversal and unknown names are 404, never a file elsewhere."""
    for path in ("/docs-assets/../api.py", "/docs-assets/%2e%2e/%2e%2e/pyproject.toml", "/docs-assets/nothing.js"):
        assert client.get(path).status_code == 404, path


def test_no_index_is_503_then_served_once_built(settings: Settings, fake: FakeEmbedder) -> None:
    """Without an index, /health and /ask answer 503 with the fix; once built, the service picks it up."""
    settings = settings.model_copy(update={"serve_reload_check": 0.05})
    service = SearchService(settings, opener=fake_opener(fake))
    with TestClient(create_app(settings, service=service)) as client:
        assert client.get("/health").status_code == 503
        assert_error(post(client, "/ask", {"question": MDR}), 503, "index_unavailable", "lessons build")
        build_index(settings, fake)
        service._last_check = float("-inf")
        service.check_for_new_version()
        service.wait_for_reload(10)
        assert post(client, "/ask", {"question": MDR}).status_code == 200


# --------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": MDR, "k": 0}, "k"),
        ({"question": MDR, "k": 51}, "k"),
        ({"question": MDR, "k": "five"}, "k"),
        ({"question": MDR, "per_entry": 11}, "per_entry"),
        ({"question": 42}, "question"),
        ({"question": MDR, "colour": "blue"}, "colour"),
        ({"question": MDR, "filters": {"planet": ["mars"]}}, "filters.planet"),
        ({"question": MDR, "filters": {"kind": ["handling"] * 21}}, "filters.kind"),
        ([MDR], "body"),
    ],
)
def test_invalid_ask_bodies_name_the_field(client: TestClient, body: Any, field: str) -> None:
    """Each malformed /ask body is a 422 whose details name the offending field."""
    error = assert_error(post(client, "/ask", body), 422, "invalid_request")
    assert any(d["field"].startswith(field) for d in error["details"]), error


def test_bad_filter_value_lists_valid_values(client: TestClient) -> None:
    """An unknown filter value is a 422 that lists the valid ones."""
    error = assert_error(post(client, "/ask", {"question": MDR, "filters": {"sector": "moon"}}), 422, "bad_question")
    assert "municipality" in error["message"]


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01"])
def test_empty_question_is_refused(client: TestClient, question: str) -> None:
    """An empty (or only invisible) question is a 422 saying so."""
    assert_error(post(client, "/ask", {"question": question}), 422, "bad_question", "empty")


def test_too_long_question_is_refused(client: TestClient, built: Settings) -> None:
    """A question over the character limit is a 422 naming the limit."""
    question = "ord " * (built.max_question_chars // 4 + 10)
    assert_error(post(client, "/ask", {"question": question}), 422, "bad_question", f"{built.max_question_chars:,}")


def test_largest_adversarial_question_is_answered(client: TestClient, built: Settings) -> None:
    """A question of exactly the maximum length, made of one repeated odd token, is answered normally."""
    question = ("æ-Ø_å" * built.max_question_chars)[: built.max_question_chars]
    response = post(client, "/ask", {"question": question, "k": 50})
    assert response.status_code == 200, response.text


def test_invalid_json_is_422(client: TestClient) -> None:
    """A body that is not JSON is a 422 saying so."""
    response = client.post("/ask", content=b'{"question": ', headers=JSON)
    assert_error(response, 422, "invalid_request", "not valid JSON")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None) -> None:
    """A POST that is not application/json is a 415 naming what was sent."""
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/ask", content=json.dumps({"question": MDR}).encode(), headers=headers)
    assert_error(response, 415, "unsupported_media_type", "application/json")


def test_json_with_charset_is_accepted(client: TestClient) -> None:
    """application/json; charset=utf-8 is JSON."""
    response = client.post(
        "/ask",
        content=json.dumps({"question": MDR}).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_oversized_body_is_413(client: TestClient, built: Settings) -> None:
    """A body over the limit is refused with 413 before it is parsed."""
    body = json.dumps({"question": "a" * built.serve_max_body_bytes})
    assert_error(client.post("/ask", content=body, headers=JSON), 413, "body_too_large", "limit")


def test_oversized_streamed_body_is_413(client: TestClient, built: Settings) -> None:
    """A chunked body without Content-Length is cut off at the limit with 413."""

    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(built.serve_max_body_bytes // 1000 + 2):
            yield b"a" * 1000
        yield b'"}'

    assert_error(client.post("/ask", content=chunks(), headers=JSON), 413, "body_too_large")


def test_body_at_the_limit_is_accepted(client: TestClient, built: Settings) -> None:
    """A body of exactly the limit passes the size check (and the question check then speaks)."""
    skeleton = json.dumps({"question": ""})
    body = json.dumps({"question": "a" * (built.serve_max_body_bytes - len(skeleton))})
    assert len(body) == built.serve_max_body_bytes
    assert_error(client.post("/ask", content=body, headers=JSON), 422, "bad_question", "limit")


def test_bad_content_length_is_400(client: TestClient) -> None:
    """A Content-Length that is not a number is a 400."""
    response = client.post("/ask", content=b"{}", headers={**JSON, "content-length": "lots"})
    assert response.status_code == 400


def test_unknown_route_and_wrong_method(client: TestClient) -> None:
    """An unknown path is a JSON 404, a wrong method a JSON 405."""
    assert_error(client.get("/nowhere"), 404, "not_found", "/docs")
    assert_error(client.get("/ask"), 405, "method_not_allowed")
    assert_error(client.delete("/entries/handling-mdr-ce"), 405, "method_not_allowed")


def test_internal_error_is_json_without_traceback(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected failure is a JSON 500 naming only the error type."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(LoadedVersion, "ask", boom)
    error = assert_error(post(client, "/ask", {"question": MDR}), 500, "internal_error", "RuntimeError")
    assert "secret" not in error["message"] and "Traceback" not in error["message"]


def test_rate_limit_is_429_with_retry_after(built: Settings, fake: FakeEmbedder) -> None:
    """Past the burst, a client gets 429 with Retry-After; /health is not limited."""
    limited = built.model_copy(update={"serve_rate_limit": 0.5, "serve_rate_burst": 3})
    with TestClient(create_app(limited, service=SearchService(limited, opener=fake_opener(fake)))) as client:
        codes = [post(client, "/ask", {"question": MDR}).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        response = post(client, "/ask", {"question": MDR})
        assert_error(response, 429, "too_many_requests", "limit")
        assert int(response.headers["retry-after"]) >= 1
        assert all(client.get("/health").status_code == 200 for _ in range(10))


# --------------------------------------------------------------------------- reload


def test_new_index_version_is_swapped_in(
    client: TestClient, built: Settings, fake: FakeEmbedder, service: SearchService
) -> None:
    """After a rebuild, requests are answered from the new version, and the old one still answers its holder."""
    before = service.current()
    (built.corpus_dir / "entries" / "advice" / "advice-data.yaml").unlink()
    build_index(built, fake)
    service._last_check = float("-inf")
    service.check_for_new_version()
    service.wait_for_reload(10)
    after = client.get("/health").json()
    assert after["index_version"] == read_current(built.index_dir) != before.manifest.version
    assert after["entries"] == 4
    assert before.ask(MDR, 3, Filters()).hits
    assert_error(client.get("/entries/advice-data"), 404, "entry_not_found")


def test_requests_are_served_while_a_reload_is_slow(built: Settings, fake: FakeEmbedder) -> None:
    """While a new version loads, the old one keeps answering; then the new one takes over."""
    gate = threading.Event()

    def wait_for_the_gate() -> None:
        assert gate.wait(10)

    service = SearchService(built, opener=reloading_opener(fake, wait_for_the_gate))
    with TestClient(create_app(built, service=service)) as client:
        first = client.get("/health").json()["index_version"]
        build_index(built, fake, full=True)
        service._last_check = float("-inf")
        for _ in range(5):
            assert post(client, "/ask", {"question": MDR}).status_code == 200
            assert client.get("/health").json()["index_version"] == first
        assert client.get("/health").json()["reloading"] is True
        gate.set()
        service.wait_for_reload(10)
        assert client.get("/health").json()["index_version"] == read_current(built.index_dir) != first


def test_a_version_that_fails_to_load_leaves_the_old_one_serving(
    built: Settings, fake: FakeEmbedder, tmp_path: Path
) -> None:
    """If the new version cannot be loaded, the old one keeps serving and /health names the problem."""
    from lessons.errors import IndexUnusableError

    def fail() -> None:
        raise IndexUnusableError("the new version is damaged")

    service = SearchService(built, opener=reloading_opener(fake, fail))
    with TestClient(create_app(built, service=service)) as client:
        first = client.get("/health").json()["index_version"]
        build_index(built, fake, full=True)
        service._last_check = float("-inf")
        service.check_for_new_version()
        service.wait_for_reload(10)
        health = client.get("/health").json()
        assert health["index_version"] == first
        assert "damaged" in health["reload_problem"]
        assert post(client, "/ask", {"question": MDR}).status_code == 200


def test_serve_refuses_to_start_where_reading_requires_sign_in(
    built: Settings, env_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With LESSONS_READING_REQUIRES_SIGN_IN on, neither the app nor `lessons serve` starts (no sign-in in the API)."""
    from lessons.errors import LessonsError

    closed = built.model_copy(update={"reading_requires_sign_in": True})
    with pytest.raises(LessonsError, match="has no sign-in"):
        create_app(closed)
    monkeypatch.setenv("LESSONS_READING_REQUIRES_SIGN_IN", "1")
    result = CliRunner().invoke(cli_app, ["serve", "--port", "1"])
    assert result.exit_code == 1
    assert "has no sign-in" in result.stderr


@pytest.mark.parametrize("description", ["", "   \n\t ", "\u200b\u200b"])
def test_similar_refuses_an_empty_description_as_a_description(client: TestClient, description: str) -> None:
    """An empty (or blank) description is a 422 about the description, not about a question."""
    response = post(client, "/similar", {"description": description})
    assert_error(response, 422, "bad_question", "the description is empty")
    assert "question" not in response.json()["error"]["message"]


def test_similar_refuses_an_over_long_description_as_a_description(client: TestClient, built: Settings) -> None:
    """A description over the limit is a 422 naming its length and the limit, about the description."""
    response = post(client, "/similar", {"description": "ord " * built.max_question_chars})
    assert_error(response, 422, "bad_question", f"the limit is {built.max_question_chars:,}")
    message = response.json()["error"]["message"]
    assert message.startswith("the description is ") and "question" not in message
