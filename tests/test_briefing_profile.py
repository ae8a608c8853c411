"""The project profile: the keys a briefing needs, refused by name and line when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons.briefing.profile import (
    MAX_PROFILE_BYTES,
    DataKind,
    Phase,
    ProfileError,
    ProfileSector,
    load_profile,
    parse_profile,
)
from lessons.models import Domain, Sector

VALID = """title: Øjenscreening
description: En algoritme vurderer fundusfotos, så lægerne ser de mest syge patienter først.
sector: region
domain: health
data: [health_records, images]
decision_support: true
phase: idea
vendor: true
"""


def problems(text: str) -> list[str]:
    """The problems a profile text is refused with, as 'line [field]: message' strings."""
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, "p.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_valid_profile_reads_every_key() -> None:
    """The listed keys are read into typed values."""
    profile = parse_profile(VALID)
    assert profile.title == "Øjenscreening"
    assert profile.sector is ProfileSector.REGION and profile.sector.corpus_sector is Sector.REGION
    assert profile.domain is Domain.HEALTH
    assert profile.data == (DataKind.HEALTH_RECORDS, DataKind.IMAGES)
    assert profile.decision_support is True and profile.vendor is True
    assert profile.phase is Phase.IDEA


def test_every_listed_value_name_is_accepted() -> None:
    """The value names of the issue are the model's, so profiles written elsewhere work."""
    assert {s.value for s in ProfileSector} == {"municipality", "region", "cross", "state"}
    assert {d.value for d in Domain} == {"health", "employment", "social-care", "climate", "administration"}
    assert {d.value for d in DataKind} == {
        "personal",
        "health_records",
        "other_authority_system",
        "free_text",
        "images",
        "sound",
    }
    assert {p.value for p in Phase} == {"idea", "pilot", "development", "operation"}


def test_state_is_a_sector_the_corpus_does_not_have() -> None:
    """'state' is accepted in a profile but maps to no corpus sector (the corpus model is untouched)."""
    profile = parse_profile(VALID.replace("sector: region", "sector: state"))
    assert profile.sector is ProfileSector.STATE
    assert profile.sector.corpus_sector is None
    assert "state" not in {s.value for s in Sector}


def test_an_unknown_key_is_refused_by_name_and_line() -> None:
    """A typo'd key is named with its line, and the valid keys are listed."""
    found = problems(VALID + "vendorr: false\n")
    assert len(found) == 1
    assert found[0].startswith("p.yaml:9 [vendorr]: unknown key")
    assert "decision_support" in found[0]


def test_a_wrong_value_names_the_key_line_and_valid_values() -> None:
    """A value outside the vocabulary is refused with its line and the allowed values."""
    found = problems(VALID.replace("domain: health", "domain: helbred"))
    assert found[0].startswith("p.yaml:4 [domain]")
    assert "'health'" in found[0] and "'climate'" in found[0]


def test_a_wrong_list_item_points_at_the_item() -> None:
    """One bad item in the data list is named by its position and line."""
    found = problems(VALID.replace("data: [health_records, images]", "data:\n  - health_records\n  - video\n"))
    assert any(p.startswith("p.yaml:7 [data.1]") and "'sound'" in p for p in found)


def test_every_problem_is_listed_at_once() -> None:
    """Several problems come back together, each with its key."""
    text = VALID.replace("phase: idea", "phase: someday").replace("vendor: true", "vendor: maybe")
    found = problems(text + "colour: red\n")
    assert [p.split(" ")[1] for p in found] == ["[phase]:", "[vendor]:", "[colour]:"]


def test_missing_keys_are_named() -> None:
    """A profile without the required keys names each missing one."""
    found = problems("title: Kun en titel\n")
    for key in ("description", "sector", "domain", "data", "decision_support", "phase", "vendor"):
        assert any(f"[{key}]: required key is missing" in p for p in found), key


def test_data_needs_at_least_one_kind() -> None:
    """An empty data list is refused: every AI project learns from some data."""
    assert any("[data]" in p for p in problems(VALID.replace("data: [health_records, images]", "data: []")))


def test_a_single_data_kind_may_be_written_without_a_list() -> None:
    """'data: personal' reads as a one-item list."""
    profile = parse_profile(VALID.replace("data: [health_records, images]", "data: personal"))
    assert profile.data == (DataKind.PERSONAL,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "not an empty file"),
        ("- a\n- b\n", "not a list"),
        ("title: [unclosed\n", "malformed YAML"),
        ("a: &x 1\nb: *x\n", "aliases"),
    ],
)
def test_unreadable_profiles_get_a_message(text: str, expected: str) -> None:
    """Empty, non-mapping, malformed and alias-using files are refused with a message, not a traceback."""
    assert any(expected in p for p in problems(text))


def test_the_largest_allowed_description_is_handled_and_a_longer_one_refused() -> None:
    """A 2000-character description is fine; 2001 is refused by name; an oversized file is refused unread."""
    line = next(line for line in VALID.splitlines() if line.startswith("description:"))
    longest = "æ" * 1999 + "."
    assert len(parse_profile(VALID.replace(line, f"description: {longest}")).description) == 2000
    found = problems(VALID.replace(line, f"description: {longest}x"))
    assert found == ["p.yaml:2 [description]: String should have at most 2000 characters"]
    assert any("bytes" in p for p in problems("title: " + "x" * MAX_PROFILE_BYTES))


def test_load_profile_reads_only_regular_files(tmp_path: Path) -> None:
    """A folder, a missing file and an oversized file are refused with their path."""
    with pytest.raises(ProfileError, match="not a regular file"):
        load_profile(tmp_path)
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "missing.yaml")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_PROFILE_BYTES + 1))
    with pytest.raises(ProfileError, match="bytes"):
        load_profile(big)
    good = tmp_path / "good.yaml"
    good.write_text(VALID, encoding="utf-8")
    assert load_profile(good).title == "Øjenscreening"


def test_every_eval_profile_is_valid() -> None:
    """The ten reviewer profiles in eval/profiles/ validate."""
    folder = Path(__file__).resolve().parent.parent / "eval" / "profiles"
    profiles = [load_profile(p) for p in sorted(folder.glob("*.yaml"))]
    assert len(profiles) == 10
    assert sum(p.domain is Domain.HEALTH for p in profiles) == 5
