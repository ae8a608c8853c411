"""Sign-in end to end in headless chromium: local accounts (curator drafts, editor approves, lock-out) and
organisation sign-in through `st.login` against a real OpenID provider (oidc-provider-mock) started here."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from lessons.accounts import AccountStore, utc_now
from lessons.curation import find_entry, new_entry_id
from lessons.models import ReviewState
from tests.browser_support import (
    add_account,
    app_env,
    choose,
    click,
    click_button,
    free_port,
    shot,
    sidebar_nav,
    sign_in,
    streamlit_app,
    type_into,
    wait_for_text,
    wait_until,
)

pytestmark = pytest.mark.browser

PASSWORDS = {"karen": "karens long password", "edda": "eddas long password", "lars": "lars long password"}


def test_local_sign_in_curator_drafts_editor_approves_and_lock_out(
    tiny_corpus: Path, tmp_path: Path, browser: Any
) -> None:
    """Anonymous /kurator: sign-in only. Karen (curator) drafts but cannot approve; Edda (editor) approves;
    five wrong passwords lock Lars out, and then even his right password is refused."""
    env = app_env(tiny_corpus, tmp_path)
    for name, role in (("karen", "curator"), ("edda", "editor"), ("lars", "editor")):
        add_account(env, name, role, PASSWORDS[name])
    driver = browser
    with streamlit_app(env, tmp_path / "streamlit.log") as url:
        driver.get(url + "kurator")
        text = wait_for_text(driver, "Kuratering kræver login", "Brugernavn")
        assert "Kuratering af erfaringer" not in text and "Kladder" not in text
        nav = sidebar_nav(driver)
        assert "Log ind" in nav and "Kuratering" not in nav
        shot(driver, "browser-sign-in.png")

        sign_in(driver, "karen", PASSWORDS["karen"])
        wait_for_text(driver, "Kuratering af erfaringer", "Logget ind som karen (kurator)")
        type_into(driver, "Titel *", "Fælles datamodel i browseren")
        type_into(driver, "Udfordring *", "Data lå i tre fagsystemer med hver sin datamodel.", area=True)
        type_into(driver, "Håndtering *", "Teamet aftalte en fælles datamodel med leverandørerne.", area=True)
        type_into(driver, "Kilde: rapport *", "Browsertest")
        click_button(driver, "Gem som kladde")
        wait_for_text(driver, "Gemt som kladde")
        entry_id = new_entry_id("handling", "Fælles datamodel i browseren", [])  # ids are made by the slug rule
        assert find_entry(tiny_corpus, entry_id)[1].created_by == "karen"
        choose(driver, "Kladder (1)")
        text = wait_for_text(driver, "Venter på godkendelse af en redaktør.")
        assert "Godkend" not in text
        click_button(driver, "Log ud")
        wait_for_text(driver, "Logget ud.", "Brugernavn")

        sign_in(driver, "edda", PASSWORDS["edda"])
        wait_for_text(driver, "Logget ind som edda (redaktør)")
        choose(driver, "Kladder (1)")
        click_button(driver, "Godkend")
        wait_for_text(driver, f"Godkendt: {entry_id}")
        entry = find_entry(tiny_corpus, entry_id)[1]
        assert entry.state is ReviewState.APPROVED and entry.approved_by == "edda"
        click_button(driver, "Log ud")
        wait_for_text(driver, "Logget ud.")

        accounts = AccountStore(tmp_path / "var")
        for attempt in range(1, 6):  # each attempt waits until the server counted it (a page message may be stale)
            sign_in(driver, "lars", "not his password")
            wait_until(
                lambda n=attempt: (lars := accounts.get("lars")).failed_attempts == n or lars.locked_until is not None,
                f"the server to count attempt {attempt}",
            )
            wait_for_text(driver, "Forkert brugernavn eller adgangskode.")
        assert accounts.get("lars").locked(utc_now())
        sign_in(driver, "lars", PASSWORDS["lars"])
        text = wait_for_text(driver, "Kontoen er låst")
        assert "Logget ind som lars" not in text
        shot(driver, "browser-locked.png")


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


def _choose_user(driver: Any, sub: str) -> None:
    """On the provider's page, pick a predefined user (the provider then redirects back to the app)."""
    click(driver, f"//button[@name='sub' and @value='{sub}']")


def test_organisation_sign_in_through_a_real_oidc_provider(tiny_corpus: Path, tmp_path: Path, browser: Any) -> None:
    """st.login against a local OpenID provider: an editor by the 'roles' claim gets curation; a tampered cookie
    and a token without the role claim get no access."""
    from selenium.webdriver.common.by import By

    with _oidc_provider() as issuer:
        secrets_file = tmp_path / "secrets.toml"
        driver = browser
        env = app_env(tiny_corpus, tmp_path, LESSONS_OIDC_ROLE_CLAIM="roles")
        log = tmp_path / "streamlit.log"
        port = free_port()
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "lessons-test"\n'
            'client_secret = "lessons-test-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        with streamlit_app(env, log, "--secrets.files", str(secrets_file), port=port) as url:
            assert url == f"http://127.0.0.1:{port}/"
            driver.get(url + "kurator")
            text = wait_for_text(driver, "Log ind med organisationens konto")
            assert "Kuratering er ikke tilgængelig" not in text  # organisation sign-in needs no local accounts
            click_button(driver, "Log ind med organisationens konto")
            _choose_user(driver, "edda")
            wait_for_text(driver, "Logget ind som edda@example.org (redaktør)")
            wait_until(lambda: "Kuratering" in sidebar_nav(driver), "the curator page in the navigation")
            driver.get(url + "kurator")
            wait_for_text(driver, "Kuratering af erfaringer", "Handlinger registreres som edda@example.org")
            shot(driver, "browser-oidc-editor.png")

            cookie = driver.get_cookie("_streamlit_user")
            assert cookie is not None, driver.get_cookies()
            value = cookie["value"]
            forged = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
            driver.delete_cookie("_streamlit_user")
            driver.add_cookie({"name": "_streamlit_user", "value": forged, "path": "/"})
            driver.get(url + "kurator")
            text = wait_for_text(driver, "Log ind med organisationens konto")
            assert "Logget ind som" not in text and "Kuratering af erfaringer" not in text

            driver.delete_all_cookies()
            driver.get(url + "kurator")
            click_button(driver, "Log ind med organisationens konto")
            _choose_user(driver, "nora")
            text = wait_for_text(driver, "Logget ind, men uden adgang")
            assert "no 'roles' claim" in text and "Logget ind som" not in text
            links = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a')
            assert all("Kuratering" not in link.text for link in links)
