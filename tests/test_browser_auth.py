"""Organisation sign-in end to end in headless chromium: `st.login` against a real OpenID provider
(tests/oidc_provider.py) started here. Local accounts (curator drafts, editor approves, lock-out) are driven in
test_browser.py's walk-through, on the same app run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import (
    app_env,
    click,
    click_button,
    free_port,
    shot,
    sidebar_nav,
    streamlit_app,
    wait_for_text,
    wait_until,
)
from tests.oidc_provider import oidc_provider

pytestmark = pytest.mark.browser

CLIENT_ID, CLIENT_SECRET = "lessons-test", "lessons-test-secret"


@contextmanager
def _oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider (our test-only one, tests/oidc_provider.py) on 127.0.0.1 at a free port."""
    users = {
        "edda": {"email": "edda@example.org", "email_verified": True, "roles": ["editor"]},
        "nora": {"email": "nora@example.org", "email_verified": True},
    }
    with oidc_provider(users, CLIENT_ID, CLIENT_SECRET) as issuer:
        yield issuer


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
            f'client_id = "{CLIENT_ID}"\n'
            f'client_secret = "{CLIENT_SECRET}"\n'
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
            assert "ingen 'roles'-claim" in text and "Logget ind som" not in text  # the refusal in Danish
            links = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a')
            assert all("Kuratering" not in link.text for link in links)
