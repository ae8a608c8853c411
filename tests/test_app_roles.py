"""Who sees what in the app (AppTest): anonymous, reader, curator, editor and admin; sign-in, lock-out,
expired and forged sessions, reading behind sign-in, and a missing or damaged accounts database."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from lessons import accounts, audit, words
from lessons.curation import find_entry
from lessons.embedding import FakeEmbedder
from lessons.feedback import record_gap
from lessons.models import ReviewState
from lessons.settings import Settings
from tests.conftest import APP, TEST_PASSWORD, account_session, open_app

pytestmark = [pytest.mark.heavy, pytest.mark.usefixtures("fresh_streamlit")]

READING = [
    ("", "Spørg"),
    ("projekter", words.t("nav_projects", "da")),
    ("briefing", words.t("brief_nav", "da")),
    ("overblik", "Overblik"),
]


@pytest.fixture
def nav(monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[str, str]]]:
    """Records the pages app.py puts in the navigation on each run, as (url path, title)."""
    seen: list[list[tuple[str, str]]] = []
    original = st.navigation

    def record(pages: Any, **kwargs: Any) -> Any:
        seen.append([(page.url_path, page.title) for page in pages])
        return original(pages, **kwargs)

    monkeypatch.setattr(st, "navigation", record)
    return seen


@pytest.fixture
def built(built: Settings) -> Settings:
    """The tiny corpus with its index built and one draft by karen waiting."""
    env_settings = built
    draft = env_settings.corpus_dir / "entries" / "advice" / "advice-draft.yaml"
    draft.write_text(
        "id: advice-draft\nkind: advice\ntitle: Et udkast\nbody: Et råd, der venter på godkendelse.\n"
        "state: draft\ncreated_by: karen\nhistory: ['2026-11-30T09:00:00Z created by karen: draft']\n"
        "source:\n  report: Testrapport\n",
        encoding="utf-8",
    )
    record_gap(env_settings.data_dir, question="hvordan bager man kage")
    return env_settings


def shown(at: AppTest) -> str:
    """Every text on the page and in the sidebar."""
    out: list[str] = [str(t.value) for t in at.title]
    for kind in ("markdown", "caption", "info", "warning", "success", "error"):
        out.extend(str(element.value) for element in getattr(at, kind))
    return "\n".join(out).replace("\\", "")  # Markdown escapes removed


def buttons(at: AppTest) -> set[str]:
    """The keys of every button on the page."""
    return {str(b.key) for b in at.button if b.key}


def test_anonymous_reads_but_never_sees_the_curator_page(built: Settings, nav: list[list[tuple[str, str]]]) -> None:
    """Anonymous: the reading pages and a 'Log ind' page in the navigation, never the curator page."""
    open_app()
    assert nav[-1] == [*READING, ("kurator", "Log ind")]


def test_anonymous_at_the_curator_url_gets_the_sign_in_form_and_nothing_else(built: Settings) -> None:
    """A direct /kurator shows the sign-in form only: no sections, no drafts, no gap log, no buttons but sign-in."""
    account_session(built, "karen", "curator")
    at = open_app(page="kurator")
    assert [t.value for t in at.title] == ["Log ind"]
    assert [w.label for w in at.text_input] == ["Brugernavn", "Adgangskode"]
    assert not at.radio and not at.text_area and not at.selectbox
    text = shown(at)
    assert "advice-draft" not in text and "Et udkast" not in text and "kage" not in text


def test_anonymous_overview_has_no_rebuild_and_no_curator_lists(built: Settings) -> None:
    """The overview's rebuild and the gap log are not there for anonymous readers."""
    (built.corpus_dir / "entries" / "advice" / "advice-data.yaml").unlink()  # make the index stale
    at = open_app(page="overblik")
    assert "kage" not in shown(at)
    assert not [b for b in at.button if "Genopbyg" in b.label]
    assert not at.expander or all("kurator" not in e.label.lower() for e in at.expander)


def test_reader_sees_reading_pages_only(built: Settings, nav: list[list[tuple[str, str]]]) -> None:
    """A signed-in reader gets the reading pages and a sign-out button; /kurator does not exist for them."""
    at = open_app(account_session(built, "rita", "reader"), page="kurator")
    assert nav[-1] == READING
    assert "Kuratering af erfaringer" not in shown(at) and "Logget ind som **rita** (læser)" in shown(at)
    assert "auth_sign_out" in buttons(at)


def test_curator_drafts_but_sees_no_approve_rebuild_or_audit(built: Settings, nav: list[list[tuple[str, str]]]) -> None:
    """A curator gets the curator page without approve buttons, rebuild or the audit log."""
    at = open_app(account_session(built, "karen", "curator"), page="kurator")
    assert nav[-1] == [*READING, ("kurator", "Kuratering")]
    assert at.radio(key="cur_section").options == [
        "Ny erfaring",
        "Kladder (1)",
        "Ret eller udgå",
        "Indlæs rapport",
        "Huller og feedback",
    ]
    at.radio(key="cur_section").set_value("drafts").run()
    assert "cur_retire_advice-draft" in buttons(at) and "cur_approve_advice-draft" not in buttons(at)
    assert "Venter på godkendelse af en redaktør." in shown(at)
    at.radio(key="cur_section").set_value("gaps").run()
    assert "kage" in shown(at)


def test_editor_approves_others_drafts_and_sees_the_audit_log(built: Settings) -> None:
    """An editor has approve buttons and the audit log; approving karen's draft is recorded under the editor."""
    at = open_app(account_session(built, "edda", "editor"), page="kurator")
    assert "Revisionsspor" in at.radio(key="cur_section").options
    at.radio(key="cur_section").set_value("drafts").run()
    at.button(key="cur_approve_advice-draft").click().run()
    assert find_entry(built.corpus_dir, "advice-draft")[1].state is ReviewState.APPROVED
    at.radio(key="cur_section").set_value("audit").run()
    assert "**edda** (editor) · approve" in shown(at)
    assert "state: draft → approved" in shown(at)


def test_editor_cannot_approve_own_draft(built: Settings) -> None:
    """Four-eyes in the app: karen, now an editor, is refused on her own draft with a clear message."""
    at = open_app(account_session(built, "karen", "editor"), page="kurator")
    at.radio(key="cur_section").set_value("drafts").run()
    at.button(key="cur_approve_advice-draft").click().run()
    assert "En anden redaktør skal godkende den." in shown(at)
    assert find_entry(built.corpus_dir, "advice-draft")[1].state is ReviewState.DRAFT


def test_a_role_taken_away_stops_the_next_action_whatever_the_page_shows(built: Settings) -> None:
    """The handler checks the role when it runs: an editor demoted after the page was drawn cannot approve."""
    at = open_app(account_session(built, "edda", "editor"), page="kurator")
    at.radio(key="cur_section").set_value("drafts").run()
    approve = at.button(key="cur_approve_advice-draft")
    accounts.AccountStore(built.data_dir).set_role("edda", accounts.Role.CURATOR)
    approve.click().run()
    assert find_entry(built.corpus_dir, "advice-draft")[1].state is ReviewState.DRAFT
    assert "Det kræver rollen redaktør." in shown(at)
    assert [e.action for e in audit.events(built.data_dir)] == []


def test_sign_in_form_wrong_password_then_lock_out_then_right(built: Settings) -> None:
    """Wrong passwords get one message; the fifth locks the account, and the right password is refused then."""
    account_session(built, "karen", "curator")
    at = open_app(page="kurator")
    for _ in range(5):
        at.text_input(key="auth_user").set_value("karen")
        at.text_input(key="auth_password").set_value("wrong password!")
        at.button[0].click().run()
        assert "Forkert brugernavn eller adgangskode." in shown(at) or "låst" in shown(at)
    at.text_input(key="auth_user").set_value("karen")
    at.text_input(key="auth_password").set_value(TEST_PASSWORD)
    at.button[0].click().run()
    assert "Kontoen er låst" in shown(at) and "Kuratering af erfaringer" not in shown(at)
    accounts.AccountStore(built.data_dir).unlock("karen")
    at.text_input(key="auth_user").set_value("karen")
    at.text_input(key="auth_password").set_value(TEST_PASSWORD)
    at.button[0].click().run()
    assert "Kuratering af erfaringer" in shown(at)
    assert "auth_password" not in at.session_state


def test_unknown_user_gets_the_same_message_as_a_wrong_password(built: Settings) -> None:
    """An unknown name is not revealed as unknown."""
    account_session(built, "karen", "curator")
    at = open_app(page="kurator")
    at.text_input(key="auth_user").set_value("nobody")
    at.text_input(key="auth_password").set_value(TEST_PASSWORD)
    at.button[0].click().run()
    assert "Forkert brugernavn eller adgangskode." in shown(at)


def test_an_idle_session_expires_with_a_message(built: Settings) -> None:
    """After the idle time the next step shows the sign-in form and says the session expired."""
    at = open_app(account_session(built, "karen", "curator"), page="kurator")
    assert "Kuratering af erfaringer" in shown(at)
    with sqlite3.connect(accounts.db_path(built.data_dir)) as conn:  # 31 minutes pass without activity
        conn.execute("UPDATE sessions SET last_seen = datetime(last_seen, '-31 minutes')")
    at.run()
    assert not at.exception, at.exception
    assert "Sessionen er udløbet efter 30 minutter uden aktivitet." in shown(at)
    assert [t.value for t in at.title] == ["Log ind"]


def test_a_forged_session_token_gives_no_access(built: Settings) -> None:
    """A made-up token in the session is not a sign-in."""
    account_session(built, "karen", "curator")
    at = open_app("forged-token-" + "x" * 40, page="kurator")
    assert [t.value for t in at.title] == ["Log ind"]


def test_sign_out_ends_the_session(built: Settings) -> None:
    """Sign-out returns to the sign-in page; the old token no longer works."""
    token = account_session(built, "karen", "curator")
    at = open_app(token, page="kurator")
    at.button(key="auth_sign_out").click().run()
    assert "Logget ud." in shown(at) and [t.value for t in at.title] == ["Log ind"]
    with pytest.raises(accounts.SessionExpiredError):
        accounts.AccountStore(built.data_dir).resume(token)


def test_reading_can_require_sign_in(
    built: Settings, monkeypatch: pytest.MonkeyPatch, nav: list[list[tuple[str, str]]]
) -> None:
    """With LESSONS_READING_REQUIRES_SIGN_IN=1 anonymous visitors get only the sign-in page; a reader reads."""
    monkeypatch.setenv("LESSONS_READING_REQUIRES_SIGN_IN", "1")
    at = open_app(page="sporg")
    assert nav[-1] == [("", "Log ind")] and not at.chat_input
    assert "Log ind for at læse" in shown(at)
    at = open_app(account_session(built, "rita", "reader"))
    assert nav[-1] == READING and at.chat_input


def test_fresh_start_reading_open_curation_closed(
    env_settings: Settings, use_fake_embedder: FakeEmbedder, nav: list[list[tuple[str, str]]]
) -> None:
    """No accounts database (a fresh `make run`): reading works, curation is closed and says how to open it."""
    at = open_app()
    assert at.chat_input and nav[-1][-1] == ("kurator", "Log ind")
    at._page_hash = calc_hash("kurator")
    at.run()
    assert "Kuratering er ikke tilgængelig" in shown(at) and "lessons users add" in shown(at)
    assert not at.text_input
    assert not accounts.db_path(env_settings.data_dir).exists(), "the app does not create the accounts database"


def test_a_damaged_accounts_database_still_serves_readers(built: Settings) -> None:
    """Garbage in accounts.sqlite3: readers are served; the sign-in page says curation is unavailable."""
    built.data_dir.mkdir(parents=True, exist_ok=True)
    accounts.db_path(built.data_dir).write_bytes(b"not a database " * 500)
    at = open_app()
    assert at.chat_input and not at.exception
    at._page_hash = calc_hash("kurator")
    at.run()
    assert "Kuratering er ikke tilgængelig" in shown(at) and "kontodatabasen kan ikke læses" in shown(at)


def test_a_malformed_oidc_configuration_is_named_and_local_sign_in_still_works(
    built: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[auth] without client_secret and with a short cookie secret: the page names both; no org button."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "short"\n'
        'client_id = "lessons"\nserver_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    account_session(built, "karen", "curator")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = {  # AppTest's own secrets, as secrets.toml would give them
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "short",
        "client_id": "lessons",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
    at.run()
    at._page_hash = calc_hash("kurator")
    at.run()
    text = shown(at)
    assert "Log ind med organisation er slået fra" in text
    assert "client_secret is missing" in text and "cookie_secret must be" in text
    assert "auth_org" not in buttons(at) and [w.label for w in at.text_input] == ["Brugernavn", "Adgangskode"]


def add_account(at: AppTest, name: str, role: str, password: str, *, again: str) -> None:
    """Fill in the accounts section's new-account form (the password twice) and submit it."""
    at.text_input(key="acc_new_name").set_value(name)
    at.selectbox(key="acc_new_role").set_value(role)
    at.text_input(key="acc_new_pw").set_value(password)
    at.text_input(key="acc_new_pw2").set_value(again)
    next(b for b in at.button if b.label in ("Opret konto", "Create account")).click().run()


def test_only_an_admin_manages_accounts_in_the_app(built: Settings) -> None:
    """Editors have no accounts section; an admin adds an account (password twice), unlocks, changes a role."""
    editor = open_app(account_session(built, "edda", "editor"), page="kurator")
    assert "Konti" not in editor.radio(key="cur_section").options
    at = open_app(account_session(built, "root", "admin"), page="kurator")
    at.radio(key="cur_section").set_value("accounts").run()
    add_account(at, "nina", "curator", "ninas long password", again="ninas long passwort")
    assert "De to adgangskoder er ikke ens." in shown(at)
    add_account(at, "nina", "curator", "ninas long password", again="ninas long password")
    assert "Kontoen nina er oprettet." in shown(at)
    store = accounts.AccountStore(built.data_dir)
    assert store.authenticate("nina", "ninas long password").role is accounts.Role.CURATOR
    at.selectbox(key="acc_role_nina").set_value("editor")
    at.button(key="acc_set_nina").click().run()
    assert store.get("nina").role is accounts.Role.EDITOR
    at.button(key="acc_remove_root").click().run()
    assert "kan ikke fjerne sig selv" in shown(at) and store.get("root")
    assert [e.action for e in audit.events(built.data_dir)] == ["account-add", "account-role"]


def test_an_admin_unlocks_a_locked_account_in_the_app(built: Settings) -> None:
    """A locked account shows an unlock button only while locked; the admin's click lifts the lock and is audited."""
    account_session(built, "nina", "curator")
    store = accounts.AccountStore(built.data_dir)
    for _ in range(store.policy.max_attempts):
        with contextlib.suppress(accounts.SignInError):
            store.authenticate("nina", "a wrong password, again")
    assert store.get("nina").locked(accounts.utc_now())
    at = open_app(account_session(built, "root", "admin"), page="kurator")
    at.radio(key="cur_section").set_value("accounts").run()
    assert "acc_unlock_nina" in buttons(at) and "acc_unlock_root" not in buttons(at)
    at.button(key="acc_unlock_nina").click().run()
    assert not at.exception, at.exception
    assert not store.get("nina").locked(accounts.utc_now())
    assert "acc_unlock_nina" not in buttons(at)
    assert [e.action for e in audit.events(built.data_dir)] == ["account-unlock"]


def test_feedback_from_an_expired_session_is_refused_where_reading_needs_sign_in(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With reading behind sign-in, a thumbs click on the page a reader left open past the idle time writes nothing:
    the click's callback checks the sign-in again, as curators' actions do."""
    from lessons.feedback import list_feedback

    monkeypatch.setenv("LESSONS_READING_REQUIRES_SIGN_IN", "1")
    at = open_app(account_session(built, "rita", "reader"))
    at.chat_input[0].set_value("Skal algoritmen CE-mærkes efter MDR?").run()
    assert not at.exception and at.feedback, at.exception
    with sqlite3.connect(accounts.db_path(built.data_dir)) as conn:  # 31 minutes pass without activity
        conn.execute("UPDATE sessions SET last_seen = datetime(last_seen, '-31 minutes')")
    at.feedback[0].set_value(0).run()
    assert not at.exception, at.exception
    assert list_feedback(built.data_dir) == []
    assert [t.value for t in at.title] == ["Log ind"] and "Sessionen er udløbet" in shown(at)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_an_admins_refused_account_is_said_in_the_pages_language(built: Settings, lang: str) -> None:
    """A too short password, a taken name and a name that is not valid are refused in the page's language."""
    at = open_app(account_session(built, "root", "admin"), page="kurator")
    if lang == "en":
        at.toggle(key="lang_en").set_value(True).run()
    at.radio(key="cur_section").set_value("accounts").run()
    refusals = []
    for name, password in (("nina", "kort"), ("root", "a long enough password"), ("Nina Berg!", "a long enough pw")):
        add_account(at, name, "curator", password, again=password)
        refusals += [str(e.value).replace("\\", "") for e in at.error]  # Markdown escapes removed
    if lang == "da":
        assert refusals == [
            "adgangskoden er for kort: brug mindst 10 tegn",
            "der findes allerede en konto med navnet 'root'; `lessons users passwd root`",
            "kontonavnet 'Nina Berg!' kan ikke bruges: brug 1-100 små bogstaver, cifre og . _ @ + - (begynd med et "
            "bogstav eller et ciffer)",
        ], refusals
    else:
        assert refusals[0] == "the password is too short: use at least 10 characters", refusals
        assert refusals[1].startswith("there is already an account named 'root'"), refusals
        assert refusals[2].startswith("account name 'Nina Berg!' is not valid"), refusals
    assert [a.name for a in accounts.AccountStore(built.data_dir).accounts()] == ["root"]
