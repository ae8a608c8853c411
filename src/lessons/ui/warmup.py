"""Jobs started when the server starts, handed over to the first page that asks for them.

The launcher (:mod:`lessons.ui.launch`, behind ``make run`` and ``lessons app``) starts opening the current
index version (the query path, FAISS, BM25, the no-match model and the corpus) as Streamlit's server
starts, before any browser session runs the page. Each job it starts is *offered* here under a key
naming the settings and index version it was made for; the first page *takes* it over into its
``st.cache_resource`` instead of starting its own (lessons.ui.resources), so a page that arrives after
the load finished is ready on its first run.

A job is handed over at most once, and only for its own key: when ``CURRENT`` moved on to another
version before a page asked (a rebuild finished meanwhile), the page loads the new version itself and
the warmed one is dropped. Without the launcher (``streamlit run app.py``) nothing is offered and the
page starts every job itself, as before.

This module imports no Streamlit and nothing heavy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["Background", "offer", "offered", "take"]

T = TypeVar("T")


class Background(Generic[T]):
    """A value computed once in a daemon thread, so a page can draw (and take questions) while it loads."""

    def __init__(self, compute: Callable[[], T], name: str) -> None:
        self.started = time.monotonic()
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._compute = compute
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        try:
            self._value = self._compute()
        except BaseException as exc:  # handed to whoever asks for the result
            self._error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        """True once the value (or its error) is there."""
        return self._done.is_set()

    def elapsed(self) -> float:
        """Seconds since the computation started."""
        return time.monotonic() - self.started

    def wait(self, timeout: float | None = None) -> T:
        """The value, waiting at most ``timeout`` seconds; raises the computation's error, or TimeoutError."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"still loading after {self.elapsed():.0f} s")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


_lock = threading.Lock()
_offers: dict[str, tuple[Hashable, Background[Any]]] = {}


def offer(name: str, key: Hashable, job: Background[Any]) -> None:
    """Offer a started job under ``name`` for whoever first asks with the same ``key`` (replacing an older offer)."""
    with _lock:
        _offers[name] = (key, job)


def take(name: str, key: Hashable) -> Background[Any] | None:
    """The job offered under ``name`` if it was made for ``key``, handed over once; else None.

    An offer for another key is dropped either way: it was made for a version that is no longer current.
    """
    with _lock:
        held = _offers.pop(name, None)
    if held is None or held[0] != key:
        return None
    return held[1]


def offered() -> dict[str, Hashable]:
    """The keys of the jobs on offer now, by name (for tests and the launcher's log)."""
    with _lock:
        return {name: key for name, (key, _job) in _offers.items()}
