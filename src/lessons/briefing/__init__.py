"""The project briefing: the lessons of the corpus brought to a project before it starts.

- :mod:`~lessons.briefing.profile`: the project profile and its validation;
- :mod:`~lessons.briefing.rules`: the curated rules (YAML) that decide which challenges are likely;
- :mod:`~lessons.briefing.generate`: the briefing itself, extractive and cited;
- :mod:`~lessons.briefing.render_md` and :mod:`~lessons.briefing.render_pdf`: Markdown and PDF.
"""
