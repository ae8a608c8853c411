"""The page shell: icon, title and a skeleton drawn before the pages' heavy imports.

This module imports only Streamlit and the words, so ``app.py`` can draw something at
once on a fresh server, while the search stack (numpy, FAISS, bm25s, torch) is still
being imported.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lessons.words import t

__all__ = ["ICON", "page_language", "page_setup"]

ICON = Path(__file__).resolve().parent / "assets" / "icon.png"  # shipped: a favicon is never fetched


def page_language() -> str:
    """The interface language before the language switch is drawn: the session's choice, else the URL's."""
    if "lang_en" in st.session_state:
        return "en" if st.session_state["lang_en"] else "da"
    return "en" if st.query_params.get("lang") == "en" else "da"


def page_setup() -> None:
    """Configure the page (title, shipped icon, wide layout)."""
    st.set_page_config(page_title=t("app_title", page_language()), page_icon=ICON, layout="wide")


def skeleton() -> st.delta_generator.DeltaGenerator | None:
    """On a session's first run, the title and a loading line, until the page replaces them; else None."""
    if st.session_state.get("_shell_drawn"):
        return None
    holder = st.empty()
    with holder.container():
        st.title(t("app_title", page_language()))
        st.caption(t("loading_page", page_language()))
    return holder


def skeleton_done(holder: st.delta_generator.DeltaGenerator | None) -> None:
    """Remove the skeleton; later runs of the session draw the page directly."""
    st.session_state["_shell_drawn"] = True
    if holder is not None:
        holder.empty()
