"""Chunking properties: nothing lost, bounded, non-empty, deterministic ids."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons.chunking import chunk_entry
from lessons.corpus import load_corpus
from lessons.models import Entry

from .conftest import REAL_CORPUS

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøåABC0123456789.,!?-", min_size=1, max_size=14)
_paragraph = st.lists(_word, min_size=1, max_size=120).map(" ".join)
_text = st.lists(_paragraph, min_size=1, max_size=6).map("\n\n".join)


def _handling(challenge: str, handling: str) -> Entry:
    return Entry.model_validate(
        {
            "id": "handling-prop",
            "kind": "handling",
            "title": "Titel",
            "source": {"report": "R"},
            "challenge": challenge,
            "handling": handling,
        }
    )


@pytest.mark.heavy
@settings(max_examples=60, deadline=None)
@given(challenge=_text, handling=_text, max_words=st.integers(min_value=40, max_value=200))
def test_chunks_cover_the_entry_within_bounds(challenge: str, handling: str, max_words: int) -> None:
    """Every word of every field lands in a chunk, in order; no chunk is empty or oversized."""
    entry = _handling(challenge, handling)
    chunks = chunk_entry(entry, max_words)
    assert chunks
    body_words = " ".join(c.body for c in chunks).split()
    expected = ("Udfordring: " + challenge + " Håndtering: " + handling).split()
    assert body_words == expected
    for chunk in chunks:
        assert chunk.body.strip()
        # a chunk exceeds the target only by the one-word field label it starts with
        assert len(chunk.body.split()) <= max_words + 1
        assert chunk.text.startswith(chunk.header)


@settings(max_examples=30, deadline=None)
@given(text=_text)
def test_chunk_ids_are_deterministic(text: str) -> None:
    """The same entry always yields the same chunk ids and texts."""
    entry = _handling(text, text)
    first = [(c.id, c.text) for c in chunk_entry(entry, 60)]
    second = [(c.id, c.text) for c in chunk_entry(entry, 60)]
    assert first == second
    assert [cid for cid, _ in first] == [f"handling-prop#{i}" for i in range(len(first))]


def test_header_names_kind_title_project_and_area() -> None:
    """The context header carries kind, title, project and challenge area."""
    entry = Entry.model_validate(
        {
            "id": "handling-x",
            "kind": "handling",
            "title": "API-adgang",
            "project": "Projekt X",
            "areas": ["infrastructure"],
            "source": {"report": "R"},
            "challenge": "c",
            "handling": "h",
        }
    )
    header = chunk_entry(entry)[0].header
    assert header.startswith("[Håndteringseksempel] API-adgang")
    assert "Projekt: Projekt X" in header and "It-infrastruktur" in header


@pytest.mark.heavy
def test_real_corpus_chunks_are_bounded() -> None:
    """Every real entry chunks into non-empty chunks of bounded size."""
    for entry in load_corpus(REAL_CORPUS).entries:
        for chunk in chunk_entry(entry, 160):
            assert 0 < len(chunk.body.split()) <= 161, chunk.id
