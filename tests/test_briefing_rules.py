"""The briefing rules: curated YAML, validated with file, key path and line; matched against profiles."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons.briefing.profile import DataKind, Phase, ProfileSector, ProjectProfile
from lessons.briefing.rules import RulesError, check_rules, load_rules, parse_rules
from lessons.corpus import load_corpus
from lessons.models import Area, Domain

from .conftest import REAL_CORPUS

pytestmark = pytest.mark.heavy

MDR_RULE = "law-mdr-ce-marking"
SHIPPED = load_rules()

MINIMAL = """version: 1
area_order:
  lesson: finding-order
  areas: [data, infrastructure, law, ethics, vendors, competencies, organisation]
rules:
  - id: law-gdpr
    area: law
    title: {da: GDPR, en: GDPR}
    when:
      data: [personal]
    why: {da: Persondata., en: Personal data.}
    lesson: finding-law
    examples: [handling-law]
  - id: data-any
    area: data
    title: {da: Data, en: Data}
    when:
      - data: [images]
      - domain: [health]
        decision_support: true
    why: {da: Data., en: Data.}
    lesson: finding-data
    search: datakvalitet
outcomes:
  deployed: [idriftsat]
"""


def profile(**changes: object) -> ProjectProfile:
    """A valid profile with some keys changed."""
    base: dict[str, object] = {
        "title": "Test",
        "description": "Et projekt der bruger data til at hjælpe medarbejderne.",
        "sector": "municipality",
        "domain": "administration",
        "data": ["free_text"],
        "decision_support": False,
        "phase": "idea",
        "vendor": False,
    }
    return ProjectProfile.model_validate(base | changes)


def refused(text: str) -> list[str]:
    """The problems a rules text is refused with."""
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml")
    return [str(p) for p in caught.value.problems]


def test_the_shipped_rules_are_valid_and_name_only_existing_entries() -> None:
    """lessons/data/briefing_rules.yaml validates, and every entry id it names is in the corpus."""
    rules = load_rules()
    assert len(rules.rules) >= 10
    assert check_rules(rules, load_corpus(REAL_CORPUS).by_id()) == []
    assert {rule.area for rule in rules.rules} == set(Area)


def test_every_shipped_rule_names_a_lesson_and_a_way_to_examples() -> None:
    """Each rule has its motivating lesson, a why in both languages, and examples or a search."""
    for rule in load_rules().rules:
        assert rule.lesson and rule.why.da and rule.why.en
        for question in rule.questions:
            assert question.lesson


def test_a_condition_holds_when_all_its_keys_do() -> None:
    """Within one condition all keys must hold; a list key holds on any shared value."""
    rules = parse_rules(MINIMAL)
    assert [m.rule.id for m in rules.match(profile(data=["personal", "free_text"]))] == ["law-gdpr"]
    assert rules.match(profile(domain="health", decision_support=False)) == []
    fired = rules.match(profile(domain="health", decision_support=True))
    assert [m.rule.id for m in fired] == ["data-any"]
    assert [(r.field, r.values) for r in fired[0].reasons] == [("domain", ("health",)), ("decision_support", ("true",))]


def test_matches_come_in_area_order_with_the_values_that_matched() -> None:
    """Fired rules are ordered by area_order (data before law), and reasons carry only the matching values."""
    fired = parse_rules(MINIMAL).match(profile(data=["personal", "images", "sound"]))
    assert [m.rule.area for m in fired] == [Area.DATA, Area.LAW]
    assert fired[1].reasons[0].values == ("personal",)


def test_a_rule_without_profile_facts_is_refused() -> None:
    """An empty condition would give an area without a reason from the profile, so it is refused with its line."""
    found = refused(MINIMAL.replace("    when:\n      data: [personal]\n", "    when: {}\n"))
    assert len(found) == 1, found
    assert found[0].startswith("rules.yaml:9 [rules.0.when.0]")
    assert "at least one profile key" in found[0]


def test_nested_problems_name_their_path_and_line() -> None:
    """A bad area, an unknown key and a bad data value deep in the file point at their own lines."""
    text = MINIMAL.replace("    area: law\n", "    area: jura\n").replace(
        "    lesson: finding-data\n", "    lesson: finding-data\n    colour: red\n"
    )
    text = text.replace("      - data: [images]", "      - data: [video]")
    found = refused(text)
    assert "rules.yaml:7 [rules.0.area]" in found[0]
    assert any(p.startswith("rules.yaml:18 [rules.1.when.0.data.0]") for p in found)
    assert any(p.startswith("rules.yaml:23 [rules.1.colour]: unknown key") for p in found)


def test_duplicate_ids_and_incomplete_area_order_are_refused() -> None:
    """Rule ids are unique and area_order lists every area once."""
    found = refused(MINIMAL.replace("competencies, organisation", "organisation, organisation"))
    assert found[0].startswith("rules.yaml:2 [area_order]")
    assert "missing: competencies" in found[0] and "repeated: organisation" in found[0]
    assert refused(MINIMAL.replace("id: data-any", "id: law-gdpr")) == [
        "rules.yaml: rule ids must be unique; repeated: law-gdpr"
    ]


def test_unknown_entries_and_non_advice_are_reported_by_check_rules() -> None:
    """check_rules names every entry id that is missing from the corpus, and advice that is not advice."""
    corpus = load_corpus(REAL_CORPUS).by_id()
    text = MINIMAL.replace("finding-order", "finding-trend-udfordringer-skifter-karakter")
    text = text.replace("lesson: finding-law", "lesson: finding-area-law-overview\n    advice: [finding-mdr-overview]")
    problems = [str(p) for p in check_rules(parse_rules(text), corpus, "rules.yaml")]
    assert "rules.yaml [rules.0.examples.0]: names 'handling-law', which is not in the corpus" in problems
    assert "rules.yaml [rules.0.advice.0]: 'finding-mdr-overview' is a finding, not advice" in problems
    assert any("[rules.1.lesson]" in p for p in problems)
    assert not any("area_order" in p for p in problems)


def test_a_rules_file_that_is_not_yaml_or_too_big_is_refused(tmp_path: Path) -> None:
    """Malformed YAML names its line; a folder or an oversized file is refused before parsing."""
    assert refused("version: [1\n")[0].startswith("rules.yaml:2")
    with pytest.raises(RulesError, match="not a regular file"):
        load_rules(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 600_000)
    with pytest.raises(RulesError, match="larger than"):
        load_rules(big)


profiles = st.builds(
    ProjectProfile,
    title=st.just("Et projekt"),
    description=st.just("Et projekt der bruger data til at støtte medarbejderne i deres arbejde."),
    sector=st.sampled_from(ProfileSector),
    domain=st.sampled_from(Domain),
    data=st.lists(st.sampled_from(DataKind), min_size=1, max_size=6, unique=True).map(tuple),
    decision_support=st.booleans(),
    phase=st.sampled_from(Phase),
    vendor=st.booleans(),
    citizen_facing=st.sampled_from([None, True, False]),
)


@settings(max_examples=300, deadline=None)
@given(profiles)
def test_mdr_exactly_for_health_decision_support(candidate: ProjectProfile) -> None:
    """With the shipped rules, every health decision-support profile gets MDR and no non-health profile does."""
    fired = {m.rule.id for m in SHIPPED.match(candidate)}
    if candidate.domain is Domain.HEALTH and candidate.decision_support:
        assert MDR_RULE in fired
    if candidate.domain is not Domain.HEALTH:
        assert MDR_RULE not in fired


@settings(max_examples=300, deadline=None)
@given(profiles)
def test_every_fired_rule_has_reasons_that_hold_for_the_profile(candidate: ProjectProfile) -> None:
    """No area without a reason: each fired rule names profile keys whose values the profile really has."""
    for match in SHIPPED.match(candidate):
        assert match.reasons
        for reason in match.reasons:
            assert reason.values
            assert set(reason.values) <= set(candidate.values_of(reason.field))


def test_rules_naming_entries_not_in_the_corpus_are_said_in_danish() -> None:
    """The page's note on rules naming retired entries or non-advice is Danish, with the ids and the kind's label."""
    corpus = load_corpus(REAL_CORPUS).by_id()
    text = MINIMAL.replace(
        "lesson: finding-law", "lesson: finding-area-law-overview\n    advice: [finding-mdr-overview]"
    )
    said = {p.field: p.describe("da") for p in check_rules(parse_rules(text), corpus, "rules.yaml")}
    assert said["rules.0.examples.0"] == "nævner 'handling-law', som ikke er i korpusset (udgået eller slettet?)"
    assert said["rules.0.advice.0"] == "'finding-mdr-overview' er af typen «Tværgående fund», ikke et godt råd"
    assert not any("på engelsk" in text for text in said.values())
