"""The feedback and gap store: SQLite created on demand, WAL, parameterised, curator listings."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from lessons.feedback import (
    FeedbackStoreError,
    db_path,
    list_feedback,
    list_gaps,
    list_negative_feedback,
    record_feedback,
    record_gap,
)
from lessons.text import question_key


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder that does not exist yet."""
    return tmp_path / "var" / "nested"


def test_the_database_is_created_on_demand_in_wal_mode(data_dir: Path) -> None:
    """Reading an absent store creates nothing; the first write creates it in WAL mode."""
    assert list_gaps(data_dir) == [] and list_negative_feedback(data_dir) == []
    assert not data_dir.exists()
    record_gap(data_dir, "Hvordan bager man kage?")
    with sqlite3.connect(db_path(data_dir)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_feedback_is_stored_and_negative_feedback_listed(data_dir: Path) -> None:
    """Thumbs down appear in the negative list with question, comment and cited entries; thumbs up do not."""
    record_feedback(data_dir, answer_id="a1", question="Q1", rating=1, entry_ids=["x"])
    record_feedback(
        data_dir, answer_id="a2", question="Q2", query="Q1 Q2", rating=-1, comment="Forkert", entry_ids=["y", "z"]
    )
    negative = list_negative_feedback(data_dir)
    assert [(r.answer_id, r.question, r.query, r.comment, r.entry_ids) for r in negative] == [
        ("a2", "Q2", "Q1 Q2", "Forkert", ["y", "z"])
    ]
    assert not negative[0].positive
    assert {r.answer_id for r in list_feedback(data_dir)} == {"a1", "a2"}


def test_rating_an_answer_again_replaces_its_rating_and_keeps_the_comment(data_dir: Path) -> None:
    """One row per answer: a new rating updates it; comment None keeps, empty clears."""
    record_feedback(data_dir, answer_id="a1", question="Q", rating=-1, comment="dårligt")
    record_feedback(data_dir, answer_id="a1", question="Q", rating=1)
    (only,) = list_feedback(data_dir)
    assert only.rating == 1 and only.comment == "dårligt"
    assert list_negative_feedback(data_dir) == []
    record_feedback(data_dir, answer_id="a1", question="Q", rating=1, comment="")
    assert list_feedback(data_dir)[0].comment is None


def test_a_rating_must_be_up_or_down(data_dir: Path) -> None:
    """Anything but +1 or -1 is a programming error."""
    with pytest.raises(ValueError, match="rating must be"):
        record_feedback(data_dir, answer_id="a", question="Q", rating=0)


def test_gaps_are_grouped_and_listed_most_frequent_first(data_dir: Path) -> None:
    """Repeats differing only in case, spacing and punctuation count together; the most asked comes first."""
    record_gap(data_dir, "Hvad koster en robot?", language="da")
    for question in ("Hvordan bager man kage?", "hvordan  bager man kage", "HVORDAN BAGER MAN KAGE!"):
        record_gap(data_dir, question, language="da", filters={"area": ["law"]})
    record_gap(data_dir, "How do I bake a cake?", language="en")
    record_gap(data_dir, "How do I bake a cake", language="en")
    gaps = list_gaps(data_dir)
    assert [(g.count, question_key(g.question)) for g in gaps] == [
        (3, "hvordan bager man kage"),
        (2, "how do i bake a cake"),
        (1, "hvad koster en robot"),
    ]
    assert gaps[0].question == "HVORDAN BAGER MAN KAGE!"  # the latest wording represents the group
    assert gaps[1].languages == ["en"] and gaps[0].first_asked <= gaps[0].last_asked
    assert len(list_gaps(data_dir, limit=1)) == 1


def test_text_is_stored_through_parameters_not_sql(data_dir: Path) -> None:
    """SQL in a question is stored as text and leaves the tables intact."""
    evil = "'); DROP TABLE gaps; --"
    record_gap(data_dir, evil)
    record_feedback(data_dir, answer_id=evil, question=evil, rating=-1, comment=evil)
    assert list_gaps(data_dir)[0].question == evil
    assert list_negative_feedback(data_dir)[0].comment == evil


@pytest.mark.heavy
def test_concurrent_writers_all_land(data_dir: Path) -> None:
    """Sessions writing at once (threads) lose nothing."""
    record_gap(data_dir, "warm-up")

    def write(n: int) -> None:
        for i in range(10):
            record_gap(data_dir, f"spørgsmål {n}-{i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(g.count for g in list_gaps(data_dir, limit=1000)) == 61


def test_an_unusable_location_raises_a_domain_error(tmp_path: Path) -> None:
    """A data folder that is a file gives FeedbackStoreError naming the path, not a raw OSError."""
    blocker = tmp_path / "var"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(FeedbackStoreError, match="cannot open the feedback database"):
        record_gap(blocker, "Q")


def test_a_newer_schema_is_refused(data_dir: Path) -> None:
    """A database written by a newer version is not silently misread."""
    record_gap(data_dir, "Q")
    with sqlite3.connect(db_path(data_dir)) as conn:
        conn.execute("PRAGMA user_version=99")
    with pytest.raises(FeedbackStoreError, match="schema 99"):
        list_gaps(data_dir)


def test_a_link_in_place_of_the_database_is_refused(tmp_path: Path) -> None:
    """A symbolic link where the feedback database should be is refused by name, not followed."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    target = tmp_path / "elsewhere.sqlite3"
    target.write_bytes(b"")
    db_path(data_dir).symlink_to(target)
    with pytest.raises(FeedbackStoreError, match="not a regular file"):
        record_gap(data_dir, "Q")
    assert target.read_bytes() == b""
