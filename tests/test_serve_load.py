"""A short, bounded load run against a real uvicorn on 127.0.0.1 (slow): no errors, also while versions swap."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from lessons.api import create_app
from lessons.build import build_index
from lessons.embedding import Embedder, FakeEmbedder
from lessons.engine import open_searcher
from lessons.search import Searcher
from lessons.serving import SearchService
from lessons.settings import Settings

pytestmark = pytest.mark.slow

CLIENTS = 8
SECONDS = 4.0
QUESTIONS = ["Skal algoritmen CE-mærkes efter MDR?", "adgang til data via API", "hjemmemålinger KOL", "energi"]


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(settings: Settings, fake: FakeEmbedder) -> Iterator[tuple[int, Settings]]:
    """uvicorn serving the API over the tiny corpus on a free port of 127.0.0.1, stopped after the test."""
    settings = settings.model_copy(update={"serve_reload_check": 0.1, "serve_rate_limit": 0.0})
    build_index(settings, fake)

    def opener(s: Settings, embedder: Embedder | None) -> tuple[Searcher, list[str]]:
        return open_searcher(s, fake)

    app = create_app(settings, service=SearchService(settings, opener=opener))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield port, settings
    finally:
        instance.should_exit = True
        thread.join(15)
        assert not thread.is_alive()


def _load(port: int, seconds: float) -> tuple[int, list[str]]:
    """CLIENTS threads post /ask for ``seconds``; (answered, errors)."""
    answered = 0
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        nonlocal answered
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        i = number
        while time.monotonic() < deadline:
            body = json.dumps({"question": QUESTIONS[i % len(QUESTIONS)], "k": 3})
            i += 1
            try:
                conn.request("POST", "/ask", body=body, headers={"content-type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                ok = response.status == 200 and "hits" in json.loads(data)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                ok, data = False, repr(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            with lock:
                if ok:
                    answered += 1
                else:
                    errors.append(data[:200].decode(errors="replace"))
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    return answered, errors


def _health(port: int) -> dict[str, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/health")
    body: dict[str, object] = json.loads(conn.getresponse().read())
    conn.close()
    return body


def test_concurrent_clients_get_no_errors(server: tuple[int, Settings]) -> None:
    """8 clients for 4 s against uvicorn: every request is answered."""
    port, _ = server
    answered, errors = _load(port, SECONDS)
    assert errors == []
    assert answered > CLIENTS


def test_no_errors_while_a_rebuild_swaps_the_version(
    server: tuple[int, Settings], fake: FakeEmbedder, tmp_path: Path
) -> None:
    """Rebuilds during the load swap in new versions; no request fails and the new version is served."""
    port, settings = server
    before = _health(port)["index_version"]
    result: dict[str, object] = {}

    def rebuild() -> None:
        for _ in range(3):
            time.sleep(SECONDS / 4)
            result["version"] = build_index(settings, fake, full=True).manifest.version

    builder = threading.Thread(target=rebuild)
    builder.start()
    answered, errors = _load(port, SECONDS)
    builder.join(30)
    assert errors == []
    assert answered > CLIENTS
    deadline = time.monotonic() + 10
    while _health(port)["index_version"] != result["version"]:
        assert time.monotonic() < deadline, "the new version was not swapped in"
        time.sleep(0.1)
    assert before != result["version"]
