"""The curator page of the app, driven headless through AppTest (fake embedder, tiny corpus)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from lessons.corpus import load_corpus, parse_entry
from lessons.curation import find_entry
from lessons.feedback import record_feedback, record_gap
from lessons.models import Kind, ReviewState
from lessons.settings import Settings
from lessons.store import read_current
from lessons.ui.curator import edit_changes, form_values_to_raw
from tests.conftest import SOURCE, TINY_ENTRIES, account_session, run, upload
from tests.test_ingest import PAGES, make_pdf

pytestmark = [pytest.mark.heavy, pytest.mark.usefixtures("fresh_streamlit")]

HOSTILE_TITLE = "<script>alert('x')</script> **fed**"


def sign_in_as(at: AppTest, settings: Settings, name: str, role: str) -> AppTest:
    """Switch the session to another account (as signing out and in again would)."""
    at.session_state["auth_token"] = account_session(settings, name, role)
    return run(at)


def texts(at: AppTest) -> str:
    """All markdown-like output of the page, joined."""
    out: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "success", "error"):
        out.extend(str(element.value) for element in getattr(at, kind))
    return "\n".join(out)


def click(at: AppTest, key: str) -> AppTest:
    """Press the button ``key`` and run the page again."""
    at.button(key=key).click()
    return run(at)


def fill(at: AppTest, values: dict[str, Any]) -> AppTest:
    """Set form widgets by key (kind first, so the right text fields exist)."""
    if "cur_kind" in values:
        at.selectbox(key="cur_kind").set_value(values["cur_kind"])
        run(at)
    for key, value in values.items():
        if key == "cur_kind":
            continue
        if key.startswith("cur_f_"):
            at.text_area(key=key).set_value(value)
        elif key == "cur_areas":
            at.multiselect(key=key).set_value(value)
        elif key in {"cur_sector", "cur_domain"}:
            at.selectbox(key=key).set_value(value)
        else:
            at.text_input(key=key).set_value(value)
    return run(at)


LESSON = {
    "cur_kind": "handling",
    "cur_title": HOSTILE_TITLE,
    "cur_areas": ["data"],
    "cur_sector": "municipality",
    "cur_f_challenge": "Teamet manglede oplysninger om borgernes hjælpemidler i fagsystemet.",
    "cur_f_handling": "Teamet fik leverandøren til at udstille et API og hentede data hver nat.",
    "cur_src_report": "Indsendt erfaring 2023",
}


def test_page_opens_with_sections_and_name(page: AppTest) -> None:
    """The page shows its sections, the draft count and who is signed in."""
    assert "Kuratering af erfaringer" in [t.value for t in page.title]
    assert "Logget ind som **karen** (kurator)" in texts(page)
    assert page.radio(key="cur_section").value == "add"
    assert "Kladder (0)" in page.radio(key="cur_section").options


def test_add_form_saves_a_draft_and_shows_text_escaped(page: AppTest, env_settings: Settings) -> None:
    """The form saves a draft through the same models; HTML is stored as text and shown escaped."""
    fill(page, LESSON)
    click(page, "cur_check")
    assert "handling-fed" in texts(page)
    click(page, "cur_save")
    assert any("Gemt som kladde" in s.value for s in page.success), texts(page)
    _, entry = find_entry(env_settings.corpus_dir, "handling-fed")
    assert entry.title == HOSTILE_TITLE and entry.state is ReviewState.DRAFT
    assert entry.created_by == "karen"
    assert page.text_input(key="cur_title").value == "", "the form is cleared after saving"
    page.radio(key="cur_section").set_value("drafts")
    run(page)
    shown = texts(page)
    assert "<script>" not in shown and "**fed**" not in shown
    assert "alert" in shown


def test_invalid_form_names_the_field(page: AppTest, env_settings: Settings) -> None:
    """A form without the handling text is refused, naming the missing field in Danish, and nothing is saved."""
    fill(page, {k: v for k, v in LESSON.items() if k != "cur_f_handling"})
    click(page, "cur_save")
    assert page.error and "- mangler Håndtering (skal udfyldes for typen Håndteringseksempel)" in page.error[0].value
    assert len(load_corpus(env_settings.corpus_dir).entries) == 5


ENGLISH_PROBLEMS = ("Field required", "should have", "String should", "lacks", "is missing", "required for")


@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_refused_save_words_the_problems_and_keeps_what_was_typed(page: AppTest, lang: str) -> None:
    """A form with a too long challenge and no source is refused with each problem in the page's language (as
    the ingest's skip reasons word them), and every typed value stays in the form."""
    if lang == "en":
        page.toggle(key="lang_en").set_value(True)
        run(page)
    long_text = "Teamet manglede data. " * 1000  # 22,000 characters: over the 20,000 limit
    typed = {**{k: v for k, v in LESSON.items() if k != "cur_src_report"}, "cur_f_challenge": long_text}
    fill(page, typed)
    click(page, "cur_save")
    [error] = [e.value for e in page.error]
    if lang == "da":
        assert "- Udfordring er for lang: højst 20.000 tegn" in error and "- Kilde mangler" in error, error
        assert not any(english in error for english in ENGLISH_PROBLEMS), error
    else:
        assert "- Challenge is too long: at most 20,000 characters" in error and "- Source is missing" in error
    assert page.text_area(key="cur_f_challenge").value == long_text
    assert page.text_area(key="cur_f_handling").value == LESSON["cur_f_handling"]
    assert page.text_input(key="cur_title").value == HOSTILE_TITLE
    assert page.multiselect(key="cur_areas").value == ["data"]
    assert page.selectbox(key="cur_sector").value == "municipality"


def test_typed_input_survives_a_save_refused_by_an_expired_session(page: AppTest, built: Settings) -> None:
    """A save refused because the session expired meanwhile keeps the typed form for after signing in again."""
    fill(page, LESSON)
    minutes = built.session_idle_minutes + 1
    with sqlite3.connect(built.data_dir / "accounts.sqlite3") as conn:  # the last activity, moved back
        conn.execute("UPDATE sessions SET last_seen = datetime(last_seen, ?)", (f"-{minutes} minutes",))
    click(page, "cur_save")
    assert "cur_save" not in {b.key for b in page.button}  # the sign-in form, not the curator page
    assert "handling-fed" not in load_corpus(built.corpus_dir).by_id()
    run(page)  # another run on the sign-in page (typing a name) before signing in again
    sign_in_as(page, built, "karen", "curator")
    assert page.text_input(key="cur_title").value == HOSTILE_TITLE
    assert page.text_area(key="cur_f_challenge").value == LESSON["cur_f_challenge"]
    click(page, "cur_save")
    assert "handling-fed" in load_corpus(built.corpus_dir).by_id()


def test_a_refused_edit_words_the_problem_and_keeps_the_typed_values(page: AppTest, env_settings: Settings) -> None:
    """An edit that empties the title is refused in Danish, names the field, changes nothing, keeps what was typed."""
    page.radio(key="cur_section").set_value("edit")
    run(page)
    page.selectbox(key="cur_edit_id").set_value("handling-api-data")
    run(page)
    keys = {"title": "cur_e_handling-api-data_title", "outcome": "cur_e_handling-api-data_outcome"}
    page.text_input(key=keys["title"]).set_value("")
    page.text_area(key=keys["outcome"]).set_value("Data hentes nu hver nat via API'et.")
    click(page, "cur_save_edit_handling-api-data")
    [error] = [e.value for e in page.error]
    assert "- Titel mangler" in error and "Field required" not in error, error
    _, entry = find_entry(env_settings.corpus_dir, "handling-api-data")
    assert entry.title and entry.revision is None
    assert page.text_input(key=keys["title"]).value == ""
    assert page.text_area(key=keys["outcome"]).value == "Data hentes nu hver nat via API'et."


def test_the_signed_in_account_is_recorded_and_there_is_no_name_field(page: AppTest, env_settings: Settings) -> None:
    """The draft is recorded under the signed-in account; no free-text name field exists to override it."""
    assert "cur_by" not in [w.key for w in page.text_input]
    assert "Handlinger registreres som **karen**" in texts(page)
    fill(page, LESSON)
    click(page, "cur_save")
    _, entry = find_entry(env_settings.corpus_dir, "handling-fed")
    assert entry.created_by == "karen" and entry.history[0].endswith("created by karen: draft")


def test_near_duplicate_needs_confirmation(page: AppTest, env_settings: Settings) -> None:
    """Re-entering an existing entry's text is refused with its id until the curator confirms."""
    duplicate = {
        "cur_kind": "handling",
        "cur_title": "Igen",
        "cur_f_challenge": "Projektet manglede adgang til data i fagsystemet.",
        "cur_f_handling": "Kommunen fik leverandøren til at udstille et API, så data kunne hentes automatisk.",
        "cur_src_report": "R",
    }
    fill(page, duplicate)
    click(page, "cur_check")
    assert "Næsten dublet" in texts(page) and "handling-api-data" in texts(page)
    click(page, "cur_save")
    assert page.warning and "handling-api-data" in page.warning[0].value
    assert "handling-igen" not in load_corpus(env_settings.corpus_dir).by_id()
    page.checkbox(key="cur_confirm").check()
    click(page, "cur_save")
    assert "handling-igen" in load_corpus(env_settings.corpus_dir).by_id()


def test_approve_then_rebuild_with_progress(page: AppTest, env_settings: Settings) -> None:
    """A draft is approved with a button; the page then offers a rebuild, which makes a new index version."""
    fill(page, LESSON)
    click(page, "cur_save")
    page.radio(key="cur_section").set_value("drafts")
    run(page)
    entry_id = "handling-fed"
    assert f"cur_approve_{entry_id}" not in [b.key for b in page.button]  # a curator cannot approve
    sign_in_as(page, env_settings, "lars", "editor")  # four-eyes: an editor who is not the author
    click(page, f"cur_approve_{entry_id}")
    _, entry = find_entry(env_settings.corpus_dir, entry_id)
    assert entry.state is ReviewState.APPROVED and entry.approved_by == "lars"
    assert any("Indekset er ikke opdateret" in w.value for w in page.warning)
    before = read_current(env_settings.index_dir)
    click(page, "cur_rebuild")
    assert read_current(env_settings.index_dir) != before
    assert not any("Indekset er ikke opdateret" in w.value for w in page.warning)


def test_edit_and_retire_from_the_page(page: AppTest, env_settings: Settings) -> None:
    """An approved entry's edit becomes a pending revision (the approved text kept); retiring drops it."""
    page.radio(key="cur_section").set_value("edit")
    run(page)
    page.selectbox(key="cur_edit_id").set_value("handling-api-data")
    run(page)
    assert "ændringer gemmes som en rettelse" in texts(page)
    page.text_area(key="cur_e_handling-api-data_outcome").set_value("Data hentes nu hver nat.")
    page.text_input(key="cur_edit_reason_handling-api-data").set_value("opfølgning")
    click(page, "cur_save_edit_handling-api-data")
    assert any("Gemt som rettelse af handling-api-data" in s.value for s in page.success), texts(page)
    _, entry = find_entry(env_settings.corpus_dir, "handling-api-data")
    assert entry.outcome is None and entry.revision is not None
    assert entry.revision.changes == {"outcome": "Data hentes nu hver nat."}
    assert entry.history[-1].endswith("revision proposed by karen: outcome (opfølgning)")
    assert page.text_area(key="cur_e_handling-api-data_outcome").value == "Data hentes nu hver nat."
    assert "venter på godkendelse (skrevet af karen)" in texts(page)
    page.text_input(key="cur_edit_reason_handling-api-data").set_value("erstattet af ny erfaring")
    click(page, "cur_edit_retire_handling-api-data")
    _, entry = find_entry(env_settings.corpus_dir, "handling-api-data")
    assert entry.state is ReviewState.RETIRED and entry.revision is None
    assert "retired by karen: erstattet af ny erfaring" in entry.history[-1]


def test_review_queue_shows_a_revision_field_by_field(page: AppTest, env_settings: Settings) -> None:
    """A pending revision is in the queue with before/after; its author cannot approve it, another editor can."""
    from lessons import workflow
    from lessons.roles import Actor, Role

    new = "Kommunen fik et API; data hentes <b>hver nat</b>."
    workflow.edit(env_settings, Actor("lars", Role.EDITOR), "handling-api-data", {"handling": new})
    run(page)
    assert "Kladder (0) · rettelser (1)" in page.radio(key="cur_section").options
    page.radio(key="cur_section").set_value("drafts")
    run(page)
    shown = texts(page)
    assert "Rettelse af en godkendt erfaring, skrevet af lars" in shown
    assert "**Håndtering**" in shown and "Godkendt nu (det brugerne ser)" in shown
    assert "så data kunne hentes automatisk" in shown and "hver nat" in shown and "<b>" not in shown
    assert "cur_approve_handling-api-data" not in [b.key for b in page.button]  # karen is a curator
    assert "cur_withdraw_handling-api-data" not in [b.key for b in page.button]  # and not its author
    sign_in_as(page, env_settings, "lars", "editor")
    assert "cur_approve_handling-api-data" not in [b.key for b in page.button]  # its author
    assert "Rettelsen er skrevet af jer selv" in texts(page)
    sign_in_as(page, env_settings, "edda", "editor")
    click(page, "cur_approve_handling-api-data")
    _, entry = find_entry(env_settings.corpus_dir, "handling-api-data")
    assert entry.handling == new and entry.revision is None and entry.approved_by == "edda"
    assert any("Indekset er ikke opdateret" in w.value for w in page.warning)
    assert "Kladder (0)" in page.radio(key="cur_section").options


def test_upload_ingests_a_pdf_into_drafts(page: AppTest, env_settings: Settings) -> None:
    """An uploaded PDF becomes drafts with page numbers; a renamed executable gets a clear message."""
    page.radio(key="cur_section").set_value("ingest")
    run(page)
    upload(page, "rapport.pdf", make_pdf(PAGES), "application/pdf")
    assert page.success and "tilføjede 3 kladde(r)" in page.success[0].value, texts(page)
    pages = {e.kind: e.source.page for e in load_corpus(env_settings.corpus_dir).entries if e.state.value == "draft"}
    assert pages == {Kind.FINDING: 1, Kind.HANDLING: 2, Kind.PROJECT: 3}
    upload(page, "rapport.pdf", b"\x7fELF\x02\x01" + bytes(64), "application/pdf")
    assert page.error and "rapport.pdf er et Linux-program (ELF), ikke en rapport" in page.error[0].value


def test_gap_log_starts_a_new_entry(page: AppTest, env_settings: Settings) -> None:
    """Unanswered questions (most frequent first) and thumbs-down answers each start a prefilled entry."""
    for _ in range(2):
        record_gap(env_settings.data_dir, "Hvordan håndterer man <b>droner</b> i hjemmeplejen?")
    record_gap(env_settings.data_dir, "Hvad koster en chatbot?")
    record_feedback(
        env_settings.data_dir, answer_id="a1", question="Hvad med GDPR?", rating=-1, comment="svaret var for bredt"
    )
    page.radio(key="cur_section").set_value("gaps")
    run(page)
    shown = texts(page)
    assert shown.index("2× Hvordan") < shown.index("1× Hvad koster")
    assert "<b>" not in shown
    assert "svaret var for bredt" in shown
    click(page, "cur_gap_0")
    assert page.radio(key="cur_section").value == "add"
    assert page.text_input(key="cur_title").value == "Hvordan håndterer man <b>droner</b> i hjemmeplejen?"
    assert page.text_area(key="cur_f_challenge").value.startswith("Hvordan håndterer")
    page.radio(key="cur_section").set_value("gaps")
    run(page)
    click(page, "cur_neg_0")
    assert page.text_input(key="cur_title").value == "Hvad med GDPR?"


def test_a_gap_never_replaces_unsaved_typing(page: AppTest, env_settings: Settings) -> None:
    """Starting an entry from a gap while the add form holds unsaved typing keeps the typing and says why."""
    record_gap(env_settings.data_dir, "Hvad koster en chatbot?")
    fill(page, {"cur_f_handling": "Halvt skrevet håndtering, som ikke må gå tabt."})
    page.radio(key="cur_section").set_value("gaps")
    run(page)
    click(page, "cur_gap_0")
    assert page.radio(key="cur_section").value == "add"
    assert page.text_area(key="cur_f_handling").value == "Halvt skrevet håndtering, som ikke må gå tabt."
    assert page.text_input(key="cur_title").value == ""
    assert any("ikke overskrevet med spørgsmålet" in w.value for w in page.warning), texts(page)


def test_form_helpers_keep_only_the_kinds_fields() -> None:
    """Form values become entry fields for the chosen kind; edits list only what changed."""
    raw = form_values_to_raw(
        {
            "kind": "project",
            "title": " T ",
            "purpose": "P",
            "solution": "S",
            "challenge": "left over from another kind",
            "organisations": "A Kommune, , B Region",
            "source.report": "R",
            "source.page": 4,
        }
    )
    assert raw == {
        "kind": "project",
        "title": "T",
        "organisations": ["A Kommune", "B Region"],
        "purpose": "P",
        "solution": "S",
        "source": {"report": "R", "page": 4},
    }
    entry = parse_entry(TINY_ENTRIES["handling/handling-api-data.yaml"] + SOURCE)
    assert edit_changes(entry, {"title": "Adgang til data via API ", "outcome": ""}) == {}
    assert edit_changes(entry, {"outcome": "Nyt", "organisations": "X"}) == {"outcome": "Nyt", "organisations": ["X"]}
    moved = edit_changes(entry, {"kind": "finding", "body": "Tekst"})
    assert moved == {"kind": "finding", "body": "Tekst", "challenge": None, "handling": None}


def test_a_pending_revision_is_withdrawn_from_the_review_queue(page: AppTest, built: Settings) -> None:
    """A curator withdraws their own pending revision with a reason; the approved text stays and the reason is kept."""
    from lessons import workflow
    from lessons.roles import Actor, Role

    entry_id = "handling-api-data"
    _, approved = find_entry(built.corpus_dir, entry_id)
    workflow.edit(built, Actor("karen", Role.CURATOR), entry_id, {"handling": "Data hentes nu hver nat via API."})
    at = page
    at.radio(key="cur_section").set_value("drafts").run()
    at.text_input(key=f"cur_withdraw_reason_{entry_id}").set_value("forkert projekt")
    at.button(key=f"cur_withdraw_{entry_id}").click().run()
    assert not at.exception, at.exception
    _, entry = find_entry(built.corpus_dir, entry_id)
    assert entry.revision is None and entry.handling == approved.handling
    assert "forkert projekt" in entry.history[-1]


def test_an_unchanged_save_and_a_retire_without_reason_are_refused_in_danish(
    page: AppTest, env_settings: Settings
) -> None:
    """Saving an edit that changes nothing, and retiring a draft without a reason, are refused in Danish words."""
    page.radio(key="cur_section").set_value("edit")
    run(page)
    page.selectbox(key="cur_edit_id").set_value("handling-api-data")
    run(page)
    click(page, "cur_save_edit_handling-api-data")
    assert [e.value for e in page.error] == [
        "handling-api-data: intet at ændre (værdierne er dem, erfaringen allerede har)"
    ]
    page.radio(key="cur_section").set_value("add")
    fill(run(page), LESSON)
    click(page, "cur_save")
    page.radio(key="cur_section").set_value("drafts")
    run(page)
    click(page, "cur_retire_handling-fed")
    [error] = [e.value for e in page.error]
    assert error.endswith("- skriv en begrundelse for, at erfaringen udgår"), error
    assert find_entry(env_settings.corpus_dir, "handling-fed")[1].state is ReviewState.DRAFT


# --- refusals in the page's language: problems of our own, stale pages, save clashes, storage errors -----------


def in_language(page: AppTest, lang: str) -> AppTest:
    """Switch the page to ``lang`` (it opens in Danish)."""
    if lang == "en":
        page.toggle(key="lang_en").set_value(True)
        run(page)
    return page


ENGLISH_WORDS = ("entries supersede", "already approved", "another curator", "cannot write", "disk is full", "engelsk")


@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_superseded_loop_is_refused_in_the_pages_language(page: AppTest, built: Settings, lang: str) -> None:
    """An edit whose 'replaced by' closes a loop with a pending revision is refused in the page's language, in our
    words (not the validator's English under a label)."""
    from lessons import workflow
    from lessons.roles import Actor, Role

    workflow.edit(built, Actor("karen", Role.CURATOR), "handling-mdr-ce", {"superseded_by": "handling-api-data"})
    in_language(page, lang).radio(key="cur_section").set_value("edit")
    run(page).selectbox(key="cur_edit_id").set_value("handling-api-data")
    run(page).selectbox(key="cur_e_handling-api-data_superseded_by").set_value("handling-mdr-ce")
    click(page, "cur_save_edit_handling-api-data")
    [error] = [e.value for e in page.error]
    if lang == "da":
        assert "- erfaringerne erstatter hinanden i ring (handling-api-data → handling-mdr-ce)" in error, error
        assert error.count("erstatter hinanden") == 1, error
        assert not any(english in error for english in ENGLISH_WORDS), error
    else:
        assert "- entries supersede each other in a loop (handling-api-data → handling-mdr-ce)" in error, error
    assert find_entry(built.corpus_dir, "handling-api-data")[1].revision is None


@pytest.mark.parametrize("lang", ["da", "en"])
def test_approving_from_a_stale_page_is_refused_in_the_pages_language(
    page: AppTest, built: Settings, lang: str
) -> None:
    """A draft another editor approved after the page was drawn: pressing approve says so in the page's language."""
    from lessons import workflow
    from lessons.roles import Actor, Role

    workflow.add(built, Actor("karen", Role.CURATOR), form_values_to_raw({**_values(LESSON)}))
    sign_in_as(in_language(page, lang), built, "lars", "editor")
    page.radio(key="cur_section").set_value("drafts")
    run(page)
    workflow.approve(built, Actor("eva", Role.EDITOR), "handling-fed")  # meanwhile, elsewhere
    click(page, "cur_approve_handling-fed")
    [error] = [e.value for e in page.error]
    if lang == "da":
        assert error == "handling-fed er allerede godkendt og har ingen rettelse, der venter", error
    else:
        assert error == "handling-fed is already approved and has no pending revision", error
    assert find_entry(built.corpus_dir, "handling-fed")[1].approved_by == "eva"


@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_save_while_another_curator_saves_is_refused_in_the_pages_language(
    page: AppTest, built: Settings, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving while another curator holds the corpus lock: the page says so in its language; the form is kept."""
    from lessons import curation

    monkeypatch.setattr(curation, "LOCK_TIMEOUT", 0.05)
    fill(in_language(page, lang), LESSON)
    with curation.curation_lock(built.corpus_dir):
        click(page, "cur_save")
    [error] = [e.value for e in page.error]
    if lang == "da":
        assert error.startswith("en anden kurator gemmer i ") and "prøv igen om et øjeblik" in error, error
        assert "(ventede 0,05 s)" in error, error  # the Danish decimal comma
        assert not any(english in error for english in ENGLISH_WORDS), error
    else:
        assert error.startswith("another curator is saving to ") and "try again in a moment" in error, error
        assert "(waited 0.05 s)" in error, error
    assert page.text_area(key="cur_f_handling").value == LESSON["cur_f_handling"]
    assert "handling-fed" not in load_corpus(built.corpus_dir).by_id()


@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_full_disk_is_reported_in_the_pages_language(
    page: AppTest, built: Settings, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save the OS refuses (disk full) names the file, the cause and that nothing changed, in the page's language."""
    import errno

    from lessons import files

    def disk_full() -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    fill(in_language(page, lang), LESSON)
    monkeypatch.setattr(files, "file_mode", disk_full)
    click(page, "cur_save")
    [error] = [e.value for e in page.error]
    if lang == "da":
        assert error.startswith("kan ikke skrive ") and "handling-fed.yaml" in error, error
        assert "disken er fuld" in error and error.endswith("Intet blev ændret"), error
        assert not any(english in error for english in ENGLISH_WORDS), error
    else:
        assert error.startswith("cannot write ") and "the disk is full" in error, error
        assert error.endswith("Nothing was changed"), error
    assert "handling-fed" not in load_corpus(built.corpus_dir).by_id()


def _values(form: dict[str, Any]) -> dict[str, Any]:
    """The add form's values by field name, from widget keys (as FORM_KEYS maps them)."""
    from lessons.ui.curator import FORM_KEYS

    fields = {key: name for name, key in FORM_KEYS.items()}
    return {fields[key]: value for key, value in form.items()}


@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_broken_corpus_file_is_listed_in_the_pages_language(page: AppTest, built: Settings, lang: str) -> None:
    """Corpus files broken by hand (a key given twice, an id that is not the file's name, a link) are listed on the
    page in its language, each after its file and line, in our words rather than the English under a label."""
    entries = built.corpus_dir / "entries" / "advice"
    (entries / "advice-twice.yaml").write_text("id: advice-twice\ntitle: A\ntitle: B\n", encoding="utf-8")
    (entries / "advice-renamed.yaml").write_text(
        (entries / "advice-data.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (entries / "advice-link.yaml").symlink_to(entries / "advice-data.yaml")
    run(in_language(page, lang))
    [error] = [str(e.value).replace("\\", "") for e in page.error]  # Markdown escapes removed
    if lang == "da":
        assert error.startswith("3 problem(er) i korpusset:"), error
        assert "- entries/advice/advice-link.yaml: en symbolsk henvisning, ikke en almindelig fil" in error, error
        assert "- entries/advice/advice-renamed.yaml [id]: id'et 'advice-data' bruges også i " in error, error
        assert "- entries/advice/advice-twice.yaml:3: nøglen 'title' står to gange (første gang i linje 2)" in error
        assert not any(english in error for english in ENGLISH_WORDS), error
    else:
        assert error.startswith("3 problem(s) in the corpus:"), error
        assert "- entries/advice/advice-link.yaml: a symbolic link, not a regular file" in error, error
        assert "- entries/advice/advice-twice.yaml:3: key 'title' is given twice (first on line 2)" in error, error


@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_folder_that_cannot_be_listed_and_a_file_swapped_for_a_fifo_are_worded_in_the_pages_language(
    page: AppTest, built: Settings, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A corpus folder the OS will not list and an entry file replaced by a FIFO between listing and reading are
    listed in the page's language, in our words, not the OS's or the safe reader's English."""
    import errno
    import os

    from lessons import corpus

    refused = built.corpus_dir / "entries" / "handling"
    swapped = built.corpus_dir / "entries" / "advice" / "advice-data.yaml"
    real_scandir, real_read = os.scandir, corpus.read_regular_file

    def scandir(path: Any) -> Any:
        if str(path) == str(refused):
            raise OSError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    def read(path: Any, **kwargs: Any) -> bytes:
        kept = swapped.with_name(".advice-data.kept")  # a dot file: not listed
        if path == swapped and not kept.exists():  # the race: a FIFO in the file's place
            os.rename(path, kept)
            os.mkfifo(path)
        return real_read(path, **kwargs)

    monkeypatch.setattr(corpus.os, "scandir", scandir)
    monkeypatch.setattr(corpus, "read_regular_file", read)
    run(in_language(page, lang))
    [error] = [str(e.value).replace("\\", "") for e in page.error]  # Markdown escapes removed
    if lang == "da":
        assert error.startswith("2 problem(er) i korpusset:"), error
        assert f"- entries/handling: kan ikke se indholdet af {refused}: adgang nægtet" in error, error
        assert "- entries/advice/advice-data.yaml: en FIFO (navngivet rør), ikke en almindelig fil" in error, error
        said = error.replace(str(refused), "")  # the test's own folder name has English words in it
        assert not any(english in said for english in (*ENGLISH_WORDS, "cannot", "permission", "FIFO (named")), error
    else:
        assert error.startswith("2 problem(s) in the corpus:"), error
        assert f"- entries/handling: cannot list {refused}: permission denied" in error, error
        assert "- entries/advice/advice-data.yaml: a FIFO (named pipe), not a regular file" in error, error
