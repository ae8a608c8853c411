"""Curation: add, edit, approve, retire, near-duplicates, and the incremental rebuild that follows."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lessons import curation
from lessons.build import build_index, build_lock
from lessons.corpus import load_corpus
from lessons.curation import (
    CurationError,
    EntryError,
    NearDuplicateError,
    Thresholds,
    add_entry,
    approve_entry,
    closest_entries,
    curation_lock,
    dense_scorer,
    drafts,
    edit_entry,
    find_entry,
    parse_entry_file,
    prepare_entry,
    retire_entry,
)
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.errors import BuildLockedError
from lessons.models import Entry, Kind, ReviewState
from lessons.settings import Settings
from lessons.store import load_index
from tests.conftest import REAL_CORPUS, ROOT

LESSON: dict[str, Any] = {
    "kind": "handling",
    "title": "Borgerdata fra flere fagsystemer",
    "areas": ["data", "infrastructure"],
    "sector": "municipality",
    "challenge": "Teamet skulle samle oplysninger om borgere fra tre fagsystemer med hver sin struktur.",
    "handling": "Teamet byggede en fælles datamodel og en nattelig udtrækskørsel, som juristerne godkendte.",
    "outcome": "Udtrækket kører stabilt og genbruges nu af to andre forvaltninger.",
    "source": {"report": "Indsendt erfaring 2023", "section": "Team Vejle"},
}


def _entry(root: Path, entry_id: str) -> Entry:
    return find_entry(root, entry_id)[1]


def test_add_creates_a_draft_with_who_and_when(tiny_corpus: Path) -> None:
    """A new entry is a draft, records its creator and time, and is not retrievable."""
    entry, _ = add_entry(tiny_corpus, LESSON, by="Karen")
    assert entry.id == "handling-borgerdata-fra-flere-fagsystemer"
    assert entry.state is ReviewState.DRAFT
    assert entry.created_by == "Karen" and entry.created_at is not None
    assert entry.history[0].endswith("created by Karen: draft")
    path = tiny_corpus / "entries" / "handling" / f"{entry.id}.yaml"
    assert "state: draft" in path.read_text(encoding="utf-8")
    corpus = load_corpus(tiny_corpus)
    assert entry.id in corpus.by_id()
    assert entry.id not in {e.id for e in corpus.retrievable()}
    assert [e.id for e in drafts(corpus)] == [entry.id]


def test_ids_are_unique_and_taken_ids_refused(tiny_corpus: Path) -> None:
    """A generated id gets a suffix when taken; an explicit taken id is refused by name."""
    taken = {"handling-borgerdata-fra-flere-fagsystemer"}
    entry = prepare_entry(LESSON, taken, by="k")
    assert entry.id == "handling-borgerdata-fra-flere-fagsystemer-2"
    with pytest.raises(EntryError) as caught:
        prepare_entry({**LESSON, "id": "project-kol"}, {"project-kol"}, by="k")
    assert caught.value.problems[0].field == "id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"areas": ["weather"]}, "areas.0"),
        ({"sector": "county"}, "sector"),
        ({"source": {"report": "R", "page": 0}}, "source.page"),
        ({"state": "approved"}, "state"),
        ({"approved_by": "me"}, "approved_by"),
    ],
)
def test_validation_errors_name_the_field(tiny_corpus: Path, change: dict[str, Any], field: str) -> None:
    """Bad values and curation fields set by hand are refused, naming the field; nothing is written."""
    before = sorted(p.name for p in (tiny_corpus / "entries").rglob("*.yaml"))
    with pytest.raises(EntryError) as caught:
        add_entry(tiny_corpus, {**LESSON, **change}, by="k")
    assert field in [p.field for p in caught.value.problems]
    assert sorted(p.name for p in (tiny_corpus / "entries").rglob("*.yaml")) == before


def test_missing_required_text_is_named(tiny_corpus: Path) -> None:
    """A handling entry without its handling text says which field is missing."""
    data = {k: v for k, v in LESSON.items() if k != "handling"}
    with pytest.raises(EntryError) as caught:
        add_entry(tiny_corpus, data, by="k")
    assert "handling" in str(caught.value)
    assert "problem(s) in the entry" in str(caught.value)


def test_markdown_sections_map_to_fields(tmp_path: Path) -> None:
    """Front matter gives the metadata; '# ' is the title and '## Udfordring/Håndtering/Resultat' the text."""
    text = (
        "---\nkind: handling\nareas: [law]\nsource:\n  report: Slutevaluering\n  page: 4\n---\n"
        "# Hjemmel til profilering\n\n## Udfordring\nDer manglede hjemmel.\n\nTo afsnit.\n"
        "## Eksempel på håndtering\nJuristerne fandt hjemlen.\n## Resultat:\nGodkendt.\n"
    )
    raw, lines = parse_entry_file(text.encode(), "lesson.md")
    assert raw["title"] == "Hjemmel til profilering"
    assert raw["challenge"] == "Der manglede hjemmel.\n\nTo afsnit."
    assert raw["handling"] == "Juristerne fandt hjemlen."
    assert raw["outcome"] == "Godkendt."
    assert raw["source"] == {"report": "Slutevaluering", "page": 4}
    assert lines["challenge"] == 10 and lines["areas"] == 3
    entry = prepare_entry(raw, set(), by="k", lines=lines)
    assert entry.kind is Kind.HANDLING


def test_markdown_unknown_heading_names_line_and_heading() -> None:
    """An unknown '## Heading' is reported with its line, so the curator can fix it."""
    text = "---\nkind: finding\ntitle: T\nsource: {report: R}\n---\n## Konklusion\nTekst.\n"
    with pytest.raises(EntryError) as caught:
        parse_entry_file(text.encode(), "x.md")
    problem = caught.value.problems[0]
    assert (problem.field, problem.line, problem.file) == ("Konklusion", 6, "x.md")
    assert "Udfordring" in problem.message


def test_yaml_file_errors_point_at_the_line(tiny_corpus: Path) -> None:
    """A YAML entry file with a bad value is reported at the value's line."""
    text = "kind: handling\ntitle: T\nchallenge: c\nhandling: h\ndomain: space\nsource: {report: R}\n"
    raw, lines = parse_entry_file(text.encode(), "new.yaml")
    with pytest.raises(EntryError) as caught:
        prepare_entry(raw, set(), by="k", file="new.yaml", lines=lines)
    assert str(caught.value.problems[0]).startswith("new.yaml:5 [domain]")


def test_html_is_stored_as_text(tiny_corpus: Path) -> None:
    """Markup in curator input is kept verbatim as text (it is escaped when shown)."""
    hostile = {**LESSON, "title": "<script>alert('x')</script> & <b>fed</b>", "handling": "<img src=x onerror=1>"}
    entry, _ = add_entry(tiny_corpus, hostile, by="k")
    again = _entry(tiny_corpus, entry.id)
    assert again.title == "<script>alert('x')</script> & <b>fed</b>"
    assert again.handling == "<img src=x onerror=1>"


def test_exact_copy_is_a_near_duplicate(tiny_corpus: Path) -> None:
    """Re-adding an existing entry's text is refused with the list; --force saves it and notes it."""
    existing = _entry(tiny_corpus, "handling-mdr-ce")
    copy = existing.model_dump(mode="json", exclude={"id", "history", "state"}, exclude_none=True)
    copy["title"] = "Et andet navn"
    with pytest.raises(NearDuplicateError) as caught:
        add_entry(tiny_corpus, copy, by="k")
    assert [m.entry.id for m in caught.value.matches] == ["handling-mdr-ce"]
    assert "--force" in str(caught.value)
    assert not (tiny_corpus / "entries" / "handling" / "handling-et-andet-navn.yaml").exists()
    entry, matches = add_entry(tiny_corpus, copy, by="k", force=True)
    assert matches[0].near_duplicate
    assert "saved as near-duplicate by k: handling-mdr-ce" in entry.history[-1]


def test_contained_text_is_a_near_duplicate_but_shared_topic_is_not(tiny_corpus: Path) -> None:
    """Text wholly inside an existing entry is flagged; a different lesson on the same topic is not."""
    corpus = load_corpus(tiny_corpus)
    part = prepare_entry(
        {
            "kind": "finding",
            "title": "Uddrag",
            "body": "Projektet indgik dialog med Lægemiddelstyrelsen om klassificering og CE-mærkning "
            "af algoritmen efter MDR, og afklaringen tog et halvt år.",
            "source": {"report": "R"},
        },
        set(),
        by="k",
    )
    near = closest_entries(corpus.entries, part)
    assert near[0].entry.id == "handling-mdr-ce" and near[0].near_duplicate
    assert near[0].contained >= 0.85
    other = prepare_entry(
        {
            "kind": "handling",
            "title": "MDR-forløb",
            "challenge": "Vores beslutningsstøtte til røntgen blev klassificeret som medicinsk udstyr klasse IIa.",
            "handling": "Vi købte en konsulent med erfaring i kvalitetsledelsessystemer og teknisk dokumentation.",
            "source": {"report": "R"},
        },
        set(),
        by="k",
    )
    assert not any(m.near_duplicate for m in closest_entries(corpus.entries, other))


def test_short_texts_are_not_duplicates_by_containment() -> None:
    """A very short text is judged by word-set overlap only, not by being contained in a long one."""
    limits = Thresholds()
    assert curation._judge(0.1, 1.0, 0.05, (3, 60), limits) == ""
    assert curation._judge(0.1, 1.0, 0.05, (12, 60), limits) != ""
    assert curation._judge(0.7, 0.7, 0.7, (3, 3), limits) != ""


def test_dense_similarity_flags_when_words_differ(settings: Settings, fake: FakeEmbedder) -> None:
    """With an index and embedder, a pair the word overlap misses is flagged by cosine."""
    build_index(settings, fake)
    index = load_index(settings.index_dir)
    corpus = load_corpus(settings.corpus_dir)
    candidate = corpus.by_id()["project-kol"].model_copy(update={"id": "project-kol-copy"})
    lexical_off = Thresholds(jaccard=1.01, contained=1.01, covers=1.01, dense=0.99)
    matches = closest_entries(
        corpus.entries, candidate, thresholds=lexical_off, dense=dense_scorer(index, fake, settings.chunk_words)
    )
    assert matches[0].entry.id == "project-kol"
    assert matches[0].dense is not None and matches[0].dense > 0.99
    assert matches[0].near_duplicate and "cosine" in matches[0].reason


def test_edit_changes_fields_and_records_history(tiny_corpus: Path) -> None:
    """An edit of a draft changes the given fields, keeps the state and id, and adds a history line with the reason."""
    draft, _ = add_entry(tiny_corpus, LESSON, by="Karen")
    entry = edit_entry(
        tiny_corpus,
        draft.id,
        {"outcome": "Data hentes nu dagligt.", "areas": ["infrastructure"], "source.page": 12},
        by="Ole",
        reason="teamets opfølgning",
    )
    assert entry.outcome == "Data hentes nu dagligt."
    assert entry.areas == [entry.areas[0]] and entry.areas[0].value == "infrastructure"
    assert entry.source.page == 12 and entry.source.report == draft.source.report
    assert entry.state is ReviewState.DRAFT and entry.revision is None
    assert entry.history[-1].endswith("edited by Ole: outcome, areas, source.page (teamets opfølgning)")
    assert _entry(tiny_corpus, draft.id) == entry


def test_edit_refuses_bad_values_and_locked_fields(tiny_corpus: Path) -> None:
    """Invalid edits name the field and leave the file as it was; ids and states are not editable."""
    path = tiny_corpus / "entries" / "handling" / "handling-api-data.yaml"
    before = path.read_bytes()
    with pytest.raises(EntryError) as caught:
        edit_entry(tiny_corpus, "handling-api-data", {"domain": "space"}, by="k")
    assert caught.value.problems[0].field == "domain"
    with pytest.raises(EntryError, match="ids are permanent"):
        edit_entry(tiny_corpus, "handling-api-data", {"id": "new-id"}, by="k")
    with pytest.raises(EntryError, match="use approve or retire"):
        edit_entry(tiny_corpus, "handling-api-data", {"state": "draft"}, by="k")
    with pytest.raises(CurationError, match="nothing to change"):
        edit_entry(tiny_corpus, "handling-api-data", {"title": "Adgang til data via API"}, by="k")
    with pytest.raises(CurationError, match="no entry with id"):
        edit_entry(tiny_corpus, "no-such-entry", {"title": "x"}, by="k")
    assert path.read_bytes() == before


def test_edit_of_kind_moves_the_file(tiny_corpus: Path) -> None:
    """Changing the kind moves the entry to its kind's folder (when its revision is approved), leaving no copy."""
    pending = edit_entry(tiny_corpus, "advice-data", {"kind": "finding"}, by="k")
    assert pending.kind is Kind.ADVICE and pending.revision is not None
    assert (tiny_corpus / "entries" / "advice" / "advice-data.yaml").is_file()
    entry = approve_entry(tiny_corpus, "advice-data", by="editor")
    assert entry.kind is Kind.FINDING
    assert (tiny_corpus / "entries" / "finding" / "advice-data.yaml").is_file()
    assert not (tiny_corpus / "entries" / "advice" / "advice-data.yaml").exists()
    assert load_corpus(tiny_corpus).by_id()["advice-data"].kind is Kind.FINDING


def test_approve_and_retire_record_who_and_when(tiny_corpus: Path) -> None:
    """Approve sets approved_by/at; retire keeps the entry with its reason; approve reinstates it."""
    entry, _ = add_entry(tiny_corpus, LESSON, by="Karen")
    approved = approve_entry(tiny_corpus, entry.id, by="Lars")
    assert approved.state is ReviewState.APPROVED and approved.retrievable
    assert approved.approved_by == "Lars" and approved.approved_at is not None
    assert approved.history[-1].endswith("approved by Lars")
    with pytest.raises(CurationError, match="already approved"):
        approve_entry(tiny_corpus, entry.id, by="Lars")
    with pytest.raises(EntryError, match="say why"):
        retire_entry(tiny_corpus, entry.id, reason=" ", by="Lars")
    retired = retire_entry(tiny_corpus, entry.id, reason="Erstattet af ny evaluering", by="Lars")
    assert retired.state is ReviewState.RETIRED and retired.retired_at is not None
    assert retired.history[-1].endswith("retired by Lars: Erstattet af ny evaluering")
    assert len(retired.history) == 3
    assert entry.id not in {e.id for e in load_corpus(tiny_corpus).retrievable()}
    with pytest.raises(CurationError, match="already retired"):
        retire_entry(tiny_corpus, entry.id, reason="igen", by="Lars")
    back = approve_entry(tiny_corpus, entry.id, by="Mette")
    assert back.retrievable and back.retired_at is None
    assert back.history[-1].endswith("reinstated by Mette")


def test_retired_entry_is_no_longer_retrieved(settings: Settings, fake: FakeEmbedder) -> None:
    """After retire and a build, the entry's chunks are gone from the index and the index is not stale."""
    build_index(settings, fake)
    retire_entry(settings.corpus_dir, "project-kol", reason="forældet", by="k")
    searcher, warnings = open_searcher(settings, fake)
    assert any("removed or retired" in w for w in warnings)
    build_index(settings, fake)
    searcher, warnings = open_searcher(settings, fake)
    assert warnings == []
    hits = searcher.search("KOL-patienter hjemmemålinger", 10).hits
    assert "project-kol" not in {h.chunk.entry_id for h in hits}


def test_curation_lock_makes_curators_take_turns(tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While another curator saves, a second save waits, then gives up with a clear message."""
    monkeypatch.setattr(curation, "LOCK_TIMEOUT", 0.2)
    with curation_lock(tiny_corpus), pytest.raises(CurationError, match="another curator is saving"):
        approve_entry(tiny_corpus, "project-kol", by="k")


def _copy_real_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(REAL_CORPUS, root)
    return root


@pytest.mark.heavy
def test_adding_one_entry_to_the_full_corpus_embeds_only_its_chunks(tmp_path: Path, fake: FakeEmbedder) -> None:
    """add -> approve -> build re-embeds only the new entry's chunks; a model change re-embeds everything."""
    root = _copy_real_corpus(tmp_path)
    settings = Settings(corpus_dir=root, index_dir=tmp_path / "index", model="fake", build_lock_timeout=2)
    full = build_index(settings, fake)
    assert full.embedded == full.manifest.chunk_count > 100
    entry, _ = add_entry(root, LESSON, by="k")
    draft_build = build_index(settings, fake)
    assert draft_build.embedded == 0, "a draft is not indexed"
    approve_entry(root, entry.id, by="l")
    before, queries_before = fake.documents_embedded, fake.queries_embedded
    incremental = build_index(settings, fake)
    assert incremental.embedded == fake.documents_embedded - before == 1
    new_texts = {entry.title, entry.summary, entry.project} - {None}
    assert fake.queries_embedded - queries_before == len(new_texts), (
        "only the new entry's own training texts are embedded; background and the no-match questions are reused"
    )
    assert incremental.reused == full.manifest.chunk_count
    assert incremental.manifest.entry_count == full.manifest.entry_count + 1
    other_model = FakeEmbedder(name="another-fake")
    switched = build_index(settings, other_model)
    assert switched.full and switched.embedded == switched.manifest.chunk_count
    assert other_model.queries_embedded > 0, "a new model embeds the background phrases too"


@pytest.mark.heavy
def test_a_build_waits_for_the_lock_and_readers_keep_serving(settings: Settings, fake: FakeEmbedder) -> None:
    """While another build holds the lock, the old index still answers; the waiting build runs after."""
    build_index(settings, fake)
    first = load_index(settings.index_dir).manifest.version
    taken, release = threading.Event(), threading.Event()

    def other_build() -> None:
        with build_lock(settings.index_dir, timeout=0):
            taken.set()
            release.wait(5)
            time.sleep(0.3)

    holder = threading.Thread(target=other_build)
    holder.start()
    try:
        assert taken.wait(5)
        with pytest.raises(BuildLockedError, match="another build holds"):
            build_index(settings.model_copy(update={"build_lock_timeout": 0.1}), fake)
        searcher, _ = open_searcher(settings, fake)
        assert searcher.version == first
        assert searcher.search("KOL-patienter").hits
        release.set()
        started = time.perf_counter()
        report = build_index(settings.model_copy(update={"build_lock_timeout": 5}), fake)
        assert time.perf_counter() - started >= 0.2
        assert report.manifest.version != first
    finally:
        release.set()
        holder.join()


@pytest.mark.slow
def test_add_approve_build_retrieve_with_the_real_model(tmp_path: Path) -> None:
    """End to end with multilingual-e5-small: a curated lesson is found only after approval and a build."""
    model_dir = ROOT / "models" / "multilingual-e5-small"
    if not (model_dir / "lessons-model.json").is_file():
        pytest.skip("the real model is not set up (run `lessons setup-model`)")
    from lessons.embedding import load_embedder
    from tests.conftest import write_tiny_corpus

    root = write_tiny_corpus(tmp_path / "corpus")
    settings = Settings(corpus_dir=root, index_dir=tmp_path / "index", model=str(model_dir), build_lock_timeout=5)
    embedder = load_embedder(settings)
    build_index(settings, embedder)
    lesson = {
        **LESSON,
        "title": "Talegenkendelse i hjemmeplejen",
        "areas": ["competencies"],
        "challenge": "Social- og sundhedsassistenterne brugte lang tid på at skrive journalnotater efter besøg.",
        "handling": "Kommunen indførte talegenkendelse på telefonerne og trænede den på faglige udtryk.",
        "outcome": "Dokumentationstiden faldt med en tredjedel.",
    }
    entry, _ = add_entry(root, lesson, by="Karen")
    question = "Hvordan kan hjemmeplejen bruge talegenkendelse til dokumentation?"
    searcher, _ = open_searcher(settings, embedder)
    assert entry.id not in {h.chunk.entry_id for h in searcher.search(question, 5).hits}
    approve_entry(root, entry.id, by="Lars")
    report = build_index(settings, embedder)
    assert report.embedded == 1 and report.reused >= 5
    searcher, warnings = open_searcher(settings, embedder)
    assert warnings == []
    result = searcher.search(question, 5)
    assert not result.no_match
    assert result.hits[0].chunk.entry_id == entry.id
    assert json.loads(json.dumps(result.to_json()))["hits"][0]["entry_id"] == entry.id


def test_a_step_on_a_broken_corpus_is_refused_in_either_language(tiny_corpus: Path) -> None:
    """With an entry naming a missing successor, a curation step is refused listing the problem with its file: the
    English as the CLI always printed it, the Danish in our words."""
    path = tiny_corpus / "entries" / "advice" / "advice-data.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "superseded_by: advice-findes-ikke\n", encoding="utf-8")
    with pytest.raises(curation.CorpusInvalidError) as caught:
        curation.retire_entry(tiny_corpus, "handling-mdr-ce", reason="forældet", by="k")
    english = str(caught.value)
    assert english.startswith("the corpus has 1 problem(s), so nothing was changed; fix them first")
    assert "advice-data.yaml [superseded_by]: names 'advice-findes-ikke', which is not an entry" in english
    assert caught.value.describe("en") == english
    assert caught.value.describe("da").splitlines() == [
        "korpusset har 1 problem(er), så intet blev ændret; ret dem først (`lessons validate` viser dem):",
        "  entries/advice/advice-data.yaml [superseded_by]: «Erstattet af» nævner 'advice-findes-ikke', som ikke "
        "er en erfaring i korpusset",
    ]
