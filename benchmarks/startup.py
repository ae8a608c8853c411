"""Cold start to a first answer: the CLI, the bare floor, LlamaIndex, and the Streamlit app.

"Cold" means a new process each time; the operating system's file cache stays warm (dropping it
would disturb the other users of this shared machine), so disk reads are mostly excluded.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, child_env, peak_rss_mb, ratio, run_measured, run_worker, summary_s

__all__ = ["app_startup", "cold_starts", "startup_ratios"]

BIN = Path(sys.executable).parent


def lessons_env(serve: Path, model: str) -> dict[str, str]:
    """Environment pointing the CLI and the app at the benchmark's copies (data in a temp folder)."""
    return child_env(
        {
            "LESSONS_CORPUS_DIR": str(serve / "corpus"),
            "LESSONS_INDEX_DIR": str(serve / "index"),
            "LESSONS_DATA_DIR": str(serve / "var"),
            "LESSONS_MODEL": model,
        }
    )


def _cli_run(serve: Path, model: str, question: str) -> dict[str, Any]:
    """`lessons ask --json QUESTION` in a new process, start to exit."""
    measured = run_measured([str(BIN / "lessons"), "ask", "--json", question], env=lessons_env(serve, model))
    if measured.returncode != 0:
        raise RuntimeError(f"lessons ask failed ({measured.returncode}): {measured.stderr[-2000:]}")
    answer = json.loads(measured.stdout.splitlines()[-1])
    return {
        "wall_s": round(measured.seconds, 3),
        "cpu_s": measured.cpu_s,
        "max_rss_mb": measured.max_rss_mb,
        "hits": len(answer["hits"]),
    }


def _worker_run(task: str, args: dict[str, Any]) -> dict[str, Any]:
    result, measured = run_worker(task, args)
    return {
        "wall_s": round(measured.seconds, 3),
        "cpu_s": measured.cpu_s,
        "max_rss_mb": measured.max_rss_mb,
        **{k: round(v, 3) for k, v in result.items() if k.endswith("_s")},
    }


def cold_starts(
    serve: Path, model: str, question: str, repetitions: int, peer_dir: Path | None = None
) -> dict[str, Any]:
    """New processes answering one question: the CLI, the floor and (with ``peer_dir``) LlamaIndex.

    The floor only imports sentence-transformers and FAISS, loads the model and the index file,
    and answers. The kinds are interleaved, in rotating order, so load bursts hit all alike.
    """
    version = (serve / "index" / "CURRENT").read_text(encoding="utf-8").strip()
    index_file = serve / "index" / "versions" / version / "vectors.faiss"
    kinds: dict[str, Callable[[], dict[str, Any]]] = {
        "cli": lambda: _cli_run(serve, model, question),
        "floor": lambda: _worker_run("floor", {"model": model, "index_file": str(index_file), "question": question}),
    }
    if peer_dir is not None:
        kinds["llamaindex"] = lambda: _worker_run(
            "peer-start", {"persist_dir": str(peer_dir), "model": model, "config": "defaults", "question": question}
        )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in kinds}
    names = list(kinds)
    for rep in range(repetitions):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            runs[name].append(kinds[name]())
    out: dict[str, Any] = {
        name: {
            "runs": items,
            "wall": summary_s([r["wall_s"] for r in items]),
            "cpu": summary_s([r["cpu_s"] for r in items]),
            "max_rss_mb": max(r["max_rss_mb"] for r in items),
        }
        for name, items in runs.items()
    }
    out.setdefault("llamaindex", None)
    return out


# --- the app -------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _wait(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    driver_path = shutil.which("chromedriver")
    service = Service(executable_path=driver_path) if driver_path else Service()
    return webdriver.Chrome(options=options, service=service)


# The last chat message is an answer when it holds no spinner and more than a line of text.
_ANSWER_JS = """
const msgs = document.querySelectorAll('[data-testid="stChatMessage"]');
if (document.querySelector('[data-testid="stException"]')) return 'exception';
if (msgs.length < 2) return null;
const last = msgs[msgs.length - 1];
if (last.querySelector('[data-testid="stSpinner"]')) return null;
return last.innerText.length > 80 ? 'answer' : null;
"""


def app_command(port: int | str) -> list[str]:
    """What `make run` runs, on ``port``: the launcher behind `lessons app` (Streamlit with the warm-up), its flags."""
    return [
        str(BIN / "python"),
        "-m",
        "lessons.ui.launch",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


def app_command_text() -> str:
    """The measured command as a reader would type it (the port as PORT)."""
    return " ".join(["python", *app_command("PORT")[1:]])


def _one_app_run(driver: Any, env: dict[str, str], question: str, ready_texts: list[str], log: Path) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    port = free_port()
    args = app_command(port)
    with log.open("ab") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: proc.poll() is None and _healthy(port), 300, "/_stcore/health")
        health = time.perf_counter()
        driver.get(f"http://127.0.0.1:{port}/")
        box = _wait(
            lambda: driver.find_elements(By.CSS_SELECTOR, "textarea[data-testid='stChatInputTextArea']"),
            300,
            "the chat input",
        )[0]
        page = time.perf_counter()

        def ready() -> bool:
            body = driver.find_element(By.TAG_NAME, "body").text
            return any(t in body for t in ready_texts)

        _wait(ready, 900, "the page to finish loading the model and index")
        loaded = time.perf_counter()
        box = driver.find_element(By.CSS_SELECTOR, "textarea[data-testid='stChatInputTextArea']")
        box.send_keys(question)
        box.send_keys(Keys.ENTER)
        asked = time.perf_counter()
        state = _wait(lambda: driver.execute_script(_ANSWER_JS), 900, "the first answer")
        answered = time.perf_counter()
        if state == "exception":
            raise RuntimeError("the app showed an exception; see " + str(log))
        return {
            "health_s": round(health - started, 3),
            "page_s": round(page - started, 3),
            "ready_s": round(loaded - started, 3),
            "first_answer_s": round(answered - started, 3),
            "answer_after_ask_s": round(answered - asked, 3),
            "peak_rss_mb": round(peak_rss_mb(proc.pid) or 0.0, 1) or None,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def app_startup(serve: Path, model: str, question: str, repetitions: int, log_dir: Path) -> dict[str, Any]:
    """`streamlit run app.py` headless on a free port: time to health, to a loaded page, to a first answer.

    The answer is asked through headless chromium (Selenium); without a browser, through AppTest
    in a new process. Skipped with a note when app.py does not exist.
    """
    if not (ROOT / "app.py").is_file():
        return {"skipped": "app.py does not exist yet, so the app's start-up was not measured."}
    from lessons.words import t

    env = lessons_env(serve, model)
    ready_texts = [t("try_asking", "da"), t("try_asking", "en")]
    log = log_dir / "streamlit.log"
    log_dir.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    method = "browser"
    problem = None
    try:
        driver = _browser()
    except Exception as exc:  # no chromium/chromedriver: fall back to AppTest
        driver = None
        problem = f"no headless browser ({type(exc).__name__}: {exc})"
    if driver is not None:
        try:
            for _ in range(repetitions):
                runs.append(_one_app_run(driver, env, question, ready_texts, log))
        except Exception as exc:
            problem = f"browser run failed ({type(exc).__name__}: {exc})"
            runs = []
        finally:
            with contextlib.suppress(Exception):
                driver.quit()
    if not runs:
        method = "apptest"
        runs = [_apptest_run(env, question) for _ in range(repetitions)]
    return {
        "method": method,
        "command": app_command_text() if method == "browser" else None,
        "problem": problem,
        "runs": runs,
        "first_answer": summary_s([r["first_answer_s"] for r in runs]),
        "health": summary_s([r["health_s"] for r in runs if r.get("health_s") is not None]),
    }


def _apptest_run(env: dict[str, str], question: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data:
        env = {**env, "LESSONS_DATA_DIR": data}
        measured = run_measured(
            [sys.executable, "-m", "benchmarks.worker", "apptest", json.dumps({"question": question})], env=env
        )
    result = measured.result()
    if result["exceptions"]:
        raise RuntimeError(f"the app raised: {result['exceptions']}")
    return {
        "health_s": None,
        "first_answer_s": round(measured.seconds, 3),
        "answer_after_ask_s": round(result["answer_s"], 3),
        "peak_rss_mb": measured.max_rss_mb,
    }


def startup_ratios(cli: dict[str, Any], floor: dict[str, Any], peer: dict[str, Any] | None) -> dict[str, Any]:
    """CLI start-up over the floor's, and the peer's over the CLI's."""
    out = {"cli/floor": ratio(cli["wall"]["median_s"], floor["wall"]["median_s"])}
    if peer:
        out["llamaindex/cli"] = ratio(peer["wall"]["median_s"], cli["wall"]["median_s"])
    return out
