"""The admins' accounts section of the curator page: list, add, change role, unlock and remove local accounts.

Every handler asks for the signed-in actor again and requires the admin role before touching the
accounts database; each change is written to the audit log. Passwords are typed twice, checked by
:func:`lessons.accounts.check_password`, hashed, and removed from the session state at once.
"""

from __future__ import annotations

import streamlit as st

from lessons import audit
from lessons.accounts import AccountStore, utc_now
from lessons.errors import LessonsError
from lessons.roles import Action, Actor, PermissionDeniedError, Role, require
from lessons.settings import Settings
from lessons.ui import auth
from lessons.ui.render import safe, say_later, show_said
from lessons.words import t

__all__ = ["render_accounts"]

MESSAGE_KEY = "acc_message"
NEW_KEYS = {"name": "acc_new_name", "role": "acc_new_role", "password": "acc_new_pw", "again": "acc_new_pw2"}


def _say(kind: str, text: str) -> None:
    say_later(MESSAGE_KEY, kind, text)


def _admin_store(settings: Settings, lang: str) -> tuple[AccountStore, Actor] | None:
    """The accounts database and the acting admin, checked now; None (with a message) otherwise."""
    try:
        actor = require(auth.current_actor(settings, lang), Action.MANAGE_ACCOUNTS)
        return auth.store(settings), actor
    except PermissionDeniedError as exc:
        _say("error", auth.denied_message(exc, lang))
    except LessonsError as exc:
        _say("error", safe(exc.said(lang)))
    return None


def _record(settings: Settings, actor: Actor, action: str, detail: str) -> None:
    audit.record(settings.data_dir, actor, action, detail=detail)


def _add(settings: Settings, lang: str) -> None:
    password = str(st.session_state.pop(NEW_KEYS["password"], "") or "")
    again = str(st.session_state.pop(NEW_KEYS["again"], "") or "")
    found = _admin_store(settings, lang)
    if found is None:
        return
    store, actor = found
    if password != again:
        _say("error", t("acc_mismatch", lang))
        return
    try:
        account = store.add(
            str(st.session_state.get(NEW_KEYS["name"]) or ""), Role(st.session_state[NEW_KEYS["role"]]), password
        )
        _record(settings, actor, "account-add", f"{account.name} as {account.role.value}")
    except LessonsError as exc:
        _say("error", safe(exc.said(lang)))
        return
    st.session_state.pop(NEW_KEYS["name"], None)
    _say("success", t("acc_added", lang, name=safe(account.name)))


def _change(settings: Settings, lang: str, name: str, what: str) -> None:
    found = _admin_store(settings, lang)
    if found is None:
        return
    store, actor = found
    try:
        if what == "role":
            role = Role(st.session_state[f"acc_role_{name}"])
            store.set_role(name, role)
            _record(settings, actor, "account-role", f"{name}: {role.value}")
        elif what == "unlock":
            store.unlock(name)
            _record(settings, actor, "account-unlock", name)
        elif what == "remove":
            if actor.name == name:
                _say("error", t("acc_not_self", lang))
                return
            store.remove(name)
            _record(settings, actor, "account-remove", name)
    except LessonsError as exc:
        _say("error", safe(exc.said(lang)))
        return
    _say("success", t("acc_changed", lang, name=safe(name)))


def render_accounts(settings: Settings, lang: str) -> None:
    """The accounts list with its actions, and a form to add one."""
    show_said(MESSAGE_KEY)
    try:
        accounts = auth.store(settings).accounts()
    except LessonsError as exc:
        st.error(safe(exc.said(lang)))
        return
    now = utc_now()
    roles = [r.value for r in Role]
    for account in accounts:
        with st.container(border=True):
            locked = t("acc_locked", lang) if account.locked(now) else ""
            last = account.last_sign_in.isoformat(timespec="minutes") if account.last_sign_in else "–"
            st.markdown(f"**{safe(account.name)}** · {t('acc_last', lang, when=last)} {locked}")
            left, mid, right, far = st.columns([2, 1, 1, 1])
            left.selectbox(
                t("acc_role", lang),
                roles,
                index=roles.index(account.role.value),
                key=f"acc_role_{account.name}",
                format_func=lambda v: t(f"role_{v}", lang),
            )
            actions = [(mid, "role", "set", t("acc_save_role", lang)), (far, "remove", "remove", t("acc_remove", lang))]
            if account.locked(now):
                actions.insert(1, (right, "unlock", "unlock", t("acc_unlock", lang)))
            for column, what, key, text in actions:
                column.button(
                    text,
                    key=f"acc_{key}_{account.name}",
                    on_click=_change,
                    args=(settings, lang, account.name, what),
                )
    with st.form("acc_new", clear_on_submit=True, border=True):
        st.markdown(f"**{t('acc_new', lang)}**")
        st.text_input(t("auth_user", lang), key=NEW_KEYS["name"], max_chars=100)
        st.selectbox(t("acc_role", lang), roles, key=NEW_KEYS["role"], format_func=lambda v: t(f"role_{v}", lang))
        st.text_input(t("auth_password", lang), key=NEW_KEYS["password"], type="password", max_chars=1024)
        st.text_input(t("acc_again", lang), key=NEW_KEYS["again"], type="password", max_chars=1024)
        st.form_submit_button(t("acc_add", lang), on_click=_add, args=(settings, lang))
