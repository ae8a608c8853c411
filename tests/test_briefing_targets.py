"""The issue's targets on the ten reviewer profiles in eval/profiles/ (fake embedder, real corpus and rules).

For each profile, eval/profiles/targets/briefing-targets.yaml lists the challenge areas the report
ties to projects of that kind (each must appear with at least one handling example), the areas the
profile gives no reason for (they must not appear), whether MDR is required or forbidden, and the
gaps the corpus has. Every area in a briefing must come with reasons that are facts of the profile.
"""

from __future__ import annotations

import pytest
import yaml

from lessons.briefing.generate import Briefing, generate_briefing
from lessons.briefing.profile import load_profile
from lessons.briefing.rules import load_rules
from lessons.corpus import load_corpus
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.models import Domain, Kind
from lessons.settings import Settings

from .conftest import REAL_CORPUS, ROOT

pytestmark = pytest.mark.heavy

PROFILES = sorted((ROOT / "eval" / "profiles").glob("*.yaml"))
TARGETS_FILE = ROOT / "eval" / "profiles" / "targets" / "briefing-targets.yaml"
TARGETS = yaml.safe_load(TARGETS_FILE.read_text(encoding="utf-8"))
MDR_RULE = "law-mdr-ce-marking"
EXAMPLE_KINDS = {Kind.HANDLING, Kind.FINDING}


@pytest.fixture(scope="module")
def briefings(real_fake_index: Settings) -> dict[str, Briefing]:
    """The briefing of every eval profile, over the real corpus indexed with the fake embedder."""
    searcher, _ = open_searcher(real_fake_index, FakeEmbedder())
    entries = {e.id: e for e in load_corpus(REAL_CORPUS).retrievable()}
    rules = load_rules()
    return {path.stem: generate_briefing(load_profile(path), searcher, entries, rules) for path in PROFILES}


def test_ten_profiles_five_in_health() -> None:
    """The eval set is ten profiles, five of them in health, and every one has targets."""
    assert len(PROFILES) == 10
    assert sum(load_profile(p).domain is Domain.HEALTH for p in PROFILES) == 5
    assert {p.stem for p in PROFILES} == set(TARGETS)


@pytest.mark.parametrize("name", [p.stem for p in PROFILES])
def test_targets(briefings: dict[str, Briefing], name: str) -> None:
    """Every expected area is there with a handling example, no unreasoned area appears, MDR as required, gaps named."""
    briefing, target = briefings[name], TARGETS[name]
    areas = {area.value for area in briefing.areas}
    missing = sorted(set(target["areas"]) - areas)
    assert missing == [], f"{name}: expected areas missing: {missing}"
    for area in target["areas"]:
        examples = [e for c in briefing.challenges if c.area.value == area for e in c.examples]
        assert examples, f"{name}: {area} has no handling example"
        assert all(e.cited.entry.kind in EXAMPLE_KINDS for e in examples)
    unwanted = sorted(set(target.get("absent", [])) & areas)
    assert unwanted == [], f"{name}: areas without a reason from the profile: {unwanted}"
    profile = briefing.profile
    for challenge in briefing.challenges:
        assert challenge.reasons, f"{name}: {challenge.rule.id} has no reason"
        for reason in challenge.reasons:
            assert set(reason.values) <= set(profile.values_of(reason.field)), (name, challenge.rule.id, reason)
    has_mdr = MDR_RULE in {c.rule.id for c in briefing.challenges}
    assert has_mdr is (target["mdr"] == "required"), f"{name}: MDR {'missing' if not has_mdr else 'unexpected'}"
    if profile.domain is Domain.HEALTH and profile.decision_support:
        assert has_mdr
    if profile.domain is not Domain.HEALTH:
        assert not has_mdr
    gaps = {gap.kind.value for gap in briefing.gaps}
    assert set(target.get("gaps", [])) <= gaps, f"{name}: gaps {sorted(gaps)}"


def test_summary(briefings: dict[str, Briefing]) -> None:
    """Across the ten profiles: each expected area present with examples (figures printed for the report)."""
    expected = sum(len(TARGETS[name]["areas"]) for name in briefings)
    present = sum(
        1
        for name, briefing in briefings.items()
        for area in TARGETS[name]["areas"]
        if any(c.area.value == area and c.examples for c in briefing.challenges)
    )
    print(f"\nbriefing targets: {present}/{expected} expected areas present with a handling example")
    assert present == expected
