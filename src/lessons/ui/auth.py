"""Sign-in for the app: who is using it, with which role, and the sign-in page.

Two ways in: a local account (checked by :mod:`lessons.accounts`; the session token stays in
Streamlit's server-side session state, never in the page) or the organisation's identity provider
through ``st.login`` (OpenID Connect; Streamlit keeps the ID-token claims in a signed cookie, and
:mod:`lessons.oidc` maps them to a role). :func:`current_actor` is asked again inside every action
handler, so an expired session or a changed role stops the action whatever the page showed.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import streamlit as st

from lessons import signin
from lessons.accounts import (
    AccountLockedError,
    AccountsMissingError,
    AccountStore,
    AccountsUnavailableError,
    Policy,
    SessionExpiredError,
    SignInError,
)
from lessons.errors import LessonsError
from lessons.oidc import OidcConfig, OidcRoleError, actor_from_claims, check_config, identity, recorded_name
from lessons.roles import Action, Actor, PermissionDeniedError, allows
from lessons.settings import Settings
from lessons.ui.render import safe, say_later, show_said
from lessons.words import t

__all__ = [
    "AuthState",
    "auth_state",
    "current_actor",
    "denied_message",
    "failure_message",
    "oidc_config",
    "remember",
    "role_label",
    "sidebar",
    "sign_in_page",
    "store",
    "this_run",
]

TOKEN_KEY = "auth_token"  # noqa: S105 - a session-state key, not a secret
MESSAGE_KEY = "auth_message"
OIDC_ENDED_KEY = "auth_oidc_ended"
OIDC_DENIED_KEY = "auth_oidc_denied"
USER_KEY = "auth_user"
PASSWORD_KEY = "auth_password"  # noqa: S105 - a widget key, not a secret


def policy(settings: Settings) -> Policy:
    """The sign-in limits from the settings."""
    return Policy(
        max_attempts=settings.sign_in_attempts,
        lockout=timedelta(minutes=settings.lockout_minutes),
        idle=timedelta(minutes=settings.session_idle_minutes),
    )


def store(settings: Settings, *, create: bool = False) -> AccountStore:
    """The accounts database (never created by the app for local sign-in). Raises AccountsUnavailableError."""
    return AccountStore(settings.data_dir, policy=policy(settings), create=create)


def oidc_config() -> OidcConfig:
    """The ``[auth]`` section of the secrets, checked; a secrets file that cannot be read is a problem, not a crash."""
    try:
        if not st.secrets.load_if_toml_exists():
            return OidcConfig(configured=False)
        section = st.secrets.get("auth")
    except Exception as exc:  # a malformed secrets.toml: Streamlit raises its own parse errors
        return OidcConfig(configured=True, problems=(f".streamlit/secrets.toml cannot be read: {exc}",))
    if section is None:
        return OidcConfig(configured=False)
    data = section.to_dict() if hasattr(section, "to_dict") else dict(section)
    return check_config(data if isinstance(data, Mapping) else None)


def _claims() -> dict[str, Any]:
    try:
        user = st.user.to_dict()
    except Exception:  # no auth configured, or no script context
        return {}
    return dict(user) if user.get("is_logged_in") else {}


def role_label(actor: Actor, lang: str) -> str:
    """The actor's role in the interface language."""
    return t(f"role_{actor.role.value}", lang)


def _say(kind: str, text: str) -> None:
    say_later(MESSAGE_KEY, kind, text)


@dataclass(frozen=True)
class AuthState:
    """Who is here, and what the sign-in page should say."""

    actor: Actor | None
    accounts_problem: str | None  # why local sign-in is unavailable, if it is
    oidc: OidcConfig

    def may(self, action: Action) -> bool:
        """Whether the current actor's role allows ``action``."""
        return allows(self.actor.role if self.actor else None, action)


def _expired_text(exc: SessionExpiredError, settings: Settings, lang: str) -> str:
    if exc.idle is not None:
        return t("auth_expired", lang, minutes=f"{settings.session_idle_minutes:g}")
    return t("auth_ended", lang)


def _local_actor(settings: Settings, lang: str) -> Actor | None:
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    try:
        return signin.resume(settings.data_dir, store(settings), str(token)).actor()  # audits an idle expiry
    except SessionExpiredError as exc:
        st.session_state.pop(TOKEN_KEY, None)
        _say("warning", _expired_text(exc, settings, lang))
    except LessonsError:  # the accounts database or the audit log cannot be used: no curation access
        st.session_state.pop(TOKEN_KEY, None)
    return None


def _oidc_actor(settings: Settings, claims: Mapping[str, Any], lang: str) -> Actor | None:
    key = identity(claims)
    if st.session_state.get(OIDC_ENDED_KEY) == key:
        return None
    try:
        actor = actor_from_claims(claims, settings)
        signin.oidc_signed_in(settings.data_dir, store(settings, create=True), key, actor)  # audits a new sign-in
    except OidcRoleError as exc:
        st.session_state[OIDC_DENIED_KEY] = t("auth_oidc_no_role", lang, problem=safe(exc.said(lang)))
        with suppress(LessonsError):  # refused either way; the record is capped per name
            signin.oidc_refused(settings.data_dir, recorded_name(claims), str(exc), window=policy(settings).lockout)
        return None
    except SessionExpiredError as exc:
        st.session_state[OIDC_ENDED_KEY] = key
        _say("warning", _expired_text(exc, settings, lang))
        return None
    except LessonsError:  # the accounts database or the audit log cannot be used: no curation access
        return None
    return actor


def current_actor(settings: Settings, lang: str = "da") -> Actor | None:
    """The signed-in actor, checked now (idle time, removed account, changed role), or None."""
    st.session_state.pop(OIDC_DENIED_KEY, None)
    actor = _local_actor(settings, lang)
    if actor is not None:
        return actor
    claims = _claims()
    if claims and oidc_config().usable:
        return _oidc_actor(settings, claims, lang)
    return None


def auth_state(settings: Settings, lang: str) -> AuthState:
    """The actor and whether local and organisation sign-in are available."""
    problem = None
    try:
        accounts = store(settings)
        accounts.check()
        if not accounts.accounts():
            problem = t("auth_no_accounts", lang)
    except AccountsMissingError:
        problem = t("auth_no_accounts", lang)
    except AccountsUnavailableError:
        problem = t("auth_damaged", lang)
    return AuthState(actor=current_actor(settings, lang), accounts_problem=problem, oidc=oidc_config())


def denied_message(exc: PermissionDeniedError, lang: str) -> str:
    """A refused action, in the interface language."""
    if exc.actor is None:
        return t("auth_sign_in_first", lang)
    from lessons.roles import REQUIRED

    return t(
        "auth_denied", lang, role=role_label(exc.actor, lang), needed=t(f"role_{REQUIRED[exc.action].value}", lang)
    )


def failure_message(exc: LessonsError, lang: str, key: str) -> str:
    """What a failed action shows: a refusal by role in words, else the problem (in ``lang`` where the error
    has its words) in the text ``key``."""
    if isinstance(exc, PermissionDeniedError):
        return denied_message(exc, lang)
    return t(key, lang, problem=safe(exc.said(lang)))


# --- the sign-in page and the sidebar -------------------------------------------------------------------


def _sign_in(settings: Settings, lang: str) -> None:
    """The sign-in button's callback: check the password, start a session, forget the password."""
    name = str(st.session_state.get(USER_KEY) or "")
    password = str(st.session_state.get(PASSWORD_KEY) or "")
    st.session_state.pop(PASSWORD_KEY, None)
    try:
        _account, st.session_state[TOKEN_KEY] = signin.sign_in(settings.data_dir, store(settings), name, password)
    except AccountLockedError as exc:
        _say("error", t("auth_locked", lang, minutes=exc.minutes))
        return
    except SignInError:
        _say("error", t("auth_wrong", lang))
        return
    except LessonsError as exc:
        _say("error", t("auth_unavailable", lang, problem=safe(exc.said(lang))))
        return
    st.session_state.pop(MESSAGE_KEY, None)


def _sign_out(settings: Settings, lang: str, actor: Actor | None = None) -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    claims = _claims()
    key = identity(claims) if claims else None
    if key:
        st.session_state[OIDC_ENDED_KEY] = key
    if token or key:
        with suppress(LessonsError):  # signed out in this session whatever the databases say
            signin.sign_out(
                settings.data_dir, store(settings), actor, token=str(token) if token else None, oidc_identity=key
            )
    _say("info", t("auth_signed_out", lang))


def show_message() -> None:
    """Show (once) what the last sign-in step said."""
    show_said(MESSAGE_KEY)


def sign_in_page(settings: Settings, lang: str, state: AuthState) -> None:
    """The sign-in form, and nothing else: organisation sign-in when configured, and the local form."""
    st.title(t("auth_title", lang))
    st.markdown(t("auth_intro_closed" if settings.reading_requires_sign_in else "auth_intro", lang))
    show_message()
    if state.oidc.configured and state.oidc.problems:
        st.error(t("auth_oidc_broken", lang, problems=safe("; ".join(state.oidc.problems))))
    elif state.oidc.usable:
        if st.button(t("auth_org", lang), key="auth_org", type="primary", icon=":material/corporate_fare:"):
            st.session_state.pop(OIDC_ENDED_KEY, None)
            if state.oidc.provider:
                st.login(state.oidc.provider)
            else:
                st.login()
        if not state.accounts_problem:
            st.caption(t("auth_or", lang))
    if state.accounts_problem:
        no_local_accounts = state.accounts_problem == t("auth_no_accounts", lang)
        if not (state.oidc.usable and no_local_accounts):  # organisation sign-in alone needs no local accounts
            st.info(t("auth_unavailable", lang, problem=state.accounts_problem))
        return
    with st.form("auth_form", clear_on_submit=False, border=True):
        st.text_input(t("auth_user", lang), key=USER_KEY, max_chars=100, autocomplete="username")
        st.text_input(
            t("auth_password", lang), key=PASSWORD_KEY, type="password", max_chars=1024, autocomplete="current-password"
        )
        st.form_submit_button(t("auth_submit", lang), type="primary", on_click=_sign_in, args=(settings, lang))


def sidebar(settings: Settings, lang: str, actor: Actor | None) -> None:
    """Who is signed in, with a sign-out button (organisation sign-ins also clear Streamlit's cookie).

    An organisation sign-in that maps to no role is told so here, on every page, with a way out.
    """
    denied = st.session_state.get(OIDC_DENIED_KEY)
    if actor is None and denied:
        with st.sidebar:
            st.error(str(denied))
            if st.button(t("auth_sign_out", lang), key="auth_oidc_sign_out", icon=":material/logout:"):
                st.session_state.pop(OIDC_DENIED_KEY, None)
                st.logout()
        return
    if actor is None:
        return
    with st.sidebar:
        st.markdown(t("auth_signed_in_as", lang, name=safe(actor.name), role=role_label(actor, lang)))
        if st.button(t("auth_sign_out", lang), key="auth_sign_out", icon=":material/logout:"):
            _sign_out(settings, lang, actor)
            if actor.source == "oidc":
                st.logout()
            st.rerun()


STATE_KEY = "auth_state"


def remember(state: AuthState) -> None:
    """Keep this run's state for the pages (rendering only; handlers call :func:`current_actor` again)."""
    st.session_state[STATE_KEY] = state


def this_run() -> AuthState:
    """The state :func:`remember` kept for this run (nobody signed in when there is none)."""
    state = st.session_state.get(STATE_KEY)
    return state if isinstance(state, AuthState) else AuthState(None, None, OidcConfig(configured=False))
