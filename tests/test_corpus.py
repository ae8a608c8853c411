"""Loading and validating the corpus: every problem named with file, field and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessons.corpus import load_corpus, parse_entry, write_entry
from lessons.errors import CorpusError
from lessons.models import Kind

from .conftest import REAL_CORPUS


@pytest.mark.heavy
def test_real_corpus_validates_and_is_complete() -> None:
    """The shipped corpus validates and holds every kind of experience the report has."""
    corpus = load_corpus(REAL_CORPUS)
    counts = {kind: sum(e.kind is kind for e in corpus.entries) for kind in Kind}
    print(f"corpus entries per kind: { {k.value: v for k, v in counts.items()} }")
    assert counts[Kind.PROJECT] >= 40
    assert counts[Kind.EVALUATION] >= 7
    assert counts[Kind.HANDLING] >= 18
    assert counts[Kind.ADVICE] >= 10
    assert counts[Kind.FINDING] >= 10
    assert all(e.source.report for e in corpus.entries)


@pytest.mark.heavy
def test_real_corpus_text_has_no_hyphenation_or_bullets() -> None:
    """Curated text is clean: no line-break hyphens left, no bullet glyphs."""
    corpus = load_corpus(REAL_CORPUS)
    for entry in corpus.entries:
        text = entry.full_text()
        assert not re.search("[\uf000-\uf8ff]", text), entry.id
        assert "- \n" not in text and "-\n\n" not in text, entry.id


def test_all_problems_are_reported_with_file_field_and_line(tiny_corpus: Path) -> None:
    """A malformed file and a missing field are both reported, each with its place."""
    broken = tiny_corpus / "entries" / "advice" / "advice-broken.yaml"
    broken.write_text("id: advice-broken\nkind: advice\ntitle: [unclosed\n", encoding="utf-8")
    missing = tiny_corpus / "entries" / "advice" / "advice-missing.yaml"
    missing.write_text("id: advice-missing\nkind: advice\ntitle: T\nbody: b\n", encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        load_corpus(tiny_corpus)
    problems = {p.file: p for p in info.value.problems}
    assert set(problems) == {"entries/advice/advice-broken.yaml", "entries/advice/advice-missing.yaml"}
    assert problems["entries/advice/advice-broken.yaml"].line is not None
    assert problems["entries/advice/advice-missing.yaml"].field == "source"
    assert "entries/advice/advice-missing.yaml [source]" in str(info.value)


def test_duplicate_ids_are_rejected(tiny_corpus: Path) -> None:
    """Two files with the same id are an error that names both files."""
    original = tiny_corpus / "entries" / "advice" / "advice-data.yaml"
    copy = tiny_corpus / "entries" / "finding" / "advice-data.yaml"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(original.read_bytes())
    with pytest.raises(CorpusError, match="duplicate id 'advice-data'"):
        load_corpus(tiny_corpus)


def test_field_error_points_at_its_line() -> None:
    """A bad value is reported at the line of its key."""
    text = "id: advice-x\nkind: advice\ntitle: T\nareas: [weather]\nbody: b\nsource: {report: R}\n"
    with pytest.raises(CorpusError) as info:
        parse_entry(text, "x.yaml")
    (problem,) = info.value.problems
    assert (problem.field, problem.line) == ("areas.0", 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &a [1, 2]\nb: [*a, *a, *a]\n", "aliases"),
        ("id: !!python/object:os.system ls\n", "malformed YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("", "expected a mapping"),
    ],
)
def test_hostile_or_wrong_yaml_is_rejected_cleanly(text: str, message: str) -> None:
    """Aliases, custom tags and non-mappings get a clear message, never a crash."""
    with pytest.raises(CorpusError, match=message):
        parse_entry(text, "hostile.yaml")


def test_binary_file_is_rejected() -> None:
    """NUL bytes mean binary, not YAML."""
    with pytest.raises(CorpusError, match="binary"):
        parse_entry(b"\x00\x01\x02", "blob.yaml")


def test_write_entry_round_trips(tiny_corpus: Path) -> None:
    """An entry written by the library reads back equal."""
    corpus = load_corpus(tiny_corpus)
    entry = corpus.by_id()["handling-mdr-ce"]
    path = write_entry(tiny_corpus, entry.model_copy(update={"title": "Ny titel <b>"}))
    again = parse_entry(path.read_bytes(), str(path))
    assert again.title == "Ny titel <b>"
    assert again.challenge == entry.challenge
    assert not list(path.parent.glob(".*.tmp"))
