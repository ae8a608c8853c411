"""Rough edges of the app found in a browser walk-through (issue 14), held by AppTest with the fake embedder."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lessons import embedding, engine, words
from lessons.answering import escape_markdown
from lessons.build import build_index
from lessons.corpus import parse_entry
from lessons.curation import Match, Thresholds
from lessons.embedding import FakeEmbedder
from lessons.models import Kind
from lessons.settings import Settings
from lessons.store import read_current
from lessons.ui import resources, shell, uploads
from lessons.ui.curator import match_reason, usual_kind
from lessons.ui.resources import stale_text
from tests.conftest import APP, SOURCE, TINY_ENTRIES, account_session, open_app
from tests.test_app import KOL_LESSON, MDR_QUESTION, open_page, turns
from tests.test_curator_upload import css_contents

pytestmark = [pytest.mark.heavy, pytest.mark.usefixtures("fresh_streamlit")]

ROOT = Path(__file__).resolve().parent.parent

# Streamlit's own English defaults that a Danish page must not show (a placeholder or an option we can set).
STREAMLIT_DEFAULTS = ("Choose options", "Choose an option", "Select all", "Add: ")
# The file uploader's own English, which only a browser shows; a Danish page replaces it with a scoped style.
UPLOADER_DEFAULTS = ("Upload", "per file", "Drag and drop", "Browse files")
# Bilingual by design: the language switch names itself in its own language.
ALLOWED = {"English", "Skift grænsefladen til engelsk / switch the interface to English"}


def _strings(message: Any) -> Iterator[str]:
    """Every string in a protobuf message, nested messages and repeated fields included."""
    for _descriptor, value in message.ListFields():
        values = list(value) if hasattr(value, "__len__") and not isinstance(value, str | bytes) else [value]
        for item in values:
            if isinstance(item, str):
                yield item
            elif hasattr(item, "ListFields"):
                yield from _strings(item)


def shown_strings(at: AppTest) -> list[str]:
    """Every string the app sent to the browser for the current page (labels, placeholders, options, texts)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            out.extend(_strings(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return [s for s in out if s not in ALLOWED]


def _english_fragments() -> list[str]:
    """Literal pieces (12+ characters) of every English interface text that no Danish text also uses."""
    fragments: set[str] = set()
    pairs = list(words.TEXTS.values()) + [pair for table in words.VOCABULARIES.values() for pair in table.values()]
    danish = "\n".join(da for da, _ in pairs)
    for da, en in pairs:
        if da == en:
            continue
        for raw in re.split(r"{\w+}", en):
            piece = raw.strip(" .:,;–-*()“”")
            if len(piece) >= 12 and piece not in danish:
                fragments.add(piece)
    return sorted(fragments)


ENGLISH = _english_fragments()


def assert_danish(at: AppTest, where: str) -> None:
    """The page shows no English interface text and no English Streamlit default, and every multiselect is set up."""
    styles = "\n".join(str(h.value) for h in at.get("html") if "<style>" in str(h.value))
    for uploader in at.get("file_uploader"):
        assert f".st-key-{uploader.key}-box " in styles, (
            f"{where}: file uploader {uploader.proto.label!r} shows Streamlit's own {', '.join(UPLOADER_DEFAULTS)}"
        )
    shown = shown_strings(at) + css_contents(styles)  # what the style puts on screen counts as shown
    leaks = sorted(
        {f for f in ENGLISH for s in shown if f in s} | {d for d in STREAMLIT_DEFAULTS for s in shown if d in s}
    )
    assert leaks == [], f"{where}: English on a Danish page: {leaks}"
    for box in at.multiselect:
        assert box.proto.placeholder, f"{where}: multiselect {box.label!r} falls back to 'Choose options'"
        assert not box.proto.select_all, f"{where}: multiselect {box.label!r} offers Streamlit's 'Select all'"


def test_the_english_fragment_list_catches_english() -> None:
    """The leak check has teeth: English texts and Streamlit defaults are recognised, Danish ones are not."""
    assert "added since the build" in " ".join(ENGLISH)
    assert "word overlap" in " ".join(ENGLISH)
    assert any("Type your question" in f for f in ENGLISH)
    assert not any(f in words.t("stale_added_one", "da", ids="x") for f in ENGLISH)


def test_every_danish_page_shows_only_danish_interface_text(built: Settings, tiny_corpus: Path) -> None:
    """Chat (answer, follow-up, filters, stale index), projects, overview and every curator section stay Danish."""
    (tiny_corpus / "entries" / "handling" / "handling-kol-maalinger.yaml").write_text(KOL_LESSON, encoding="utf-8")
    at = open_app(account_session(built, "edda", "editor"))  # an editor sees every curator section
    at.multiselect(key="f_sector").set_value(["region"]).run()
    at.chat_input[0].set_value(MDR_QUESTION).run()
    at.chat_input[0].set_value("Hvad gjorde de konkret?").run()
    assert not at.exception and len(turns(at)) == 2
    assert any("1 erfaring tilføjet siden bygningen: handling-kol-maalinger" in w.value for w in at.warning)
    assert_danish(at, "chat")
    open_page(at, "projekter")
    at.text_area(key="projects_description").set_value("Vi vil forudsige forværring hos KOL-patienter.")
    at.button[0].click().run()
    assert_danish(at, "projekter")
    open_page(at, "briefing")
    assert_danish(at, "briefing")
    open_page(at, "overblik")
    assert_danish(at, "overblik")
    open_page(at, "kurator")
    at.text_input(key="cur_title").set_value("Adgang til data gennem et API")
    at.text_area(key="cur_f_challenge").set_value("Projektet manglede adgang til data i fagsystemet.")
    at.text_area(key="cur_f_handling").set_value("Kommunen fik leverandøren til at udstille et API.")
    at.text_input(key="cur_src_report").set_value("Testrapport").run()
    at.button(key="cur_check").click().run()
    assert "ordoverlap" in "\n".join(m.value for m in at.markdown) or "fælles" in "\n".join(
        m.value for m in at.markdown
    )
    assert_danish(at, "kurator: ny erfaring")
    for section in ("drafts", "edit", "ingest", "gaps", "audit"):
        at.radio(key="cur_section").set_value(section).run()
        assert not at.exception
        assert_danish(at, f"kurator: {section}")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("da", "Spørgsmålet kan ikke besvares: spørgsmålet er tomt"),
        ("en", "The question cannot be answered: the question is empty"),
    ],
)
def test_a_blank_question_is_refused_in_the_pages_language(built: Settings, lang: str, expected: str) -> None:
    """A question of spaces, tabs and line breaks gets no answer and a refusal wholly in the page's language."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.chat_input[0].set_value(" \n\t  ").run()
    assert not at.exception, at.exception
    assert [w.value for w in at.warning if w.value.startswith(expected)], [w.value for w in at.warning]
    assert "turns" not in at.session_state or at.session_state["turns"] == []  # nothing was answered
    if lang == "da":
        assert_danish(at, "blank question")


def test_a_danish_page_with_an_english_leak_fails_the_check(built: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planting an English text on the Danish chat page makes assert_danish fail (the check cannot pass blindly)."""
    _da, en = words.TEXTS["chat_intro"]
    monkeypatch.setitem(words.TEXTS, "chat_intro", (en, en))
    at = open_app()
    with pytest.raises(AssertionError, match="English on a Danish page"):
        assert_danish(at, "chat")


def test_a_file_uploader_without_our_words_fails_the_check(built: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The briefing page's uploader passes assert_danish with its style and fails it without."""
    at = open_app()
    open_page(at, "briefing")
    assert_danish(at, "briefing")
    monkeypatch.setattr(uploads, "uploader_style", lambda box, lang, max_bytes: "<style></style>")
    at.run()
    with pytest.raises(AssertionError, match="shows Streamlit's own Upload"):
        assert_danish(at, "briefing")


def test_stale_notice_and_similarity_reasons_are_worded_in_both_languages(tiny_corpus: Path) -> None:
    """Index changes and near-duplicate reasons come from the words module, Danish and English."""
    changes = resources.CorpusChanges(added=("a",), changed=tuple(f"c{i}" for i in range(7)))
    assert stale_text(changes, "da") == (
        "1 erfaring tilføjet siden bygningen: a; 7 erfaringer ændret siden bygningen: c0, c1, c2, c3, c4 og 2 flere"
    )
    assert stale_text(changes, "en").startswith("1 entry added since the build: a; 7 entries changed")
    entry = parse_entry(TINY_ENTRIES["handling/handling-mdr-ce.yaml"] + SOURCE)
    overlap = Match(entry=entry, jaccard=0.14, contained=0.1, covers=0.05)
    assert match_reason(overlap, "da") == "14 % ordoverlap"
    assert match_reason(overlap, "en") == "14% word overlap"
    shared = Match(entry=entry, jaccard=0.7, contained=0.8, covers=0.8, near_duplicate=True)
    assert match_reason(shared, "da") == "70 % af ordene er fælles"
    dense = Match(entry=entry, jaccard=0.2, contained=0.3, covers=0.3, dense=0.981, near_duplicate=True)
    assert match_reason(dense, "da", Thresholds()) == "næsten samme betydning (cosinus 0,981)"


def test_the_page_icon_is_shipped_not_fetched(built: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """set_page_config gets a PNG file inside the package, never a Material name or URL the browser would fetch."""
    calls: list[dict[str, Any]] = []
    real = st.set_page_config

    def record(**kwargs: Any) -> None:
        calls.append(kwargs)
        real(**kwargs)

    monkeypatch.setattr(st, "set_page_config", record)
    open_app()
    icon = calls[0]["page_icon"]
    assert isinstance(icon, Path) and icon == shell.ICON
    assert icon.is_file() and icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert icon.is_relative_to(Path(shell.__file__).parent)


def test_the_shell_draws_before_the_heavy_imports() -> None:
    """app.py draws its skeleton before importing the pages, and the shell imports no search stack."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    order = [
        ast.unparse(node)
        for node in tree.body
        if isinstance(node, ast.ImportFrom | ast.Assign | ast.Expr) and "docstring" not in ast.unparse(node)
    ]
    skeleton = next(i for i, line in enumerate(order) if "shell.skeleton()" in line)
    pages = next(i for i, line in enumerate(order) if line.startswith("from lessons.ui import") and "chat" in line)
    assert skeleton < pages
    code = (
        "import sys, lessons.ui.shell; "
        "print(sorted(m for m in ('torch', 'faiss', 'bm25s', 'sentence_transformers', 'lessons.search', "
        "'lessons.answering') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_the_voice_is_jeres_throughout() -> None:
    """The Danish interface addresses a team ('jeres'), never 'du/din/dit' or 'mit/min'; English never says 'mine'."""
    singular = re.compile(r"\b(du|dig|din|dit|dine|mit|min|mine)\b", re.IGNORECASE)
    mine = re.compile(r"\b(my|mine)\b", re.IGNORECASE)
    offenders = [k for k, (da, en) in words.TEXTS.items() if singular.search(da) or mine.search(en)]
    assert offenders == []
    assert words.t("nav_projects", "da") == "Projekter som jeres"


def test_rebuild_on_the_overview_refreshes_the_status_in_place(built: Settings, tiny_corpus: Path) -> None:
    """After a rebuild the overview shows the new version as fresh, with no stale warning or rebuild button left."""
    (tiny_corpus / "entries" / "handling" / "handling-kol-maalinger.yaml").write_text(KOL_LESSON, encoding="utf-8")
    before = read_current(built.index_dir)
    at = open_page(open_app(account_session(built, "edda", "editor")), "overblik")
    assert any("1 erfaring tilføjet siden bygningen" in w.value for w in at.warning)
    at.button(key="overview_rebuild").click().run()
    assert not at.exception
    after = read_current(built.index_dir)
    assert after != before
    body = "\n".join(m.value for m in at.markdown)
    assert f"- **Version:** {after}" in body and f"- **Version:** {before}" not in body
    assert not any("forældet" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "overview_rebuild"]
    assert any(f"Indekset er genopbygget: version {after}" in s.value for s in at.success)
    assert any("opdateret i forhold til korpusset" in s.value for s in at.success)


def test_the_add_form_defaults_to_the_usual_kind_and_keeps_the_last_choice(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The add form opens on handling examples and, after saving an advice, stays on advice."""
    at = open_page(open_app(account_session(built, "karen", "curator")), "kurator")
    assert at.selectbox(key="cur_kind").value == Kind.HANDLING.value
    at.selectbox(key="cur_kind").set_value("advice").run()
    at.text_input(key="cur_title").set_value("Hold styregruppen orienteret hver måned")
    at.text_area(key="cur_f_body").set_value("Giv styregruppen en kort status hver måned, også når intet er sket.")
    at.text_input(key="cur_src_report").set_value("Egen erfaring").run()
    at.button(key="cur_save").click().run()
    assert any("Gemt som kladde" in s.value for s in at.success)
    assert at.text_input(key="cur_title").value == ""
    assert at.selectbox(key="cur_kind").value == "advice"


def test_usual_kind_counts_hand_made_entries_only() -> None:
    """The default kind is the one curators add most by hand; ingested drafts do not count."""

    def entry(kind: str, n: int, history: str) -> Any:
        text = "body: Et råd.\n" if kind == "advice" else "challenge: A.\nhandling: B.\n"
        raw = f"id: {kind}-{n}\nkind: {kind}\ntitle: T{n}\n{text}{SOURCE}created_by: K\nhistory: ['{history}']\n"
        return parse_entry(raw)

    assert usual_kind([]) == "handling"
    made = [entry("advice", 1, "created by K: draft"), entry("advice", 2, "created by K: draft")]
    ingested = [entry("handling", i, "created by K: draft; ingested from x.pdf p. 1 as a section") for i in range(5)]
    assert usual_kind(made + ingested + [entry("handling", 9, "created by K: draft")]) == "advice"


@pytest.fixture
def slow_model(
    monkeypatch: pytest.MonkeyPatch, fake: FakeEmbedder, use_fake_embedder: FakeEmbedder
) -> Iterator[threading.Event]:
    """A model that loads only when the test sets the returned event (at most 30 s)."""
    ready = threading.Event()

    def load(settings: Settings) -> FakeEmbedder:
        ready.wait(30)
        return fake

    monkeypatch.setattr(embedding, "load_embedder", load)
    monkeypatch.setattr(engine, "load_embedder", load)  # the query path loads it through the engine
    monkeypatch.setattr(resources, "MODEL_QUICK_WAIT", 0.05)
    try:
        yield ready
    finally:
        ready.set()


def test_a_question_typed_while_the_model_loads_is_echoed_then_answered(
    env_settings: Settings, fake: FakeEmbedder, slow_model: threading.Event
) -> None:
    """While the model loads the page takes a question, echoes it with loading steps, and answers once ready."""
    build_index(env_settings, fake)
    at = open_app()
    assert at.chat_input, "the chat input is there while the model loads"
    at.chat_input[0].set_value(MDR_QUESTION).run()
    assert not at.exception
    user, assistant = at.chat_message[0], at.chat_message[1]
    assert user.markdown[0].value == escape_markdown(MDR_QUESTION)
    waiting = "\n".join(c.value for c in assistant.caption)
    assert "Indlæser sprogmodellen" in waiting and "besvares, så snart sprogmodellen er klar" in waiting
    assert turns(at) == [] if "turns" in at.session_state else True
    slow_model.set()
    deadline = time.monotonic() + 30
    version = read_current(env_settings.index_dir)
    while not resources._index_job(resources._key(env_settings), version, env_settings).done():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at.run()
    assert not at.exception
    assert [a.question for a in turns(at)] == [MDR_QUESTION]
    assert "CE-mærkning af algoritmen efter MDR" in [c.title for c in turns(at)[0].cards]


def _card_elements(at: AppTest) -> list[Any]:
    """The bordered containers of the assistant's last answer that hold a card title."""
    answer = at.chat_message[-1]
    return [block for block in answer.get("vertical_block") if any("\\[" in m.value for m in block.markdown[:1])]


def test_citations_link_to_their_cards_which_mark_the_quoted_sentences(built: Settings) -> None:
    """Each [n] in the overview links to card n's anchor; the card marks the sentences the overview quoted."""
    at = open_app()
    at.chat_input[0].set_value(MDR_QUESTION).run()
    answer = turns(at)[0]
    overview = next(m.value for m in at.chat_message[1].markdown if m.value.startswith("- "))
    cited = sorted({s.card for s in answer.overview})
    for n in cited:
        assert f"[\\[{n}\\]](#kort-{answer.id[:12]}-{n})" in overview
    anchors = [h.proto.body for h in at.chat_message[1].get("html")]
    assert [f'<span id="kort-{answer.id[:12]}-{c.number}"></span>' for c in answer.cards] == anchors
    first = answer.overview[0]
    card_text = "\n".join(m.value for m in at.chat_message[1].markdown)
    assert f":orange-background[{escape_markdown(first.text.removesuffix(' …'))}" in card_text
    assert any(c.value == "Markeret: citeret i overblikket ovenfor." for c in at.chat_message[1].caption)


def test_a_card_shows_the_source_path_and_opens_the_full_source(built: Settings) -> None:
    """The source line names report and section path; the card's source popover lists report, path, page, entry."""
    at = open_app()
    at.chat_input[0].set_value(MDR_QUESTION).run()
    captions = [c.value for c in at.chat_message[1].caption]
    assert "Kilde: *Testrapport* › Afsnit" in captions
    popovers = at.chat_message[1].get("popover")
    assert popovers and all(p.proto.popover.label == "Kilde" for p in popovers)
    inside = "\n".join(m.value for m in popovers[0].markdown)
    assert "**Rapport:** Testrapport" in inside and "- Afsnit" in inside
    assert "**Side:** ikke angivet" in inside and "`handling-mdr-ce`" in inside


def test_section_paths_split_on_the_reports_dashes() -> None:
    """'Udfordringer – Jura – MDR' is a three-step path; a section without dashes is one step."""
    from lessons.answering import CardSource
    from lessons.ui.render import section_path, source_markdown

    assert section_path("Udfordringer – Jura – Udfordringer med MDR") == [
        "Udfordringer",
        "Jura",
        "Udfordringer med MDR",
    ]
    assert section_path("Introduktion: Ledelsesresume") == ["Introduktion: Ledelsesresume"]
    assert section_path(None) == []
    source = CardSource(report="Rapport", section="A – B", page=12)
    assert source_markdown(source, "da") == "Kilde: *Rapport* › A › B · s. 12"
    assert source_markdown(source, "en") == "Source: *Rapport* › A › B · p. 12"


PROJECT_CARD_SCRIPT = """
from lessons.answering import card_from_entry
from lessons.corpus import load_corpus
from lessons.ui.render import render_card
from pathlib import Path
entries = load_corpus(Path({corpus!r})).by_id()
render_card(card_from_entry(1, entries["project-mail-fordeling-journalisering"]), "da")
render_card(card_from_entry(2, entries["project-aktindsigt-beslutningsstoette"]), "da")
"""


def test_project_cards_label_the_reports_fields_as_the_report_means_them() -> None:
    """A completed project's 'Løsning' reads 'Løsning og resultat'; the budget line is labelled Budget, once."""
    at = AppTest.from_string(PROJECT_CARD_SCRIPT.format(corpus=str(ROOT / "corpus")), default_timeout=60).run()
    assert not at.exception, at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "**Løsning og resultat:** Algoritmen sorterer den indgående post" in text
    assert "**Budget:** Afsluttet. Projektet modtog 1,9 mio. kr." in text
    assert "**Løsning:** Der udvikles sprogmodeller" in text  # an ongoing project: the planned solution
    assert "Budget. " not in text and "**Budget:** Budget" not in text


def test_no_project_entry_repeats_the_budget_label_in_its_text() -> None:
    """The corpus keeps the report's 'Budget:' as a label, not as the first word of a project's text."""
    from lessons.corpus import load_corpus

    projects = [e for e in load_corpus(ROOT / "corpus").entries if e.kind is Kind.PROJECT]
    assert len(projects) == 40
    assert [e.id for e in projects if e.body and e.body.lower().startswith("budget")] == []
