"""The Streamlit interface: one module per page (chat, projects, overview) plus shared rendering and resources.

``app.py`` wires the pages together with ``st.navigation``; a new page is one more
``st.Page(module.render, ...)`` line there.
"""
