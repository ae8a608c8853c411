"""lessons: the Streamlit chat. Run with `make run` (or `lessons app`; plain `streamlit run app.py` works too).

This file only wires pages together; the pages live in lessons.ui and the logic in the core modules.
Which pages exist depends on who is signed in: anonymous visitors get the reading pages (unless
reading requires sign-in) and a sign-in page at /kurator; the curator page appears for curators,
editors and admins only. Each action handler checks the role again when it runs.
"""

from __future__ import annotations

import streamlit as st

from lessons.ui import shell

shell.page_setup()
holder = shell.skeleton()

from lessons.roles import Action  # noqa: E402
from lessons.ui import auth, briefing, chat, curator, overview, projects  # noqa: E402  (heavy: after the skeleton)
from lessons.ui.resources import keep_widget_state, language_switch, settings_or_stop  # noqa: E402
from lessons.words import t  # noqa: E402

keep_widget_state((*chat.WIDGET_KEYS, *projects.WIDGET_KEYS, *briefing.WIDGET_KEYS, *curator.WIDGET_KEYS))
lang = language_switch()
settings = settings_or_stop(lang)
state = auth.auth_state(settings, lang)
auth.remember(state)


def sign_in() -> None:
    """The sign-in page: the form and nothing else."""
    auth.sign_in_page(settings, lang, auth.this_run())


reading = state.may(Action.READ) or not settings.reading_requires_sign_in
pages = []
if reading:
    pages += [
        st.Page(chat.render, title=t("nav_chat", lang), icon=":material/forum:", url_path="sporg", default=True),
        st.Page(projects.render, title=t("nav_projects", lang), icon=":material/compare_arrows:", url_path="projekter"),
        st.Page(briefing.render, title=t("brief_nav", lang), icon=":material/assignment:", url_path="briefing"),
        st.Page(overview.render, title=t("nav_overview", lang), icon=":material/bar_chart:", url_path="overblik"),
    ]
if state.may(Action.DRAFT):
    pages.append(
        st.Page(curator.render, title=curator.nav_title(lang), icon=":material/edit_note:", url_path="kurator")
    )
elif state.actor is None:
    title = t("auth_nav_sign_in", lang)
    pages.append(st.Page(sign_in, title=title, icon=":material/login:", url_path="kurator", default=not reading))
auth.sidebar(settings, lang, state.actor)
page = st.navigation(pages)
shell.skeleton_done(holder)
page.run()
