"""Answers: Markdown escaping, follow-up context, the cited extractive overview, cards and the Markdown export."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lessons.answering import (
    Answer,
    Answerer,
    SentenceVectors,
    build_cards,
    common_sentences,
    contextualise,
    detect_sectors,
    escape_markdown,
    export_markdown,
    extract_overview,
    filter_summary,
    is_followup,
    label,
    shorten,
)
from lessons.build import build_index
from lessons.chunking import Chunk, ChunkMeta
from lessons.corpus import load_corpus
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.errors import QuestionError
from lessons.models import Entry, Kind, Sector, Source
from lessons.search import Filters, Searcher
from lessons.settings import Settings

MDR_QUESTION = "Skal algoritmen CE-mærkes efter MDR?"
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def render(text: str) -> str:
    """HTML of Markdown text, as a CommonMark renderer makes it."""
    return MARKDOWN.render(text)


def visible(text: str) -> str:
    """What a reader sees of rendered Markdown: paragraphs' text, tags removed, entities decoded."""
    body = render(text)
    assert re.sub(r"</?p>", "", body).count("<") == 0, body  # no element other than paragraphs
    return html.unescape(re.sub(r"</?p>", "", body)).strip()


@pytest.fixture
def searcher(settings: Settings, fake: FakeEmbedder) -> Searcher:
    """A searcher over the tiny corpus."""
    build_index(settings, fake)
    return open_searcher(settings, fake)[0]


@pytest.fixture
def entries(settings: Settings) -> dict[str, Entry]:
    """The tiny corpus's entries by id."""
    return load_corpus(settings.corpus_dir).by_id()


# --- escaping ----------------------------------------------------------------------------------


def test_script_tags_come_out_literally() -> None:
    """'<script>' is shown as text, never as an element."""
    out = render(escape_markdown("<script>alert(1)</script>"))
    assert out.strip() == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_emphasis_and_javascript_links_come_out_literally() -> None:
    """'**x** [link](javascript:...)' renders as exactly those characters: no strong, no link."""
    text = "**x** [link](javascript:alert(1))"
    assert visible(escape_markdown(text)) == text
    assert "<a" not in render(escape_markdown(text)) and "<strong>" not in render(escape_markdown(text))


@pytest.mark.parametrize(
    "text",
    ["# heading", "- item", "+ item", "1. first", "3) third", "> quote", "---", "`code`", "~~gone~~", "| a | b |"],
)
def test_block_and_inline_syntax_is_neutralised(text: str) -> None:
    """Headings, lists, quotes, rules, code and strike-through all stay plain text."""
    assert visible(escape_markdown(text)) == text


def test_streamlit_directives_and_autolinks_are_escaped() -> None:
    """Streamlit colour/emoji directives, maths and bare links cannot form."""
    out = escape_markdown(":red[alarm] :smile: $x$ www.evil.dk a@b.dk https://x.dk")
    assert "\\:red\\[alarm\\]" in out and "\\:smile:" in out and "\\$x\\$" in out
    assert "www\\.evil" in out and "a\\@b" in out and "https\\://" in out


def test_ordinary_prose_stays_readable() -> None:
    """Danish prose with hyphens, parentheses and full stops is not cluttered with backslashes."""
    text = "Skal CE-mærkning (MDR) ske før it-infrastrukturen er klar? Ja, ca. 66 pct."
    assert escape_markdown(text) == text


def test_paragraphs_survive_and_indentation_cannot_make_code() -> None:
    """Blank lines separate paragraphs; indented lines are folded into their paragraph."""
    assert escape_markdown("første\n\n\n    anden   linje\n        kode") == "første\n\nanden linje kode"
    assert "<code>" not in render(escape_markdown("tekst\n\n    indrykket kode"))


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("æøåÆØÅ\n"), max_size=80))
def test_any_text_renders_as_itself(text: str) -> None:
    """Property: whatever the text, the rendered result shows exactly its words, one paragraph at a time."""
    escaped = escape_markdown(text)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.split()]
    if not paragraphs:
        assert escaped == ""
        return
    assert visible(escaped).split("\n") == paragraphs


# --- small helpers -----------------------------------------------------------------------------


def test_shorten_cuts_at_a_sentence_end_or_marks_the_cut() -> None:
    """Short text is kept; long text ends at a sentence end when one is near, else with '…'."""
    assert shorten("En to tre.", 10) == "En to tre."
    sentence = "Et to tre fire fem seks syv otte. Ni ti elleve tolv"
    assert shorten(sentence, 10) == "Et to tre fire fem seks syv otte."
    assert shorten("a b c d e f", 3) == "a b c …"
    abbreviations = "Det kræver bl.a. jurister og ca. 66 pct. af tiden i projektet hver eneste uge"
    assert shorten(abbreviations, 12).endswith(" …")


def test_labels_follow_the_language() -> None:
    """Labels come from the models' label dicts, in Danish or English."""
    assert label("kind", "handling", "da") == "Håndteringseksempel"
    assert label("kind", "handling", "en") == "Handling example"
    assert label("field", "outcome", "en") == "Outcome"
    assert filter_summary(Filters.parse(areas=["law"], sectors=["region"]), "da") == ["Jura", "Region"]


# --- follow-ups --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hvad med i kommunerne?", True),
        ("og hvad kostede det?", True),
        ("and what did it cost?", True),
        ("What about the regions?", True),
        ("i regionerne?", True),
        ("Hvordan håndterede de det juridiske?", True),
        ("How long did it take them?", True),
        ("Skal vores algoritme CE-mærkes efter MDR?", False),
        ("hvordan bager man kage", False),
        ("CE-mærkning af algoritmer", False),
        ("Hvilke erfaringer havde de fleste projekter med data fra fagsystemer?", False),
    ],
)
def test_follow_ups_are_recognised_by_length_markers_and_pronouns(question: str, expected: bool) -> None:
    """Elliptic questions, 'hvad med'/'and' openings and short pronoun questions are follow-ups."""
    assert is_followup(question) is expected


@pytest.mark.parametrize(
    ("text", "sectors"),
    [
        ("Hvad med i kommunerne?", {Sector.MUNICIPALITY}),
        ("and in the regions?", {Sector.REGION}),
        ("i både kommuner og regioner", {Sector.MUNICIPALITY, Sector.REGION}),
        ("tværgående projekter", {Sector.CROSS}),
        ("og hvad kostede det?", set()),
    ],
)
def test_sectors_named_in_a_question_are_detected(text: str, sectors: set[Sector]) -> None:
    """'kommunerne' → municipality, 'regions' → region, 'tværgående' → cross."""
    assert detect_sectors(text) == frozenset(sectors)


def test_contextualise_joins_a_follow_up_to_the_previous_question() -> None:
    """A follow-up is searched as previous + follow-up with its sector; a new question stands alone."""
    context = contextualise("Hvad med i kommunerne?", MDR_QUESTION)
    assert context.followup and context.query == f"{MDR_QUESTION} Hvad med i kommunerne?"
    assert context.sectors == frozenset({Sector.MUNICIPALITY})
    alone = contextualise("Hvordan fik kommunen adgang til data via API?", MDR_QUESTION)
    assert not alone.followup and alone.query == "Hvordan fik kommunen adgang til data via API?"
    assert not contextualise("Hvad med i kommunerne?", None).followup


def test_contextualised_query_stays_within_the_length_limit() -> None:
    """A long history is cut from the front so the query never exceeds the question limit."""
    context = contextualise("og hvad kostede det?", "x " * 2000, max_chars=200)
    assert context.followup and len(context.query) <= 200 and context.query.endswith("og hvad kostede det?")


# --- the overview and cards --------------------------------------------------------------------


def test_overview_quotes_two_to_four_sentences_citing_their_cards(searcher: Searcher) -> None:
    """The overview quotes real sentences of the hits, best first, each citing its card; no duplicates."""
    result = searcher.search(MDR_QUESTION)
    overview = extract_overview(MDR_QUESTION, searcher.embed(MDR_QUESTION), result.hits, searcher.embedder)
    assert 2 <= len(overview) <= 4
    assert overview[0].card == 1 and "CE-mærkes" in overview[0].text
    bodies = {hit.rank: hit.chunk.body for hit in result.hits}
    assert all(s.text in bodies[s.card] for s in overview)
    assert len({s.text for s in overview}) == len(overview)
    assert [s.score for s in overview] == sorted((s.score for s in overview), reverse=True)
    assert all(sum(s.card == c for s in overview) <= 2 for c in bodies)


def test_overview_strips_field_labels_and_works_without_an_embedder(searcher: Searcher) -> None:
    """Without vectors the lexical overlap alone chooses; 'Udfordring:' labels are not quoted."""
    result = searcher.search(MDR_QUESTION)
    overview = extract_overview(MDR_QUESTION, None, result.hits, None)
    assert overview and not any(s.text.startswith(("Udfordring:", "Håndtering:")) for s in overview)


def test_boilerplate_sentences_are_never_quoted(searcher: Searcher) -> None:
    """A sentence shared by three or more entries is boilerplate; the overview skips it even when it scores best."""
    chunks = [
        Chunk(
            id=f"e{i}#0",
            entry_id=f"e{i}",
            ordinal=0,
            header="h",
            body=f"Fælles indledning om gode råd her. Råd nummer {i} her.",
            fields=("body",),
            meta=ChunkMeta(kind=Kind.ADVICE, title=f"Råd {i}", source=Source(report="r")),
        )
        for i in range(3)
    ]
    assert common_sentences(chunks) == frozenset({"Fælles indledning om gode råd her."})
    assert common_sentences(chunks[:2]) == frozenset()
    result = searcher.search(MDR_QUESTION)
    first = extract_overview(MDR_QUESTION, None, result.hits, None)[0].text
    later = extract_overview(MDR_QUESTION, None, result.hits, None, skip={first})
    assert first not in {s.text for s in later}


def test_sentence_vectors_are_embedded_once(searcher: Searcher) -> None:
    """Asking again embeds no sentence twice: the cards' sentence vectors are cached."""
    fake = FakeEmbedder(name="fake-cache-test")  # its own fingerprint, so no earlier test filled the cache
    result = searcher.search(MDR_QUESTION)
    vector = searcher.embed(MDR_QUESTION)
    before = fake.documents_embedded
    cache = SentenceVectors(100)
    first = extract_overview(MDR_QUESTION, vector, result.hits, fake, vectors=cache)
    embedded = fake.documents_embedded - before
    assert embedded > 0
    again = extract_overview(MDR_QUESTION, vector, result.hits, fake, vectors=cache)
    assert fake.documents_embedded - before == embedded and again == first


def test_overview_of_nothing_is_empty() -> None:
    """No hits, no overview."""
    assert extract_overview("noget", None, [], None) == []


def test_cards_carry_the_entry_and_fall_back_to_the_index(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """Cards are numbered in rank order from the corpus entry; a vanished entry still gets a card from the chunk."""
    hits = searcher.search(MDR_QUESTION).hits
    cards = build_cards(hits, entries)
    assert [c.number for c in cards] == list(range(1, len(hits) + 1))
    first = cards[0]
    assert first.kind is Kind.HANDLING and first.project_name == "Projekt om hjertescanning"
    assert [name for name, _ in first.key_fields] == ["challenge", "handling", "outcome"]
    assert first.source.report == "Testrapport" and first.source.section == "Afsnit"
    fallback = build_cards(hits, {})[0]
    assert fallback.title == first.title and fallback.kind is Kind.HANDLING
    assert fallback.fields == (("body", hits[0].chunk.body),)


def test_answer_question_follows_up_with_the_sector_filter(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """A follow-up answer uses the previous query and restricts that turn to the named sector."""
    first = Answerer(searcher).answer(MDR_QUESTION, entries=entries)
    assert not first.no_match and first.cards[0].entry_id == "handling-mdr-ce" and first.overview
    second = Answerer(searcher).answer("Hvad med i kommunerne?", entries=entries, previous=first)
    assert second.followup and second.query.startswith(MDR_QUESTION)
    assert second.filters.sectors == frozenset({Sector.MUNICIPALITY})
    assert {c.sector for c in second.cards} == {Sector.MUNICIPALITY}
    assert second.index_version == searcher.version and second.id != first.id


@pytest.mark.usefixtures("scripted_states")
def test_answer_question_without_a_match_has_no_overview(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """An off-topic question is a no-match with no overview to mislead."""
    answer = Answerer(searcher).answer("hvordan bager man kage", entries=entries)
    assert answer.no_match and answer.overview == []


def test_answer_question_rejects_an_empty_question(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """An empty question raises the domain error the app shows."""
    with pytest.raises(QuestionError):
        Answerer(searcher).answer("   ", entries=entries)


# --- export ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("scripted_states")
def test_export_is_markdown_with_questions_citations_and_sources(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """The export lists each question, its cited overview and its cards with sources, all escaped."""
    first = Answerer(searcher).answer(MDR_QUESTION, entries=entries)
    odd = Answerer(searcher).answer("hvordan bager man kage <b>**x**</b>", entries=entries)
    text = export_markdown([first, odd], "da", now=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    assert text.startswith("# Samtale: erfaringer fra signaturprojekterne\n")
    assert "Eksporteret 2024-05-01 12:00 UTC" in text
    assert f"## 1. Spørgsmål: {MDR_QUESTION}" in text
    assert "**Kort fortalt**" in text and f"\\[{first.overview[0].card}\\]" in text
    assert "**\\[1\\] CE-mærkning af algoritmen efter MDR**" in text
    assert "*Kilde: Testrapport, afsnit Afsnit*" in text
    assert "> **Udfordring:** Projektet skulle afklare" in text
    assert "## 2. Spørgsmål: hvordan bager man kage \\<b\\>\\*\\*x\\*\\*\\</b\\>" in text
    assert "Rapporten har ingen erfaringer, der svarer på dette spørgsmål." in text
    assert "<b>" not in render(text) and "<strong>x" not in render(text)


def test_export_in_english_labels_the_parts_in_english(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """The English export uses English labels around the Danish quotes."""
    answer: Answer = Answerer(searcher).answer(MDR_QUESTION, entries=entries)
    text = export_markdown([answer], "en")
    assert "## 1. Question:" in text and "**In short**" in text and "*Source: Testrapport, section Afsnit*" in text
    assert "> **Challenge:** Projektet skulle afklare" in text


def test_an_answerer_keeps_its_caches_between_answers(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """One Answerer finds the boilerplate once and embeds no overview sentence twice across answers."""
    answerer = Answerer(searcher)
    first = answerer.answer(MDR_QUESTION, entries=entries)
    boilerplate = answerer.boilerplate
    assert boilerplate is answerer.boilerplate
    cached = len(answerer.vectors._vectors)
    assert cached > 0 and first.overview
    again = answerer.answer(MDR_QUESTION, entries=entries)
    assert len(answerer.vectors._vectors) == cached
    assert [s.text for s in again.overview] == [s.text for s in first.overview]
