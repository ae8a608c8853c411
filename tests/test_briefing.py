"""The briefing over the real corpus with the fake embedder: content, citations, freshness, gaps, Markdown, PDF."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pypdf
import pytest

from lessons.answering import escape_markdown
from lessons.briefing.generate import Briefing, GapKind, Outcome, classify_outcome, generate_briefing, log_gaps
from lessons.briefing.layout import Heading, layout
from lessons.briefing.profile import ProjectProfile, parse_profile
from lessons.briefing.render_md import render_markdown
from lessons.briefing.render_pdf import render_pdf
from lessons.briefing.rules import RuleSet, load_rules
from lessons.build import build_index
from lessons.corpus import load_corpus
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.errors import CorpusError
from lessons.feedback import list_gaps
from lessons.models import Area, Entry, Kind
from lessons.search import Searcher
from lessons.settings import Settings

from .conftest import REAL_CORPUS

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "eval" / "profiles"
MDR_RULE = "law-mdr-ce-marking"


@pytest.fixture(scope="module")
def real(real_fake_index: Settings) -> tuple[Searcher, dict[str, Entry], Settings]:
    """A searcher over the real corpus's shared fake-embedder index, and the corpus's entries."""
    searcher, _ = open_searcher(real_fake_index, FakeEmbedder())
    entries = {e.id: e for e in load_corpus(REAL_CORPUS).retrievable()}
    return searcher, entries, real_fake_index


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    """The shipped rules."""
    return load_rules()


def brief(real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet, name: str) -> Briefing:
    """The briefing for one of the eval profiles."""
    searcher, entries, _ = real
    profile = parse_profile((PROFILES / f"{name}.yaml").read_bytes(), name)
    return generate_briefing(profile, searcher, entries, rules)


def test_health_decision_support_briefing(real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet) -> None:
    """Eye screening (health, decision support, images, vendor) gets MDR with the three MDR measures, in area order."""
    briefing = brief(real, rules, "health-eye-screening")
    ids = [c.rule.id for c in briefing.challenges]
    assert MDR_RULE in ids
    mdr = next(c for c in briefing.challenges if c.rule.id == MDR_RULE)
    assert {e.cited.entry.id for e in mdr.examples} == {
        "finding-mdr-1-forretningsmaessig-prioritering",
        "finding-mdr-2-faelles-driftsopsaetning",
        "finding-mdr-3-offentligt-private-samarbejder",
    }
    assert mdr.lesson is not None and mdr.lesson.entry.id == "finding-mdr-overview"
    assert mdr.legal
    order = list(rules.area_order.areas)
    positions = [order.index(area) for area in briefing.areas]
    assert positions == sorted(positions)
    assert briefing.areas[0] is Area.DATA
    assert Area.VENDORS in briefing.areas


def test_non_health_briefing(real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet) -> None:
    """Mail routing (administration, free text, vendor, in operation) gets no MDR, but free text, vendors, operation."""
    briefing = brief(real, rules, "administration-mail-routing")
    ids = {c.rule.id for c in briefing.challenges}
    assert MDR_RULE not in ids
    assert {"data-free-text-registration", "vendors-agreements", "organisation-continued-operation"} <= ids
    assert "organisation-concrete-scope" not in ids  # that is for projects still at idea or pilot
    free_text = next(c for c in briefing.challenges if c.rule.id == "data-free-text-registration")
    assert free_text.examples[0].cited.entry.project == (
        "Kortere svartid på byggeansøgninger og hjælp til indsendelse af rette dokumenter"
    )


def test_citations_are_numbered_in_order_and_every_one_is_a_source(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet
) -> None:
    """Sources are numbered 1..n without gaps, and every number the Markdown cites is listed as a source."""
    briefing = brief(real, rules, "health-copd-telemonitoring")
    numbers = [c.number for c in briefing.sources]
    assert numbers == list(range(1, len(numbers) + 1))
    markdown = render_markdown(briefing)
    cited = {int(n) for n in re.findall(r"\\\[(\d+)\\\]", markdown)}
    assert cited and cited <= set(numbers)
    sources = markdown.split("## Kilder", 1)[1]
    for source in briefing.sources:
        assert f"{source.number}\\. {escape_markdown(source.entry.title)}" in sources


def test_every_quote_is_the_corpus_own_wording(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet
) -> None:
    """Each quoted handling text is (a prefix of) the cited entry's field: nothing is paraphrased."""
    briefing = brief(real, rules, "social-child-notifications")
    for challenge in briefing.challenges:
        for example in challenge.examples:
            entry = example.cited.entry
            if entry.kind is Kind.HANDLING:
                assert entry.challenge and entry.handling
    from lessons.briefing.layout import Quote

    by_number = {c.number: c.entry for c in briefing.sources}
    quotes = [b for b in layout(briefing) if isinstance(b, Quote)]
    assert quotes
    for quote in quotes:
        entry = by_number[quote.cites[0]]
        text = quote.text.removesuffix(" …")
        assert any(text in " ".join(value.split()) for _, value in entry.text_fields()), text[:60]


def test_the_similar_projects_say_what_happened(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet
) -> None:
    """3–5 similar projects, the team's domain first; a completed one is quoted from its evaluation."""
    briefing = brief(real, rules, "employment-job-match")
    assert 3 <= len(briefing.similar) <= 5
    assert briefing.similar[0].same_domain
    completed = [s for s in briefing.similar if s.evaluation is not None]
    assert completed
    for similar in completed:
        assert similar.outcome in {Outcome.DEPLOYED, Outcome.PROTOTYPE, Outcome.STOPPED, Outcome.COMPLETED}
        evaluation = similar.evaluation.entry if similar.evaluation else None
        assert evaluation is not None
        for sentence in similar.evidence:
            assert any(sentence in " ".join(v.split()) for _, v in evaluation.text_fields())


def test_outcomes_of_the_seven_completed_projects(rules: RuleSet) -> None:
    """The seven evaluations read as the report tells them: one in operation, two prototypes, four not."""
    entries = load_corpus(REAL_CORPUS).by_id()
    expected = {
        "evaluation-norddjurs-mail": Outcome.DEPLOYED,
        "evaluation-aalborg-rehabilitering": Outcome.PROTOTYPE,
        "evaluation-medcom-almen-praksis": Outcome.PROTOTYPE,
        "evaluation-aarhus-underretninger": Outcome.STOPPED,
        "evaluation-esbjerg-rengoeringshjaelp": Outcome.STOPPED,
        "evaluation-koebenhavn-jobmatch": Outcome.STOPPED,
        "evaluation-randers-realtidsprognoser": Outcome.STOPPED,
    }
    got = {key: classify_outcome(entries[key], None, rules.outcomes)[0] for key in expected}
    assert got == expected
    assert classify_outcome(None, None, rules.outcomes) == (Outcome.ONGOING, ())


def test_freshness_is_shown_with_the_year_and_a_note(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet
) -> None:
    """Every cited entry carries 2022; the briefing and each legal challenge say so, with a note that rules change."""
    briefing = brief(real, rules, "health-eye-screening")
    assert briefing.as_of_years == [2022]
    markdown = render_markdown(briefing, "da")
    assert "Som beskrevet i 2022" in markdown
    legal = [c for c in briefing.challenges if c.legal]
    assert legal
    assert markdown.count("reglerne kan have ændret sig siden") >= len(legal)
    english = render_markdown(briefing, "en")
    assert "As described in 2022" in english and "the rules may have changed since" in english


def test_state_sector_is_a_gap_and_is_logged(real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet) -> None:
    """A state profile is briefed from the municipal and regional lessons, says the corpus has none, and logs it."""
    _, _, settings = real
    briefing = brief(real, rules, "health-national-screening")
    assert GapKind.SECTOR in {g.kind for g in briefing.gaps}
    assert MDR_RULE in {c.rule.id for c in briefing.challenges}
    assert "Ingen af signaturprojekterne blev drevet af staten" in render_markdown(briefing)
    assert log_gaps(settings.data_dir, briefing) == len(briefing.gaps)
    logged = [g.question for g in list_gaps(settings.data_dir)]
    assert any("National udvælgelse til kræftscreening" in q and "sector: state" in q for q in logged)


def test_a_challenge_without_handling_examples_is_a_gap(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet
) -> None:
    """Sound capture is a likely challenge the report gives no handling example for: said, and listed as a gap."""
    briefing = brief(real, rules, "health-speech-notes")
    sound = next(c for c in briefing.challenges if c.rule.id == "infrastructure-sound")
    assert sound.examples == ()
    assert any(g.kind is GapKind.EXAMPLES and g.value == "infrastructure-sound" for g in briefing.gaps)
    markdown = render_markdown(briefing)
    assert "Korpusset har intet håndteringseksempel for denne udfordring." in markdown
    assert "Ingen håndteringseksempler for «Infrastruktur til opsamling af lyd»." in markdown


def test_no_gap_when_the_corpus_covers_the_profile(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet
) -> None:
    """A regional health profile has projects of its kind: no sector gap."""
    briefing = brief(real, rules, "health-eye-screening")
    assert not [g for g in briefing.gaps if g.kind in (GapKind.SECTOR, GapKind.DOMAIN_SECTOR)]


def test_the_briefing_prefers_a_superseding_entry(tmp_path: Path, rules: RuleSet) -> None:
    """An example marked superseded_by a newer entry is replaced by the newer one, which says what it replaces."""
    corpus = tmp_path / "corpus"
    shutil.copytree(REAL_CORPUS / "entries", corpus / "entries")
    (corpus / "reports").mkdir()
    old = corpus / "entries" / "finding" / "finding-mdr-1-forretningsmaessig-prioritering.yaml"
    old.write_text(old.read_text(encoding="utf-8") + "superseded_by: finding-mdr-2026-ny-vejledning\n", "utf-8")
    (corpus / "entries" / "finding" / "finding-mdr-2026-ny-vejledning.yaml").write_text(
        "id: finding-mdr-2026-ny-vejledning\nkind: finding\ntitle: Ny vejledning om software som medicinsk udstyr\n"
        "areas: [law]\nbody: Lægemiddelstyrelsen har udgivet ny vejledning om kvalificering af software.\n"
        "source:\n  report: Testrapport 2026\nas_of: 2026-01-15\n",
        encoding="utf-8",
    )
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", data_dir=tmp_path / "var", model="fake")
    fake = FakeEmbedder()
    build_index(settings, fake)
    searcher, _ = open_searcher(settings, fake)
    entries = {e.id: e for e in load_corpus(corpus).retrievable()}
    briefing = generate_briefing(
        parse_profile((PROFILES / "health-eye-screening.yaml").read_bytes()), searcher, entries, rules
    )
    mdr = next(c for c in briefing.challenges if c.rule.id == MDR_RULE)
    shown = [e.cited for e in mdr.examples]
    assert "finding-mdr-1-forretningsmaessig-prioritering" not in {c.entry.id for c in shown}
    newer = next(c for c in shown if c.entry.id == "finding-mdr-2026-ny-vejledning")
    assert newer.replaces == ("finding-mdr-1-forretningsmaessig-prioritering",)
    assert briefing.as_of_years == [2022, 2026]
    assert "erstatter den ældre erfaring finding-mdr-1-forretningsmaessig-prioritering" in render_markdown(briefing)


def test_superseded_by_must_name_an_existing_other_entry(tmp_path: Path) -> None:
    """`lessons validate` refuses a superseded_by that names nothing, the entry itself, or a loop."""
    corpus = tmp_path / "corpus"
    (corpus / "entries" / "advice").mkdir(parents=True)
    source = "source:\n  report: R\n"

    def write(name: str, extra: str) -> None:
        (corpus / "entries" / "advice" / f"{name}.yaml").write_text(
            f"id: {name}\nkind: advice\ntitle: {name}\nbody: Tekst.\n{source}{extra}", encoding="utf-8"
        )

    write("advice-a", "superseded_by: advice-missing\n")
    write("advice-b", "superseded_by: advice-c\n")
    write("advice-c", "superseded_by: advice-b\n")
    write("advice-d", "superseded_by: advice-d\n")
    with pytest.raises(CorpusError) as caught:
        load_corpus(corpus)
    text = str(caught.value)
    assert "advice-a.yaml [superseded_by]: names 'advice-missing', which is not an entry in the corpus" in text
    assert "loop" in text and "advice-b" in text
    assert "advice-d.yaml:7 [superseded_by]: superseded_by names the entry itself" in text


def test_markdown_escapes_profile_text(real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet) -> None:
    """A title or description with Markdown or HTML is shown literally, never as markup."""
    searcher, entries, _ = real
    profile = ProjectProfile.model_validate(
        {
            "title": "<script>alert(1)</script> **fed** [link](http://x)",
            "description": "# Overskrift\n\n![billede](http://x/y.png) data om borgere i kommunen",
            "sector": "municipality",
            "domain": "administration",
            "data": ["personal"],
            "decision_support": False,
            "phase": "idea",
            "vendor": False,
        }
    )
    markdown = render_markdown(generate_briefing(profile, searcher, entries, rules))
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert re.search(r"(?<!\\)\*\*fed", markdown) is None and "\\*\\*fed\\*\\*" in markdown
    assert "\\[link\\]" in markdown and "[link]" not in markdown
    assert "\n# Overskrift" not in markdown and "!\\[billede\\]" in markdown


def test_the_pdf_opens_and_holds_the_briefing(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet
) -> None:
    """The PDF is read back with pypdf: title metadata, æøå, the sections, MDR, the freshness note and the sources."""
    briefing = brief(real, rules, "health-eye-screening")
    data = render_pdf(briefing, "da")
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert (
        reader.metadata is not None and reader.metadata.title == "Projektbriefing: Screening for diabetisk øjensygdom"
    )
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    for expected in (
        "Screening for diabetisk øjensygdom",
        "Udfordringer, I sandsynligvis møder",
        "Medicinsk udstyr (MDR) og CE-mærkning",
        "Gode råd, der gælder for jer",
        "Projekter som jeres",
        "Spørgsmål, I bør afklare",
        "Kilder",
        "Som beskrevet i 2022",
        "Status på signaturprojekterne 2022",
        "Sikre tilstrækkelig data",
    ):
        assert expected in text, expected
    assert all(ch in text for ch in "æøå")
    assert "Løsningen" in text or "Håndtering" in text
    headings = [b.text for b in layout(briefing) if isinstance(b, Heading) and b.level == 2]
    assert len(headings) == 7


def test_the_pdf_survives_characters_the_font_lacks(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet
) -> None:
    """Arrows, emoji and markup characters in the profile print as stand-ins; the PDF still opens."""
    searcher, entries, _ = real
    profile = ProjectProfile.model_validate(
        {
            "title": "Pilot → drift 🚀 <b>&amp;",
            "description": "Vi vil sortere post → afdelinger & journalisere ✓ automatisk for borgerne.",
            "sector": "cross",
            "domain": "administration",
            "data": ["free_text"],
            "decision_support": False,
            "phase": "pilot",
            "vendor": True,
        }
    )
    data = render_pdf(generate_briefing(profile, searcher, entries, rules), "en")
    text = " ".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "Pilot -> drift ? <b>&amp;" in text
    assert "Project briefing" in text


def test_cards_about_law_say_when_they_were_described() -> None:
    """A chat card with the law area carries its year and a note that rules may have changed; others carry none."""
    from lessons.answering import card_from_entry, freshness_note, legal_note

    entries = load_corpus(REAL_CORPUS).by_id()
    mdr = card_from_entry(1, entries["finding-mdr-overview"])
    assert mdr.legal and mdr.as_of is not None and mdr.as_of.year == 2022
    assert freshness_note(mdr, "da") == "Som beskrevet i 2022; reglerne kan have ændret sig siden."
    assert freshness_note(mdr, "en") == "As described in 2022; the rules may have changed since."
    assert freshness_note(card_from_entry(2, entries["advice-01-skab-overblik-over-data"]), "da") is None
    assert legal_note([Area.LAW], None, "da") == "Reglerne kan have ændret sig, siden kilden blev skrevet."


@pytest.mark.parametrize("description", ["x" * 2000, "<b>&" * 500, "\u202e" * 1000 + "abc" * 333])
def test_the_largest_allowed_profile_renders(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet, description: str
) -> None:
    """Every key at its maximum (a 2000-character word, markup, bidi controls) renders as Markdown and PDF."""
    searcher, entries, _ = real
    profile = ProjectProfile.model_validate(
        {
            "title": "T" * 200,
            "description": description[:2000],
            "sector": "state",
            "domain": "climate",
            "data": ["personal", "health_records", "other_authority_system", "free_text", "images", "sound"],
            "decision_support": True,
            "phase": "idea",
            "vendor": True,
            "citizen_facing": True,
            "systems": ["S" * 200] * 20,
            "organisation": "O" * 200,
        }
    )
    briefing = generate_briefing(profile, searcher, entries, rules)
    assert "<b>" not in render_markdown(briefing)
    assert pypdf.PdfReader(io.BytesIO(render_pdf(briefing))).pages


@pytest.mark.parametrize("state", ["weak", "no_match"])
def test_the_no_match_decision_marks_the_description(
    real: tuple[Searcher, dict[str, Entry], Settings], rules: RuleSet, monkeypatch: pytest.MonkeyPatch, state: str
) -> None:
    """When abstention calls the description weak, the similar projects say so; no_match makes it a logged gap."""
    import dataclasses

    from lessons.abstention import Confidence

    searcher, entries, _ = real
    profile = parse_profile((PROFILES / "employment-job-match.yaml").read_bytes())
    original = searcher.search

    def search(question: str, k: int = 5, **kwargs: object) -> object:
        result = original(question, k, **kwargs)  # type: ignore[arg-type]
        if question == profile.description:
            return dataclasses.replace(result, confidence=Confidence(state))
        return result

    monkeypatch.setattr(searcher, "search", search)
    briefing = generate_briefing(profile, searcher, entries, rules)
    markdown = render_markdown(briefing)
    assert briefing.description_confidence is Confidence(state)
    if state == "weak":
        assert "ligner kun svagt noget i rapporten" in markdown
        assert GapKind.DESCRIPTION not in {g.kind for g in briefing.gaps}
    else:
        assert GapKind.DESCRIPTION in {g.kind for g in briefing.gaps}
        assert "Intet i korpusset ligner jeres projektbeskrivelse" in markdown
