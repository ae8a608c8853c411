"""The `lessons` command line: translates arguments to library calls and domain errors to messages.

`common` holds the app, the consoles and the error funnel; `user`, `curator` and `maintainer` register
their commands on it, each under its own help panel.
"""

from __future__ import annotations

# The registration order is the order of the help panels: asking first, then curating, then maintaining.
from lessons.cli import user

# isort: split
from lessons.cli import briefing

# isort: split
from lessons.cli import curator

# isort: split
from lessons.cli import maintainer

# isort: split
from lessons.cli import admin

# isort: split
from lessons.cli import service
from lessons.cli.common import app

__all__ = ["admin", "app", "briefing", "curator", "main", "maintainer", "service", "user"]


def main() -> None:
    """Console-script entry point."""
    app()
