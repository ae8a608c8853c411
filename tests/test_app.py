"""The Streamlit app, driven headless through AppTest with the fake embedder and the tiny corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from lessons import answering
from lessons.answering import Answer, escape_markdown
from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.feedback import list_feedback, list_gaps, list_negative_feedback
from lessons.models import Sector
from lessons.settings import Settings
from lessons.store import read_current
from tests.conftest import APP, WEAK_MARKER, account_session, only_card_anchors, open_app

pytestmark = [pytest.mark.heavy, pytest.mark.usefixtures("fresh_streamlit")]

MDR_QUESTION = "Skal algoritmen CE-mærkes efter MDR?"
MDR_TITLE = "CE-mærkning af algoritmen efter MDR"
OFF_TOPIC = "hvordan bager man kage"
MUNICIPAL_TITLES = {"Adgang til data via API", "Energioptimering af bygninger"}

KOL_LESSON = """id: handling-kol-maalinger
kind: handling
title: Hjemmemålinger hos KOL-patienter
areas: [data]
sector: region
domain: health
project: Forværring hos KOL-patienter
challenge: Hjemmemålingerne havde huller, når patienterne glemte at måle.
handling: Projektet sendte påmindelser og lærte personalet at tolke manglende målinger.
source:
  report: Testrapport
  section: Afsnit
"""


@pytest.fixture
def app_settings(env_settings: Settings, use_fake_embedder: FakeEmbedder) -> Settings:
    """Settings exported to the app, with the fake model and no index yet."""
    return env_settings


def ask(at: AppTest, question: str) -> AppTest:
    """Type a question into the chat input and submit it."""
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Switch to an st.navigation page (AppTest.switch_page only knows file pages)."""
    at._page_hash = calc_hash(url_path)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(node: Any) -> list[str]:
    """Every markdown-like text (markdown, captions, alerts) below a node, in order."""
    out: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "success", "error"):
        out.extend(str(element.value) for element in getattr(node, kind))
    return out


def joined(node: Any) -> str:
    """All texts below a node as one string."""
    return "\n".join(texts(node))


def turns(at: AppTest) -> list[Answer]:
    """The conversation held in the session."""
    value: list[Answer] = at.session_state["turns"]
    return value


def card_titles(answer: Answer) -> list[str]:
    """Titles of an answer's cards, in card order."""
    return [card.title for card in answer.cards]


def test_first_start_builds_the_missing_index(app_settings: Settings) -> None:
    """With no index, the first start builds one (with progress) and the chat is ready."""
    assert read_current(app_settings.index_dir) is None
    at = open_app()
    assert read_current(app_settings.index_dir) is not None
    assert at.chat_input
    assert at.title[0].value == "Erfaringer fra signaturprojekterne"


def test_a_question_gets_an_overview_with_citations_and_cards(built: Settings) -> None:
    """A Danish question is answered with a cited overview, then numbered cards with kind, fields and source."""
    at = ask(open_app(), MDR_QUESTION)
    user, assistant = at.chat_message[0], at.chat_message[1]
    assert user.markdown[0].value == escape_markdown(MDR_QUESTION)
    body = joined(assistant)
    assert "**Kort fortalt**" in body
    overview = next(m.value for m in assistant.markdown if m.value.startswith("- "))
    assert "\\[1\\]" in overview and "CE-mærkes" in overview
    assert f"**\\[1\\] {escape_markdown(MDR_TITLE)}**" in body
    assert ":orange-badge[Håndteringseksempel]" in body and ":gray-badge[Jura]" in body
    assert "**Udfordring:** :orange-background[Projektet skulle afklare" in body  # quoted above, so marked
    assert "**→ Håndtering:** Projektet indgik dialog" in body
    assert "**→ Resultat:** Afklaringen tog et halvt år." in body
    assert "Kilde: *Testrapport* › Afsnit" in body
    assert "Projekt: Projekt om hjertescanning · Region · Sundhed" in body
    assert next(e.label for e in assistant.expander) == "Hele erfaringen"
    answer = turns(at)[0]
    assert card_titles(answer)[0] == MDR_TITLE
    assert {s.card for s in answer.overview} <= {c.number for c in answer.cards}


def test_a_follow_up_is_searched_in_context_with_its_sector(built: Settings) -> None:
    """'Hvad med i kommunerne?' is searched as previous question + follow-up, filtered to municipalities."""
    at = ask(ask(open_app(), MDR_QUESTION), "Hvad med i kommunerne?")
    first, second = turns(at)
    assert not first.followup and second.followup
    assert second.query == f"{MDR_QUESTION} Hvad med i kommunerne?"
    assert second.filters.sectors == frozenset({Sector.MUNICIPALITY})
    assert second.cards and set(card_titles(second)) <= MUNICIPAL_TITLES
    body = joined(at.chat_message[3])
    assert "Opfølgning – søgt som:" in body and "Sektor fra spørgsmålet: Kommune" in body
    assert not at.multiselect(key="f_sector").value  # the sidebar filter is untouched
    third = turns(ask(at, "og hvad kostede det?"))[2]
    assert third.followup and third.filters.sectors == frozenset()  # the sector held for that turn only


def test_a_sidebar_filter_applies_to_the_next_answer_and_shows_as_active(built: Settings) -> None:
    """Choosing 'Jura' restricts the next answer to law entries and is shown above and in the answer."""
    at = open_app()
    at.multiselect(key="f_area").set_value(["law"]).run()
    assert "Aktive filtre: Jura" in joined(at.main)
    at = ask(at, "algoritmen data projektet")
    answer = turns(at)[0]
    assert card_titles(answer) == [MDR_TITLE]
    assert "Filtre: Jura" in joined(at.chat_message[1])
    at = open_page(open_page(at, "overblik"), "sporg")
    assert at.multiselect(key="f_area").value == ["law"]  # kept while another page was shown
    clear = [b for b in at.sidebar.button if b.label == "Nulstil filtre"]
    clear[0].click().run()
    assert at.multiselect(key="f_area").value == []


@pytest.mark.usefixtures("scripted_states")
def test_no_match_says_so_suggests_topics_and_logs_the_gap(built: Settings) -> None:
    """An off-topic question gets a plain no-match, the seven areas and examples, and lands in the gap log."""
    at = ask(open_app(), OFF_TOPIC)
    answer = turns(at)[0]
    assert answer.no_match and not answer.overview
    assistant = at.chat_message[1]
    assert "ingen erfaringer, der svarer" in assistant.info[0].value
    labels = [b.label for b in assistant.button]
    assert {"Data", "Jura", "Etik", "Kompetencer"} <= set(labels)
    assert "Skal vores algoritme CE-mærkes som medicinsk udstyr?" in labels
    gaps = list_gaps(built.data_dir)
    assert [(g.question, g.count) for g in gaps] == [(OFF_TOPIC, 1)]
    next(b for b in assistant.button if b.label == "Jura").click().run()
    assert turns(at)[-1].question == "Hvad lærte projekterne om jura?"


def test_feedback_with_a_comment_is_stored(built: Settings) -> None:
    """Thumbs down on an answer is stored at once; a comment sent afterwards is added to it."""
    at = ask(open_app(), MDR_QUESTION)
    at.feedback[0].set_value(0).run()
    records = list_negative_feedback(built.data_dir)
    assert len(records) == 1 and records[0].question == MDR_QUESTION
    assert records[0].entry_ids[0] == "handling-mdr-ce" and records[0].comment is None
    at.text_input(key=f"fbc_{turns(at)[0].id}").set_value("Mangler noget om kommuner").run()
    next(b for b in at.button if b.label == "Send kommentar").click().run()
    assert list_feedback(built.data_dir)[0].comment == "Mangler noget om kommuner"
    assert "Tak for jeres feedback." in joined(at.chat_message[1])


def test_export_holds_the_conversation_with_citations(built: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The download button offers the whole conversation as Markdown, with citations and sources."""
    exported: list[str] = []
    original = answering.export_markdown

    def spy(answers: list[Answer], lang: str = "da", **kwargs: Any) -> str:
        exported.append(original(answers, lang, **kwargs))
        return exported[-1]

    monkeypatch.setattr(answering, "export_markdown", spy)
    at = ask(ask(open_app(), MDR_QUESTION), "Hvad med i kommunerne?")
    assert at.download_button[0].label == "Hent samtalen (Markdown)"
    markdown = exported[-1]
    assert "## 1. Spørgsmål: Skal algoritmen CE-mærkes efter MDR?" in markdown
    assert "## 2. Spørgsmål: Hvad med i kommunerne?" in markdown
    assert "\\[1\\]" in markdown and "Kilde: Testrapport, afsnit Afsnit" in markdown
    assert f"**\\[1\\] {escape_markdown(MDR_TITLE)}**" in markdown


def test_english_switch_translates_the_interface_not_the_corpus(built: Settings) -> None:
    """With English on, labels are English while the quoted corpus text stays Danish."""
    at = open_app()
    at.toggle(key="lang_en").set_value(True).run()
    assert at.title[0].value == "Experiences from the signature projects"
    assert at.query_params["lang"] == "en"  # a reload keeps the language
    assert at.chat_input[0].placeholder == "Type your question …"
    at = ask(at, MDR_QUESTION)
    body = joined(at.chat_message[1])
    assert "**In short**" in body and ":orange-badge[Handling example]" in body and ":gray-badge[Law]" in body
    assert "**Challenge:** :orange-background[Projektet skulle afklare" in body
    assert "Source: *Testrapport* › Afsnit" in body


def test_the_language_can_come_from_the_url(built: Settings) -> None:
    """Opening the app with ?lang=en starts it in English."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception and at.title[0].value == "Experiences from the signature projects"
    assert at.toggle(key="lang_en").value is True


def test_user_and_corpus_text_is_rendered_escaped(built: Settings) -> None:
    """Script tags, emphasis and javascript links in a question are shown literally; nothing allows HTML."""
    question = "<script>alert(1)</script> **x** [link](javascript:alert(1))"
    at = ask(open_app(), question)
    shown = at.chat_message[0].markdown[0].value
    assert shown == "\\<script\\>alert(1)\\</script\\> \\*\\*x\\*\\* \\[link\\](javascript\\:alert(1))"
    anchors = [str(h.value) for h in at.get("html")]
    assert only_card_anchors(anchors), anchors  # the only raw HTML: the cards' empty citation targets
    assert all(not m.proto.allow_html for m in at.markdown)


def test_a_stale_index_is_announced_with_a_rebuild_button(built: Settings, tiny_corpus: Path) -> None:
    """A corpus edit after the build shows a warning; an editor's rebuild button makes a new, fresh version."""
    (tiny_corpus / "entries" / "handling" / "handling-kol-maalinger.yaml").write_text(KOL_LESSON, encoding="utf-8")
    before = read_current(built.index_dir)
    assert not any(b.label == "Genopbyg indekset" for b in open_app().button), "no rebuild for anonymous readers"
    at = open_app(account_session(built, "edda", "editor"))
    assert any("forældet" in w.value and "handling-kol-maalinger" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Genopbyg indekset").click().run()
    assert not at.exception
    assert read_current(built.index_dir) != before
    assert not any("forældet" in w.value for w in at.warning)


def test_a_new_index_version_is_loaded_without_restart(built: Settings, fake: FakeEmbedder, tiny_corpus: Path) -> None:
    """When CURRENT changes (a build elsewhere), the next question is answered from the new version."""
    at = ask(open_app(), MDR_QUESTION)
    old_version = turns(at)[0].index_version
    (tiny_corpus / "entries" / "handling" / "handling-kol-maalinger.yaml").write_text(KOL_LESSON, encoding="utf-8")
    build_index(built, fake)
    at = ask(at, "Hvordan håndterede projektet huller i hjemmemålingerne fra KOL-patienter?")
    latest = turns(at)[-1]
    assert latest.index_version == read_current(built.index_dir) != old_version
    assert "Hjemmemålinger hos KOL-patienter" in card_titles(latest)
    assert any("Nyt indeks indlæst" in toast.value for toast in at.toast)


def test_projects_like_mine_shows_status_and_lessons(built: Settings, fake: FakeEmbedder, tiny_corpus: Path) -> None:
    """A project description finds the most similar signature project, its status and its lessons."""
    (tiny_corpus / "entries" / "handling" / "handling-kol-maalinger.yaml").write_text(KOL_LESSON, encoding="utf-8")
    build_index(built, fake)
    at = open_page(open_app(), "projekter")
    assert at.title[0].value == "Projekter som jeres"
    at.text_area(key="projects_description").set_value(
        "Vi vil forebygge forværringer hos KOL-patienter med hjemmemålinger af iltmætning og puls."
    )
    at.button[0].click().run()
    assert not at.exception
    body = joined(at.main)
    assert "**1. Forværring hos KOL-patienter**" in body
    assert ":blue-badge[I gang]" in body and "Projektet var i gang, da rapporten blev skrevet." in body
    assert "Erfaringer fra projektet (1)" in [e.label for e in at.expander]
    assert "**Hjemmemålinger hos KOL-patienter**" in body


@pytest.mark.usefixtures("scripted_states")
def test_weak_answer_shows_the_nearest_under_a_caution_without_an_overview(built: Settings) -> None:
    """A weak answer shows the nearest cards under the caution, no 'Kort fortalt', and is logged as weak."""
    question = f"{MDR_QUESTION} {WEAK_MARKER}"
    at = ask(open_app(), question)
    answer = turns(at)[0]
    assert answer.weak and not answer.no_match and not answer.overview and answer.cards
    assistant = at.chat_message[1]
    assert "Ingen erfaring svarer præcist på spørgsmålet – her er de nærmeste" in assistant.warning[0].value
    body = joined(assistant)
    assert "Kort fortalt" not in body and MDR_TITLE in body
    [gap] = list_gaps(built.data_dir)
    assert gap.question == question and gap.states == ["weak"]


def test_nothing_inside_the_filters_offers_to_search_without_them(built: Settings) -> None:
    """A question answered only outside the chosen filters says so; one click searches without them."""
    at = open_app()
    at.multiselect(key="f_domain").set_value(["climate"]).run()
    at = ask(at, MDR_QUESTION)
    answer = turns(at)[0]
    assert answer.no_match and answer.reason == "filters"
    assistant = at.chat_message[1]
    assert "Intet inden for de valgte filtre" in assistant.info[0].value
    next(b for b in assistant.button if b.label == "Søg uden filtre").click().run()
    assert at.multiselect(key="f_domain").value == []
    last = turns(at)[-1]
    assert last.question == MDR_QUESTION and not last.no_match and not last.filters.active
    assert last.cards[0].title == MDR_TITLE


def test_a_question_of_symbols_only_asks_for_words_and_is_not_a_gap(built: Settings) -> None:
    """Punctuation-only and one-letter questions get a message asking for words, and stay out of the gap log."""
    at = ask(open_app(), "?!?")
    assert turns(at)[0].reason == "no_words"
    assert "kun af tegn uden ord" in at.chat_message[1].info[0].value
    at = ask(at, "x")
    assert turns(at)[-1].reason == "too_short"
    assert list_gaps(built.data_dir) == []


@pytest.mark.usefixtures("scripted_states")
def test_overview_page_shows_counts_index_status_and_curator_lists(built: Settings) -> None:
    """The overview charts the corpus, reports the index (fresh, which model) and lists gaps for curators."""
    at = ask(ask(open_app(account_session(built, "karen", "curator")), OFF_TOPIC), f"{MDR_QUESTION} {WEAK_MARKER}")
    at = open_page(at, "overblik")
    assert at.title[0].value == "Overblik over korpusset"
    assert {m.label: m.value for m in at.metric} == {"Erfaringer i alt": "5"}
    assert "- **Model:** fake-embedder" in joined(at.main)
    assert f"- **Version:** {read_current(built.index_dir)}" in joined(at.main)
    bars = {p.text: p.value for p in at.get("progress")}  # counts drawn as plain bars, at once
    assert bars["Projektbeskrivelse: 2"] == 100 and bars["Håndteringseksempel: 2"] == 100
    assert bars["Godt råd: 1"] == 50 and not at.get("arrow_vega_lite_chart") and not at.get("vega_lite_chart")
    assert any("opdateret" in s.value for s in at.success)
    assert f"- 1× {OFF_TOPIC} · *intet svar*" in joined(at.main)
    assert f"- 1× {MDR_QUESTION} {WEAK_MARKER} · *svagt svar*" in joined(at.main)


def test_a_missing_model_is_reported_with_its_fix(
    env_settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without the model the chat says so plainly instead of failing with a traceback."""
    build_index(env_settings, fake)
    monkeypatch.setenv("LESSONS_MODEL", str(tmp_path / "no-such-model"))
    at = open_app()
    errors = [e.value for e in at.error]
    assert any("Sprogmodellen kan ikke indlæses" in e and "no\\-such\\-model" not in e for e in errors), errors
    assert not at.chat_message
