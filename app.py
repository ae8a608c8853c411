"""lessons: the Streamlit chat. Run with `make run` (or `streamlit run app.py`).

This file only wires pages together; the pages live in lessons.ui and the logic in the core modules.
The shell is drawn before the pages are imported, so a fresh server shows the page at once.
"""

from __future__ import annotations

import streamlit as st

from lessons.ui import shell

shell.page_setup()
holder = shell.skeleton()

from lessons.ui import briefing, chat, curator, overview, projects  # noqa: E402  (heavy: imported after the skeleton)
from lessons.ui.resources import keep_widget_state, language_switch  # noqa: E402
from lessons.words import t  # noqa: E402

keep_widget_state((*chat.WIDGET_KEYS, *projects.WIDGET_KEYS, *briefing.WIDGET_KEYS, *curator.WIDGET_KEYS))
lang = language_switch()

pages = [
    st.Page(chat.render, title=t("nav_chat", lang), icon=":material/forum:", url_path="sporg", default=True),
    st.Page(projects.render, title=t("nav_projects", lang), icon=":material/compare_arrows:", url_path="projekter"),
    st.Page(briefing.render, title=t("brief_nav", lang), icon=":material/assignment:", url_path="briefing"),
    st.Page(overview.render, title=t("nav_overview", lang), icon=":material/bar_chart:", url_path="overblik"),
    st.Page(curator.render, title=curator.nav_title(lang), icon=":material/edit_note:", url_path="kurator"),
]
page = st.navigation(pages)
shell.skeleton_done(holder)
page.run()
