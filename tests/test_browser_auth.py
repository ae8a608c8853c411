"""Sign-in end to end in headless chromium: local accounts (curator drafts, editor approves, lock-out) and
organisation sign-in through `st.login` against a real OpenID provider (oidc-provider-mock) started here."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lessons.curation import find_entry, new_entry_id
from lessons.models import ReviewState
from tests.test_browser import (
    ARTIFACTS,
    CHROMEDRIVER,
    CHROMIUM,
    CHROMIUM_FLAGS,
    MODEL_DIR,
    ROOT,
    _free_port,
    _page_text,
    _wait_for_text,
    _wait_healthy,
)

pytestmark = pytest.mark.browser

WAIT = 90.0
PASSWORDS = {"karen": "karens long password", "edda": "eddas long password", "lars": "lars long password"}


def _env(tiny_corpus: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "LESSONS_CORPUS_DIR": str(tiny_corpus),
        "LESSONS_INDEX_DIR": str(tmp_path / "index"),
        "LESSONS_DATA_DIR": str(tmp_path / "var"),
        "LESSONS_MODEL": str(MODEL_DIR),
        **extra,
    }


@contextmanager
def _streamlit(env: dict[str, str], log: Path, *extra: str, port: int | None = None) -> Iterator[str]:
    """`streamlit run app.py` on 127.0.0.1 at a free port (or ``port``); stopped on exit."""
    if not (MODEL_DIR / "lessons-model.json").is_file():
        pytest.skip(f"the real model is not set up in {MODEL_DIR}; run `lessons setup-model`")
    port = port or _free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
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
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[object]:
    """Debian's headless chromium with a fresh profile (as in the chat's browser test)."""
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.skip(f"no chromium at {CHROMIUM} or chromedriver at {CHROMEDRIVER}")
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


def _add_account(env: dict[str, str], name: str, role: str) -> None:
    """`lessons users add NAME --role ROLE` with the password on stdin, as a script would."""
    result = subprocess.run(
        [sys.executable, "-m", "lessons.cli", "users", "add", name, "--role", role],
        input=PASSWORDS[name] + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _by(kind: str, value: str) -> tuple[str, str]:
    from selenium.webdriver.common.by import By

    return (By.CSS_SELECTOR if kind == "css" else By.XPATH, value)


def _element(driver: object, kind: str, value: str, timeout: float = WAIT) -> object:
    """The clickable element, or a failure that shows what the page showed instead."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout).until(ec.element_to_be_clickable(_by(kind, value)))  # type: ignore[arg-type]
    except TimeoutException:
        pytest.fail(f"no clickable {value} within {timeout:g} s; the page shows:\n{_page_text(driver)[-3000:]}")


def _type(driver: object, label: str, text: str, area: bool = False) -> None:
    """Type into the text input (or area) with this label, replacing what is there."""
    from selenium.webdriver.common.keys import Keys

    box = _element(driver, "css", f'{"textarea" if area else "input"}[aria-label="{label}"]')
    box.click()  # type: ignore[attr-defined]
    box.send_keys(Keys.CONTROL, "a")  # type: ignore[attr-defined]
    box.send_keys(Keys.DELETE)  # type: ignore[attr-defined]
    box.send_keys(text)  # type: ignore[attr-defined]


def _click(driver: object, text: str) -> None:
    """Click the button whose label is ``text``."""
    _element(driver, "xpath", f"//button[.//p[normalize-space()='{text}']]").click()  # type: ignore[attr-defined]


def _choose(driver: object, text: str) -> None:
    """Pick the radio option labelled ``text`` (the curator page's sections)."""
    _element(driver, "xpath", f"//label[.//p[normalize-space()='{text}']]").click()  # type: ignore[attr-defined]


def _sign_in(driver: object, name: str, password: str) -> None:
    _type(driver, "Brugernavn", name)
    _type(driver, "Adgangskode", password)
    _element(driver, "css", '[data-testid="stFormSubmitButton"] button').click()  # type: ignore[attr-defined]


def _sidebar_nav(driver: object) -> str:
    from selenium.webdriver.common.by import By

    links = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a')  # type: ignore[attr-defined]
    return " | ".join(link.text for link in links)


def _wait_until(check: object, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def test_local_sign_in_curator_drafts_editor_approves_and_lock_out(
    tiny_corpus: Path, tmp_path: Path, chromium: object
) -> None:
    """Anonymous /kurator: sign-in only. Karen (curator) drafts but cannot approve; Edda (editor) approves;
    five wrong passwords lock Lars out, and then even his right password is refused."""
    env = _env(tiny_corpus, tmp_path)
    for name, role in (("karen", "curator"), ("edda", "editor"), ("lars", "editor")):
        _add_account(env, name, role)
    driver = chromium
    ARTIFACTS.mkdir(exist_ok=True)
    with _streamlit(env, tmp_path / "streamlit.log") as url:
        driver.get(url + "kurator")  # type: ignore[attr-defined]
        text = _wait_for_text(driver, "Kuratering kræver login", "Brugernavn", timeout=WAIT)
        assert "Kuratering af erfaringer" not in text and "Kladder" not in text
        nav = _sidebar_nav(driver)
        assert "Log ind" in nav and "Kuratering" not in nav
        driver.save_screenshot(str(ARTIFACTS / "browser-sign-in.png"))  # type: ignore[attr-defined]

        _sign_in(driver, "karen", PASSWORDS["karen"])
        _wait_for_text(driver, "Kuratering af erfaringer", "Logget ind som karen (kurator)", timeout=WAIT)
        _type(driver, "Titel *", "Fælles datamodel i browseren")
        _type(driver, "Udfordring *", "Data lå i tre fagsystemer med hver sin datamodel.", area=True)
        _type(driver, "Håndtering *", "Teamet aftalte en fælles datamodel med leverandørerne.", area=True)
        _type(driver, "Kilde: rapport *", "Browsertest")
        _click(driver, "Gem som kladde")
        _wait_for_text(driver, "Gemt som kladde", timeout=WAIT)
        entry_id = new_entry_id("handling", "Fælles datamodel i browseren", [])  # ids are made by the slug rule
        assert find_entry(tiny_corpus, entry_id)[1].created_by == "karen"
        _choose(driver, "Kladder (1)")
        text = _wait_for_text(driver, "Venter på godkendelse af en redaktør.", timeout=WAIT)
        assert "Godkend" not in text
        _click(driver, "Log ud")
        _wait_for_text(driver, "Logget ud.", "Brugernavn", timeout=WAIT)

        _sign_in(driver, "edda", PASSWORDS["edda"])
        _wait_for_text(driver, "Logget ind som edda (redaktør)", timeout=WAIT)
        _choose(driver, "Kladder (1)")
        _click(driver, "Godkend")
        _wait_for_text(driver, f"Godkendt: {entry_id}", timeout=WAIT)
        entry = find_entry(tiny_corpus, entry_id)[1]
        assert entry.state is ReviewState.APPROVED and entry.approved_by == "edda"
        _click(driver, "Log ud")
        _wait_for_text(driver, "Logget ud.", timeout=WAIT)

        for attempt in range(5):
            _sign_in(driver, "lars", "not his password")
            _wait_until(
                lambda: "Forkert brugernavn eller adgangskode." in _page_text(driver) or "låst" in _page_text(driver),
                f"the refusal of attempt {attempt + 1}",
            )
            time.sleep(0.5)
        _sign_in(driver, "lars", PASSWORDS["lars"])
        text = _wait_for_text(driver, "Kontoen er låst", timeout=WAIT)
        assert "Logget ind som lars" not in text
        driver.save_screenshot(str(ARTIFACTS / "browser-locked.png"))  # type: ignore[attr-defined]


@contextmanager
def _oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider (oidc-provider-mock) on 127.0.0.1 at a free port, in a thread."""
    oidc = pytest.importorskip("oidc_provider_mock")
    from werkzeug.serving import make_server

    users = [
        oidc.User(sub="edda", claims={"email": "edda@example.org", "email_verified": True, "roles": ["editor"]}),
        oidc.User(sub="nora", claims={"email": "nora@example.org", "email_verified": True}),
    ]
    server = make_server("127.0.0.1", 0, oidc.app(user_claims=users, require_nonce=True), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _choose_user(driver: object, sub: str) -> None:
    """On the provider's page, pick a predefined user (the provider then redirects back to the app)."""
    _element(driver, "xpath", f"//button[@name='sub' and @value='{sub}']").click()  # type: ignore[attr-defined]


def test_organisation_sign_in_through_a_real_oidc_provider(tiny_corpus: Path, tmp_path: Path, chromium: object) -> None:
    """st.login against a local OpenID provider: an editor by the 'roles' claim gets curation; a tampered cookie
    and a token without the role claim get no access."""
    from selenium.webdriver.common.by import By

    with _oidc_provider() as issuer:
        secrets_file = tmp_path / "secrets.toml"
        driver = chromium
        env = _env(tiny_corpus, tmp_path, LESSONS_OIDC_ROLE_CLAIM="roles")
        log = tmp_path / "streamlit.log"
        port = _free_port()
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "lessons-test"\n'
            'client_secret = "lessons-test-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        with _streamlit(env, log, "--secrets.files", str(secrets_file), port=port) as url:
            assert url == f"http://127.0.0.1:{port}/"
            driver.get(url + "kurator")  # type: ignore[attr-defined]
            text = _wait_for_text(driver, "Log ind med organisationens konto", timeout=WAIT)
            assert "Kuratering er ikke tilgængelig" not in text  # organisation sign-in needs no local accounts
            _click(driver, "Log ind med organisationens konto")
            _choose_user(driver, "edda")
            _wait_for_text(driver, "Logget ind som edda@example.org (redaktør)", timeout=WAIT)
            _wait_until(lambda: "Kuratering" in _sidebar_nav(driver), "the curator page in the navigation")
            driver.get(url + "kurator")  # type: ignore[attr-defined]
            _wait_for_text(driver, "Kuratering af erfaringer", "Handlinger registreres som edda@example.org")
            driver.save_screenshot(str(ARTIFACTS / "browser-oidc-editor.png"))  # type: ignore[attr-defined]

            cookie = driver.get_cookie("_streamlit_user")  # type: ignore[attr-defined]
            assert cookie is not None, driver.get_cookies()  # type: ignore[attr-defined]
            value = cookie["value"]
            forged = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
            driver.delete_cookie("_streamlit_user")  # type: ignore[attr-defined]
            driver.add_cookie({"name": "_streamlit_user", "value": forged, "path": "/"})  # type: ignore[attr-defined]
            driver.get(url + "kurator")  # type: ignore[attr-defined]
            text = _wait_for_text(driver, "Log ind med organisationens konto", timeout=WAIT)
            assert "Logget ind som" not in text and "Kuratering af erfaringer" not in text

            driver.delete_all_cookies()  # type: ignore[attr-defined]
            driver.get(url + "kurator")  # type: ignore[attr-defined]
            _click(driver, "Log ind med organisationens konto")
            _choose_user(driver, "nora")
            text = _wait_for_text(driver, "Logget ind, men uden adgang", timeout=WAIT)
            assert "no 'roles' claim" in text and "Logget ind som" not in text
            links = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a')  # type: ignore[attr-defined]
            assert all("Kuratering" not in link.text for link in links)
