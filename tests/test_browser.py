"""End to end: `streamlit run app.py` with the real model, driven by headless chromium through Selenium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "models" / "multilingual-e5-small"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,2000",
)
START_TIMEOUT = 90
ANSWER_TIMEOUT = 120

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    pytest.fail(f"streamlit did not become healthy within {START_TIMEOUT} s:\n{log.read_text(errors='replace')}")


@pytest.fixture
def app_url(tiny_corpus: Path, tmp_path: Path) -> Iterator[str]:
    """`streamlit run app.py` over a copy of the tiny corpus and a fresh index, with the real model."""
    if not (MODEL_DIR / "lessons-model.json").is_file():
        pytest.skip(f"the real model is not set up in {MODEL_DIR} (no lessons-model.json); run `lessons setup-model`")
    port = _free_port()
    env = {
        **os.environ,
        "LESSONS_CORPUS_DIR": str(tiny_corpus),
        "LESSONS_INDEX_DIR": str(tmp_path / "index"),
        "LESSONS_DATA_DIR": str(tmp_path / "var"),
        "LESSONS_MODEL": str(MODEL_DIR),
    }
    log = tmp_path / "streamlit.log"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, proc, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """Debian's headless chromium with a fresh profile."""
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.skip(
            f"no chromium at {CHROMIUM} or no chromedriver at {CHROMEDRIVER}: apt-get install chromium chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _page_text(driver: object) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)  # type: ignore[attr-defined]


def _wait_for_text(driver: object, *needles: str, times: int = 1, timeout: float = ANSWER_TIMEOUT) -> str:
    """Wait until the page shows every needle at least ``times`` times; return the page text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = _page_text(driver)
        if all(text.count(n) >= times for n in needles):
            return text
        time.sleep(0.3)
    pytest.fail(f"page never showed {needles!r} {times} time(s); it shows:\n{text[-3000:]}")


def _ask(driver: object, question: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    box = WebDriverWait(driver, ANSWER_TIMEOUT).until(  # type: ignore[arg-type]
        ec.element_to_be_clickable((By.CSS_SELECTOR, 'textarea[data-testid="stChatInputTextArea"]'))
    )
    box.click()
    box.send_keys(question)
    box.send_keys(Keys.ENTER)


def test_a_question_typed_in_the_browser_is_answered_with_cited_cards(app_url: str, browser: object) -> None:
    """Danish, then English after the switch: each answer shows the overview, citations and the MDR card."""
    from selenium.webdriver.common.by import By

    driver = browser
    ARTIFACTS.mkdir(exist_ok=True)
    driver.get(app_url)  # type: ignore[attr-defined]
    # The first start builds the index with the real model; the example questions appear when it is ready.
    _wait_for_text(driver, "Erfaringer fra signaturprojekterne", "Prøv fx at spørge", timeout=START_TIMEOUT + 60)
    _ask(driver, "Skal vores algoritme CE-mærkes efter MDR?")
    text = _wait_for_text(driver, "Kort fortalt", "[1] CE-mærkning af algoritmen efter MDR", "Håndteringseksempel")
    assert "Kilde: Testrapport" in text and "Udfordring:" in text
    driver.save_screenshot(str(ARTIFACTS / "browser-answer-da.png"))  # type: ignore[attr-defined]

    _ask(driver, "og i regionerne? <script>window.__xss = 1</script>")
    _wait_for_text(driver, "og i regionerne? <script>window.__xss = 1</script>", "Sektor fra spørgsmålet: Region")
    assert driver.execute_script("return window.__xss === undefined")  # type: ignore[attr-defined]

    toggle = driver.find_element(By.XPATH, "//label[.//p[text()='English']]")  # type: ignore[attr-defined]
    toggle.click()
    _wait_for_text(driver, "Experiences from the signature projects", "In short")
    _ask(driver, "Does our algorithm need CE marking as a medical device?")
    text = _wait_for_text(driver, "In short", "Was this answer useful?", times=3)
    assert "Does our algorithm need CE marking as a medical device?" in text
    assert text.count("[1] CE-mærkning af algoritmen efter MDR") >= 2  # Danish card text under English labels
    assert "Handling example" in text and "Source: Testrapport" in text
    driver.save_screenshot(str(ARTIFACTS / "browser-answer-en.png"))  # type: ignore[attr-defined]
