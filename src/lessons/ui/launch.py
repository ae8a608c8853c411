"""Start the app: Streamlit's server for ``app.py``, with the query path and index loading from the start.

``make run`` and ``lessons app`` come here (``python -m lessons.ui.launch`` too). It is ``streamlit run
app.py`` plus a warm-up: as the server starts, a daemon thread reads the settings, starts opening the
current index version for the first page to take over (:mod:`lessons.ui.warmup`) and imports the pages'
modules, instead of waiting for the first browser session to run the script. Streamlit's own options
(``--server.port 8501``, ``--server.headless true``, ...) pass through unchanged.

A bad setting stops the warm-up with a one-line notice on stderr; the page then names the problem as
before. A load that fails is kept in the offered job, so the page that takes it shows the message.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

__all__ = ["app_script", "import_pages", "main", "page_imports", "start_warm_up", "warm"]

CHECKOUT = Path(__file__).resolve().parents[3]
SKELETON = "shell.skeleton()"
"""The call after which app.py imports its pages (it draws the page's frame first)."""

PageImport = tuple[str, tuple[str, ...]]


def page_imports(script: Path) -> tuple[PageImport, ...]:
    """The ``lessons`` imports of ``script`` (app.py) after it draws its skeleton, in its order.

    Each is ``(module, names)``: ``from lessons.ui import auth, chat`` is ``("lessons.ui", ("auth", "chat"))``,
    ``import lessons.roles`` is ``("lessons.roles", ())``. app.py is the one list of its pages: the warm-up
    reads it here rather than keeping a copy, and imports them in the same order (so the warm-up's and the
    first session's imports cannot wait on each other in a cycle). Raises OSError or SyntaxError.
    """
    import ast

    tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    found: list[PageImport] = []
    drawn = False
    for node in tree.body:
        if not drawn:
            drawn = SKELETON in ast.unparse(node)
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _ours(node.module or ""):
            found.append((node.module or "", tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names if _ours(alias.name)]
    return tuple(found)


def _ours(module: str) -> bool:
    return module == "lessons" or module.startswith("lessons.")


def import_pages(imports: Sequence[PageImport]) -> None:
    """Run each import as app.py's statement would (``from m import a`` imports submodule ``m.a`` if there is one)."""
    for module, names in imports:
        importlib.__import__(module, fromlist=names)


def warm(imports: Sequence[PageImport] | None = None) -> str | None:
    """Read the settings, start opening the current index for the first page, and import the pages' modules.

    ``imports``: what to import (default: :func:`page_imports` of :func:`app_script`).
    Returns None, or a one-line notice when the settings are bad (the page shows the full message).
    """
    from lessons.errors import LessonsError
    from lessons.settings import load as load_settings

    try:
        settings = load_settings()
    except LessonsError as exc:
        return f"lessons app: not loading the index ahead of the first page: {exc}"
    from lessons.ui import resources

    resources.preload(settings)
    import_pages(page_imports(app_script()) if imports is None else imports)
    return None


def _warm_in_thread() -> None:
    try:
        notice = warm()
    except Exception as exc:  # the page loads everything itself then, and shows what goes wrong
        notice = f"lessons app: warm-up stopped ({type(exc).__name__}: {exc}); the page loads the index itself"
    if notice:
        sys.stderr.write(notice + "\n")
        sys.stderr.flush()


def start_warm_up() -> threading.Thread:
    """Start :func:`warm` in a daemon thread and return the thread."""
    thread = threading.Thread(target=_warm_in_thread, name="lessons-warmup", daemon=True)
    thread.start()
    return thread


def app_script(cwd: Path | None = None) -> Path:
    """The app's script: ``app.py`` in the current folder, else the one in this checkout.

    Raises FileNotFoundError naming both places when neither exists.
    """
    candidates = [(cwd or Path.cwd()) / "app.py", CHECKOUT / "app.py"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no app.py in {candidates[0].parent} or {candidates[1].parent}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run Streamlit's server for the app with the warm-up started; ``argv`` are Streamlit's options."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        script = app_script()
    except FileNotFoundError as exc:
        sys.stderr.write(f"lessons app: {exc}\n")
        raise SystemExit(2) from None
    from streamlit.web import cli as streamlit_cli  # Streamlit first, so the warm-up's imports find it loaded

    start_warm_up()
    streamlit_cli.main(["run", str(script), *args], prog_name="streamlit")


if __name__ == "__main__":
    main()
