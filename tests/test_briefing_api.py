"""`POST /brief` on the HTTP API: the same profile model and briefing as `lessons brief`, as JSON or Markdown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from lessons.api import create_app
from lessons.embedding import Embedder, FakeEmbedder
from lessons.engine import open_searcher
from lessons.search import Searcher
from lessons.serving import SearchService
from lessons.settings import Settings

from .conftest import ROOT

pytestmark = pytest.mark.heavy

EYE = yaml.safe_load((ROOT / "eval" / "profiles" / "health-eye-screening.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def client(real_fake_index: Settings, tmp_path: Any) -> Iterator[TestClient]:
    """The API over the real corpus's shared fake-embedder index."""
    settings = real_fake_index.model_copy(update={"data_dir": tmp_path / "var"})
    fake = FakeEmbedder()

    def opener(settings: Settings, embedder: Embedder | None) -> tuple[Searcher, list[str]]:
        return open_searcher(settings, fake)

    service = SearchService(settings, opener=opener)
    with TestClient(create_app(settings, service=service), raise_server_exceptions=False) as test_client:
        yield test_client


def test_brief_as_json(client: TestClient) -> None:
    """A profile gets the briefing as data: MDR for health decision support, citations into the sources."""
    response = client.post("/brief", json={"profile": EYE})
    assert response.status_code == 200, response.text
    data = response.json()
    numbers = {s["number"] for s in data["sources"]}
    mdr = next(c for c in data["challenges"] if c["rule"] == "law-mdr-ce-marking")
    assert set(mdr["examples"]) <= numbers and mdr["legal"]
    assert data["as_of_years"] == [2022]


def test_brief_as_markdown_in_english(client: TestClient) -> None:
    """format=markdown answers with the Markdown document, lang=en with the English words."""
    response = client.post("/brief", json={"profile": EYE, "format": "markdown", "lang": "en"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert response.text.startswith("# Project briefing: Screening for diabetisk øjensygdom")


def test_a_bad_profile_is_a_422_naming_the_key(client: TestClient) -> None:
    """An unknown key and a wrong value come back as a JSON error naming each."""
    bad = {**EYE, "domain": "helbred", "budget": 3}
    response = client.post("/brief", json={"profile": bad})
    assert response.status_code == 422
    text = response.text
    assert "domain" in text and "budget" in text
