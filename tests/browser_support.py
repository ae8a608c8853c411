"""What the browser tests share: the Streamlit app started on 127.0.0.1 at a free port and stopped by the test,
Debian's headless chromium, local accounts made with the CLI, and bounded waits that show the page on failure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

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
START_TIMEOUT = 90.0  # until Streamlit answers its health check
STOP_TIMEOUT = 10.0
READY_TIMEOUT = 180.0  # until a page has loaded the real model and opened the index
SEED_BUILD_TIMEOUT = 900.0  # the one build from nothing per session; a shared 2-core machine is slow
WAIT = 120.0  # an answer, a sign-in, an upload

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def app_env(corpus: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of an app over ``corpus`` with index and data in ``tmp_path`` and the real model."""
    return {
        **os.environ,
        "LESSONS_CORPUS_DIR": str(corpus),
        "LESSONS_INDEX_DIR": str(tmp_path / "index"),
        "LESSONS_DATA_DIR": str(tmp_path / "var"),
        "LESSONS_MODEL": str(MODEL_DIR),
        **extra,
    }


def _require_model() -> None:
    if not (MODEL_DIR / "lessons-model.json").is_file():
        pytest.skip(f"the real model is not set up in {MODEL_DIR} (no lessons-model.json); run `lessons setup-model`")


def build_seed_index(corpus: Path, base: Path) -> Path:
    """`lessons build` over ``corpus`` with the real model into base/index; return that folder.

    Built once per session and copied by each test (:func:`copy_index`), so an app starts on a ready
    index and a rebuild re-embeds only what changed (the no-match training texts are reused).
    """
    _require_model()
    env = app_env(corpus, base)
    result = subprocess.run(
        [sys.executable, "-m", "lessons.cli", "build"],
        env=env,
        capture_output=True,
        text=True,
        timeout=SEED_BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return base / "index"


def copy_index(seed: Path, tmp_path: Path) -> None:
    """Copy the session's seed index to tmp_path/index, where :func:`app_env` points the app."""
    shutil.copytree(seed, tmp_path / "index")


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
    pytest.fail(f"streamlit did not become healthy within {START_TIMEOUT:g} s:\n{log.read_text(errors='replace')}")


@contextmanager
def streamlit_app(
    env: dict[str, str], log: Path, *extra: str, port: int | None = None, launcher: bool = False
) -> Iterator[str]:
    """`streamlit run app.py` (with ``launcher``: `lessons app`, as `make run`) on 127.0.0.1 at a free port
    (or ``port``); yields its URL, stops it on exit."""
    _require_model()
    port = port or free_port()
    start = ["lessons.cli", "app"] if launcher else ["streamlit", "run", str(ROOT / "app.py")]
    command = [
        sys.executable, "-m", *start,
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra,
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, proc, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


@contextmanager
def chromium(profile: Path, downloads: Path) -> Iterator[Any]:
    """Debian's headless chromium with a fresh profile, saving downloads into ``downloads``; quit on exit."""
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
    options.add_argument(f"--user-data-dir={profile}")
    downloads.mkdir(parents=True, exist_ok=True)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def add_account(env: dict[str, str], name: str, role: str, password: str) -> None:
    """`lessons users add NAME --role ROLE` with the password on stdin, as an admin's script would."""
    result = subprocess.run(
        [sys.executable, "-m", "lessons.cli", "users", "add", name, "--role", role],
        input=password + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def page_text(driver: Any) -> str:
    """The visible text of the whole page; "" while a navigation replaces the page under us.

    A redirect (an OpenID provider sending the browser back to the app) can swap the document
    between finding its body and reading its text: Selenium then calls the body stale. The
    waits poll again, so an empty text here only means "not shown yet".
    """
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return str(driver.find_element(By.TAG_NAME, "body").text)
    except (StaleElementReferenceException, NoSuchElementException):
        return ""


def wait_until(condition: Callable[[], T], what: str, timeout: float = WAIT) -> T:
    """Poll ``condition`` every 0.3 s until it returns something true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


def wait_for_text(driver: Any, *needles: str, times: int = 1, timeout: float = WAIT) -> str:
    """Wait until the page shows every needle at least ``times`` times; return the page text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = page_text(driver)
        if all(text.count(n) >= times for n in needles):
            return text
        time.sleep(0.3)
    pytest.fail(f"page never showed {needles!r} {times} time(s) within {timeout:g} s; it shows:\n{text[-3000:]}")


def element(driver: Any, xpath_or_css: str, timeout: float = WAIT) -> Any:
    """The clickable element (an XPath if it starts with '/', else a CSS selector), or a failure showing the page."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    by = By.XPATH if xpath_or_css.startswith("/") else By.CSS_SELECTOR
    try:
        return WebDriverWait(driver, timeout).until(ec.element_to_be_clickable((by, xpath_or_css)))
    except TimeoutException:
        pytest.fail(f"no clickable {xpath_or_css} within {timeout:g} s; the page shows:\n{page_text(driver)[-3000:]}")


def click(driver: Any, xpath_or_css: str, timeout: float = WAIT) -> Any:
    """Scroll the element into view and click it."""
    found = element(driver, xpath_or_css, timeout)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", found)
    found.click()
    return found


def click_button(driver: Any, text: str, timeout: float = WAIT) -> None:
    """Click the button whose label is ``text``."""
    click(driver, f"//button[.//p[normalize-space()='{text}']]", timeout)


def choose(driver: Any, text: str, timeout: float = WAIT) -> None:
    """Pick the radio option labelled ``text`` (the curator page's sections, the language)."""
    click(driver, f"//label[.//p[normalize-space()='{text}']]", timeout)


TYPE_ATTEMPTS = 3
SETTLE_SECONDS = 15.0


def _box_value(driver: Any, selector: str) -> str | None:
    """The current value of the box, or None while the page is re-rendering it."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return str(driver.find_element(By.CSS_SELECTOR, selector).get_attribute("value"))
    except (StaleElementReferenceException, NoSuchElementException):
        return None


def _app_running(driver: Any) -> bool:
    """True while Streamlit shows its "running" status (a rerun is in flight)."""
    from selenium.webdriver.common.by import By

    return bool(driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))


def _value_settles(driver: Any, selector: str, text: str) -> bool:
    """Wait until no rerun is in flight, then say whether the box still holds ``text``.

    Streamlit commits a text box on blur and reruns the script; a rerun that was already in flight
    (from the previous box, or a sign-in) can redraw the form with the server's older value. So the
    value counts only once it is still there after two idle polls in a row.
    """
    deadline = time.monotonic() + SETTLE_SECONDS
    idle_polls = 0
    while time.monotonic() < deadline:
        time.sleep(0.3)
        if _app_running(driver):
            idle_polls = 0
            continue
        value = _box_value(driver, selector)
        if value is not None and value != text:
            return False
        idle_polls = idle_polls + 1 if value == text else 0
        if idle_polls >= 2:
            return True
    return False


def type_into(driver: Any, label: str, text: str, area: bool = False) -> None:
    """Type into the text input (or area) with this label, replacing what is there, and commit it.

    Tab moves the focus away, which is how Streamlit commits a box; the value is then checked once
    the app is idle, and typed again (a bounded number of times) if a rerun in flight wiped it.
    """
    from selenium.webdriver.common.keys import Keys

    selector = f'{"textarea" if area else "input"}[aria-label="{label}"]'
    for _ in range(TYPE_ATTEMPTS):
        box = element(driver, selector)
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        box.send_keys(text)
        box.send_keys(Keys.TAB)
        if _value_settles(driver, selector, text):
            return
    pytest.fail(
        f"the box {label!r} did not keep the typed text after {TYPE_ATTEMPTS} tries; the page shows:\n"
        f"{page_text(driver)[-3000:]}"
    )


def sign_in(driver: Any, name: str, password: str) -> None:
    """Fill in the local sign-in form and submit it."""
    type_into(driver, "Brugernavn", name)
    type_into(driver, "Adgangskode", password)
    click(driver, '[data-testid="stFormSubmitButton"] button')


def ask(driver: Any, question: str) -> None:
    """Type a question into the chat box and send it."""
    from selenium.webdriver.common.keys import Keys

    box = element(driver, 'textarea[data-testid="stChatInputTextArea"]')
    box.click()
    box.send_keys(question)
    box.send_keys(Keys.ENTER)


def sidebar_nav(driver: Any) -> str:
    """The page links in the sidebar, as 'A | B | C'."""
    from selenium.webdriver.common.by import By

    return " | ".join(link.text for link in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a'))


def shot(driver: Any, name: str) -> Path:
    """A screenshot of the whole window into tests/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path
