"""The launcher (`lessons app`) and its warm-up, handed over to the first page (lessons.ui.warmup); fake embedder."""

from __future__ import annotations

import ast
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lessons import engine
from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.errors import IndexUnusableError
from lessons.settings import Settings
from lessons.settings import load as load_settings
from lessons.store import read_current
from lessons.ui import launch, resources, warmup
from lessons.words import t
from tests.conftest import open_app
from tests.test_app import KOL_LESSON, MDR_QUESTION, turns

pytestmark = [pytest.mark.heavy, pytest.mark.usefixtures("fresh_streamlit", "no_offers")]

ROOT = Path(__file__).resolve().parent.parent
WAIT = 30.0


@pytest.fixture
def no_offers() -> Iterator[None]:
    """No job on offer before or after the test (the offers are process-wide)."""
    for name in warmup.offered():
        warmup.take(name, None)
    yield
    for name in warmup.offered():
        warmup.take(name, None)


class Opens:
    """Records each index open that finished (engine.open_searcher), with the version it served."""

    def __init__(self, fail_first: bool = False) -> None:
        self.versions: list[str] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()

    def wrap(self, real: Callable[..., Any]) -> Callable[..., Any]:
        """open_searcher, counted (and failing once when asked to)."""

        def counted(settings: Settings, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                if self.fail_first:
                    self.fail_first = False
                    raise IndexUnusableError("vectors.faiss is damaged (test)")
            searcher, warnings = real(settings, *args, **kwargs)
            with self._lock:
                self.versions.append(searcher.version)
            return searcher, warnings

        return counted

    def wait_for(self, count: int) -> None:
        """Wait (at most WAIT seconds) until ``count`` opens finished."""
        deadline = time.monotonic() + WAIT
        while len(self.versions) < count:
            assert time.monotonic() < deadline, f"only {len(self.versions)} of {count} index opens finished"
            time.sleep(0.02)


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> Opens:
    """Index opens counted, by the warm-up and by pages alike."""
    counter = Opens()
    monkeypatch.setattr(engine, "open_searcher", counter.wrap(engine.open_searcher))
    return counter


def ready(at: Any) -> bool:
    """The chat page finished loading and invites a question."""
    return any(t("try_asking", "da") in m.value for m in at.markdown)


def test_the_first_page_takes_over_the_index_the_warm_up_opened(built: Settings, opens: Opens) -> None:
    """warm() opens the current version before any session; the first page is ready at once and opens nothing."""
    version = read_current(built.index_dir)
    assert launch.warm(imports=()) is None
    assert warmup.offered() == {
        "index": (resources._key(load_settings()), version),
        "status": (resources._key(load_settings()), version, resources.corpus_signature(built.corpus_dir)),
    }
    opens.wait_for(1)
    at = open_app()
    assert ready(at)
    assert warmup.offered() == {}
    at.chat_input[0].set_value(MDR_QUESTION).run()
    assert not at.exception
    assert [a.index_version for a in turns(at)] == [version]
    assert opens.versions == [version]  # the warm-up's open, taken over: the page opened nothing itself


def test_a_version_swapped_in_after_the_warm_up_is_opened_by_the_page(
    built: Settings, fake: FakeEmbedder, tiny_corpus: Path, opens: Opens
) -> None:
    """When a rebuild swaps CURRENT after the warm-up, the page opens and answers from the new version."""
    old = read_current(built.index_dir)
    launch.warm(imports=())
    opens.wait_for(1)
    (tiny_corpus / "entries" / "handling" / "handling-kol-maalinger.yaml").write_text(KOL_LESSON, encoding="utf-8")
    build_index(built, fake)
    new = read_current(built.index_dir)
    assert new != old
    at = open_app()
    for _ in range(int(WAIT / 0.5)):  # the new version opens in the background; the page reruns itself when done
        if ready(at):
            break
        time.sleep(0.5)
        at.run()
    assert ready(at), "the page did not finish loading the new version"
    assert not any("forældet" in w.value for w in at.warning)  # the status is the new version's, not the warm one's
    at.chat_input[0].set_value(MDR_QUESTION).run()
    assert not at.exception
    assert [a.index_version for a in turns(at)] == [new]
    assert opens.versions == [old, new]
    assert warmup.offered() == {}  # the stale offer was dropped, not kept for later


def test_a_bad_setting_stops_the_warm_up_with_a_notice_and_the_page_names_it(
    env_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad LESSONS_* value: the warm-up offers nothing and says so in one line; the page shows the setting."""
    monkeypatch.setenv("LESSONS_TOP_K", "many")
    launch.start_warm_up().join(WAIT)
    err = capsys.readouterr().err
    assert "LESSONS_TOP_K" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert warmup.offered() == {}
    at = open_app()
    assert not at.exception
    assert any("Ugyldig indstilling" in e.value and "LESSONS_TOP_K" in e.value.replace("\\", "") for e in at.error)


def test_a_failed_warm_load_is_shown_by_the_page_and_the_next_visit_loads_afresh(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warm-up's load error reaches the page as a message (no traceback); the next run opens the index again."""
    counter = Opens(fail_first=True)
    monkeypatch.setattr(engine, "open_searcher", counter.wrap(engine.open_searcher))
    launch.warm(imports=())
    at = open_app()
    for _ in range(int(WAIT / 0.5)):
        if at.error:
            break
        time.sleep(0.5)
        at.run()
    assert not at.exception
    assert any("vectors.faiss is damaged (test)" in e.value for e in at.error)
    for _ in range(int(WAIT / 0.5)):
        at.run()
        if ready(at):
            break
        time.sleep(0.5)
    assert ready(at) and counter.versions == [read_current(built.index_dir)]


def test_page_imports_are_app_py_lessons_imports_after_its_skeleton(tmp_path: Path) -> None:
    """page_imports lists a script's lessons imports after shell.skeleton(), in order, and nothing before or else."""
    script = tmp_path / "app.py"
    script.write_text(
        "import streamlit as st\n"
        "from lessons.ui import shell\n"
        "from lessons.words import t\n"
        "holder = shell.skeleton()\n"
        "import json\n"
        "from lessons.ui import chat, curator  # noqa: E402\n"
        "import lessons.roles, os\n"
        "from lessons.words import t as words\n"
        "if holder:\n"
        "    from lessons.ui import overview\n",
        encoding="utf-8",
    )
    assert launch.page_imports(script) == (
        ("lessons.ui", ("chat", "curator")),
        ("lessons.roles", ()),
        ("lessons.words", ("t",)),
    )
    script.write_text("from lessons.ui import chat\n", encoding="utf-8")  # no skeleton: nothing to warm
    assert launch.page_imports(script) == ()


_WARM_THEN_APP = """
import ast, sys
from pathlib import Path
from lessons.ui import launch
script = Path(sys.argv[1])
launch.import_pages(launch.page_imports(script))
warmed = {name for name in sys.modules if name.startswith("lessons")}
source = script.read_text(encoding="utf-8")
after = source[source.index(launch.SKELETON):]
for node in ast.parse(source).body:
    if isinstance(node, (ast.Import, ast.ImportFrom)) and ast.get_source_segment(source, node) in after:
        exec(compile(ast.Module(body=[node], type_ignores=[]), str(script), "exec"), {})
print(sorted(warmed))
print(sorted(name for name in sys.modules if name.startswith("lessons") and name not in warmed))
"""


@pytest.mark.slow
def test_the_warm_up_imports_everything_the_app_imports_after_its_skeleton() -> None:
    """In a fresh process, running app.py's own page imports after the warm-up's loads no lessons module it missed."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _WARM_THEN_APP, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    warmed, missed = (ast.literal_eval(line) for line in done.stdout.strip().splitlines()[-2:])
    assert {"lessons.ui.chat", "lessons.ui.curator", "lessons.roles", "lessons.words"} <= set(warmed)
    assert missed == []


def test_the_launcher_starts_the_warm_up_then_streamlit_with_the_options_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`lessons app --server.port N` is `streamlit run app.py --server.port N` with the warm-up started first."""
    from streamlit.web import cli as streamlit_cli

    calls: list[Any] = []
    monkeypatch.setattr(launch, "start_warm_up", lambda: calls.append("warm-up"))
    monkeypatch.setattr(streamlit_cli, "main", lambda args, prog_name: calls.append((prog_name, args)))
    monkeypatch.chdir(tmp_path)  # no app.py here: the checkout's is used
    launch.main(["--server.port", "8599", "--server.headless", "true"])
    assert calls == [
        "warm-up",
        ("streamlit", ["run", str(ROOT / "app.py"), "--server.port", "8599", "--server.headless", "true"]),
    ]
    (tmp_path / "app.py").write_text("", encoding="utf-8")
    assert launch.app_script() == tmp_path / "app.py"


def test_the_launcher_names_the_missing_app_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without app.py in the folder or the checkout, the launcher says where it looked and exits 2."""
    monkeypatch.setattr(launch, "CHECKOUT", tmp_path / "checkout")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        launch.main([])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "no app.py in" in err and str(tmp_path / "checkout") in err and "Traceback" not in err


def test_make_run_is_the_command_the_benchmark_measures() -> None:
    """`make run` starts the launcher with the flags benchmarks/startup.py times, so the bench measures production."""
    from benchmarks.startup import app_command

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run = re.search(r"^run: .*\n\t(.+)$", makefile, flags=re.MULTILINE)
    assert run is not None
    assert run.group(1).split() == ["$(BIN)/python", *app_command("$(PORT)")[1:]]
