"""The shared part of the `lessons` CLI: the Typer app, the consoles, settings, and the one error funnel.

Command modules (`user`, `curator`, `maintainer`) import from here and register on `app`; nothing here
imports them, so there is no cycle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from lessons import settings as settings_module
from lessons.errors import CorpusError, LessonsError
from lessons.settings import Settings

__all__ = ["CURATE", "MAINTAIN", "USE", "app", "err", "errors", "load_settings", "out"]

# Help panels, so `lessons --help` reads by task.
USE = "Ask (project teams)"
CURATE = "Curate the corpus (curators)"
MAINTAIN = "Build and measure (maintainers)"

app = typer.Typer(
    name="lessons",
    help="Ask what Denmark's 40 public-sector AI signature projects learned.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# markup is off by default: corpus text and messages may contain [brackets]; markup is opted into per call.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def load_settings() -> Settings:
    """The settings from the environment; a bad LESSONS_* value raises SettingsError naming the variable."""
    return settings_module.load()


@contextmanager
def errors() -> Iterator[None]:
    """Turn domain errors into one clear message and a non-zero exit; never a traceback."""
    try:
        yield
    except CorpusError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True)
        raise typer.Exit(2) from None
    except LessonsError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if os.environ.get("LESSONS_DEBUG"):
            raise
        err.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))} (set LESSONS_DEBUG=1 for details)",
            markup=True,
        )
        raise typer.Exit(3) from None
