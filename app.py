"""lessons: the Streamlit chat. Run with `make run` (or `streamlit run app.py`).

This file only wires pages together; the pages live in lessons.ui and the logic in the core modules.
"""

from __future__ import annotations

import streamlit as st

from lessons.ui import chat, curator, overview, projects
from lessons.ui.resources import keep_widget_state, language_switch
from lessons.words import t

st.set_page_config(page_title="Erfaringer fra signaturprojekterne", page_icon=":material/lightbulb:", layout="wide")
keep_widget_state((*chat.WIDGET_KEYS, *projects.WIDGET_KEYS, *curator.WIDGET_KEYS))
lang = language_switch()

pages = [
    st.Page(chat.render, title=t("nav_chat", lang), icon=":material/forum:", url_path="sporg", default=True),
    st.Page(projects.render, title=t("nav_projects", lang), icon=":material/compare_arrows:", url_path="projekter"),
    st.Page(overview.render, title=t("nav_overview", lang), icon=":material/bar_chart:", url_path="overblik"),
    st.Page(curator.render, title=curator.nav_title(lang), icon=":material/edit_note:", url_path="kurator"),
]
st.navigation(pages).run()
