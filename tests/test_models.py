"""The entry model: kinds, required fields, vocabularies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lessons.models import Entry, Kind, slugify

BASE = {"source": {"report": "R"}}


def test_handling_needs_challenge_and_handling() -> None:
    """A handling entry without its handling text is rejected, naming the field."""
    with pytest.raises(ValidationError, match="handling"):
        Entry.model_validate({**BASE, "id": "h-one", "kind": "handling", "title": "T", "challenge": "c"})


def test_kind_rejects_foreign_text_fields() -> None:
    """An advice entry may not carry a project's purpose."""
    with pytest.raises(ValidationError, match="does not use the field"):
        Entry.model_validate({**BASE, "id": "a-one", "kind": "advice", "title": "T", "body": "b", "purpose": "p"})


def test_unknown_field_and_bad_vocabulary_are_rejected() -> None:
    """Typos in field names and unknown areas fail validation."""
    with pytest.raises(ValidationError) as info:
        Entry.model_validate(
            {**BASE, "id": "a-one", "kind": "advice", "title": "T", "body": "b", "areas": ["weather"], "tittle": "x"}
        )
    fields = {err["loc"][0] for err in info.value.errors()}
    assert fields == {"areas", "tittle"}


def test_text_fields_follow_reading_order() -> None:
    """Text fields come back in the kind's reading order, empty ones left out."""
    entry = Entry.model_validate(
        {**BASE, "id": "h-one", "kind": "handling", "title": "T", "handling": "h", "challenge": "c"}
    )
    assert entry.kind is Kind.HANDLING
    assert entry.text_fields() == [("challenge", "c"), ("handling", "h")]
    assert entry.retrievable


@pytest.mark.parametrize("bad_id", ["A-upper", "-lead", "x", "has space", "trail-"])
def test_bad_ids_are_rejected(bad_id: str) -> None:
    """Ids are lowercase slugs."""
    with pytest.raises(ValidationError):
        Entry.model_validate({**BASE, "id": bad_id, "kind": "advice", "title": "T", "body": "b"})


def test_slugify_handles_danish_letters() -> None:
    """Danish letters become their ASCII spellings."""
    assert slugify("Æbler på Ørsted Å") == "aebler-paa-oersted-aa"
