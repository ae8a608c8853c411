"""The curator commands: add, edit, approve, retire, drafts, show, ingest, and build under a held lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lessons import words
from lessons.build import build_lock
from lessons.cli import app
from lessons.corpus import load_corpus
from lessons.embedding import FakeEmbedder
from lessons.models import ReviewState
from lessons.settings import Settings
from tests.conftest import REPORT
from tests.test_ingest import PAGES, make_pdf

pytestmark = pytest.mark.heavy

runner = CliRunner()
CURATOR_COMMANDS = {"add", "edit", "approve", "retire", "drafts", "show", "ingest"}

ADD = [
    "add",
    "--kind",
    "handling",
    "--title",
    "Fælles datamodel for borgerdata",
    "--area",
    "data",
    "--area",
    "infrastructure",
    "--sector",
    "municipality",
    "--challenge",
    "Teamet skulle samle oplysninger om borgere fra tre fagsystemer med hver sin struktur.",
    "--handling",
    "Teamet byggede en fælles datamodel og en nattelig udtrækskørsel.",
    "--source-report",
    "Indsendt erfaring 2023",
    "--source-page",
    "3",
]
NEW_ID = "handling-faelles-datamodel-for-borgerdata"


@pytest.fixture
def cli(env_settings: Settings, use_fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI over the tiny corpus, with the fake embedder and a named curator."""
    monkeypatch.setenv("LESSONS_CURATOR", "karen")
    monkeypatch.setattr("lessons.roles._os_user", lambda: "root")
    return env_settings


def test_curator_commands_are_registered_with_help() -> None:
    """Every curator command is on the app and documents itself."""
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    assert names >= CURATOR_COMMANDS
    for name in CURATOR_COMMANDS:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_add_approve_build_ask(cli: Settings) -> None:
    """A lesson added by options is a draft, listed by drafts, served only after approve and build."""
    result = runner.invoke(app, ADD)
    assert result.exit_code == 0, result.output
    assert f"saved draft {NEW_ID} (handling) by karen (via root)" in result.output
    listed = runner.invoke(app, ["drafts"])
    assert NEW_ID in listed.output and "by karen (via root)" in listed.output
    assert runner.invoke(app, ["build"]).exit_code == 0
    asked = json.loads(runner.invoke(app, ["ask", "fælles datamodel nattelig udtrækskørsel", "--json"]).output)
    assert NEW_ID not in [h["entry_id"] for h in asked["hits"]]
    own = runner.invoke(app, ["approve", NEW_ID])
    assert own.exit_code == 1 and "another editor must approve it" in own.output
    approved = runner.invoke(app, ["approve", NEW_ID], env={"LESSONS_CURATOR": "lars"})
    assert approved.exit_code == 0 and f"approved by lars (via root): {NEW_ID}" in approved.output
    built = runner.invoke(app, ["build"])
    assert "1 embedded" in built.output
    asked = json.loads(runner.invoke(app, ["ask", "fælles datamodel nattelig udtrækskørsel", "--json"]).output)
    assert asked["hits"][0]["entry_id"] == NEW_ID
    assert asked["hits"][0]["source"]["page"] == 3
    assert (
        runner.invoke(app, ["drafts"]).output.strip() == "nothing waits for review: no drafts and no pending revisions"
    )


def test_add_from_markdown_and_errors_name_file_line_and_field(cli: Settings, tmp_path: Path) -> None:
    """A Markdown file is added; a bad one is refused with file, line and field, exit code 2."""
    good = tmp_path / "lesson.md"
    good.write_text(
        "---\nkind: handling\nareas: [law]\nsource: {report: Slutevaluering}\n---\n# Hjemmel til profilering\n"
        "## Udfordring\nDer manglede hjemmel til profilering af ledige.\n## Håndtering\nJuristerne fandt den.\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["add", str(good)])
    assert result.exit_code == 0, result.output
    assert "handling-hjemmel-til-profilering" in result.output
    bad = tmp_path / "bad.md"
    bad.write_text(good.read_text(encoding="utf-8").replace("[law]", "[weather]"), encoding="utf-8")
    result = runner.invoke(app, ["add", str(bad), "--title", "Andet"])
    assert result.exit_code == 2
    assert f"{bad}:3 [areas.0]" in result.output
    missing = runner.invoke(app, ["add", "--kind", "advice", "--title", "T", "--body", "Tekst"])
    assert missing.exit_code == 2 and "[source]" in missing.output


def test_near_duplicate_is_refused_without_force(cli: Settings) -> None:
    """Adding an existing entry's text again lists the match and saves nothing; --force saves it."""
    args = [
        "add",
        "--kind",
        "project",
        "--title",
        "KOL igen",
        "--purpose",
        "Formålet er at forebygge forværringer hos KOL-patienter med hjemmemålinger.",
        "--solution",
        "Algoritmen advarer personalet om forværring ud fra blodtryk, iltmætning og puls.",
        "--source-report",
        "R",
    ]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    assert "project-kol" in refused.output and "--force" in refused.output
    assert "project-kol-igen" not in load_corpus(cli.corpus_dir).by_id()
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0 and "NEAR-DUPLICATE project-kol" in forced.output


def test_dry_run_shows_closest_and_saves_nothing(cli: Settings) -> None:
    """--dry-run validates and lists the closest entries without writing a file."""
    result = runner.invoke(app, [*ADD, "--dry-run"])
    assert result.exit_code == 0
    assert "would be saved as a draft" in result.output and "closest existing entries" in result.output
    assert NEW_ID not in load_corpus(cli.corpus_dir).by_id()


def test_edit_retire_show(cli: Settings) -> None:
    """edit changes a field with a reason; retire needs a reason; show prints the file with history."""
    edited = runner.invoke(app, ["edit", "handling-api-data", "--outcome", "Data hentes nu dagligt.", "--reason", "ny"])
    assert edited.exit_code == 0, edited.output
    assert "revision proposed by karen (via root): outcome (ny)" in edited.output
    cleared = runner.invoke(app, ["edit", "handling-api-data", "--clear", "outcome"])  # back to the approved text
    assert cleared.exit_code == 0 and "revision withdrawn by karen (via root)" in cleared.output
    bad = runner.invoke(app, ["edit", "handling-api-data", "--domain", "space"])
    assert bad.exit_code == 2 and "[domain]" in bad.output
    assert runner.invoke(app, ["retire", "handling-api-data"]).exit_code == 2
    retired = runner.invoke(app, ["retire", "handling-api-data", "--reason", "erstattet"])
    assert retired.exit_code == 0
    shown = runner.invoke(app, ["show", "handling-api-data"])
    assert "state: retired" in shown.output and "retired by karen (via root): erstattet" in shown.output
    assert load_corpus(cli.corpus_dir).by_id()["handling-api-data"].state is ReviewState.RETIRED
    unknown = runner.invoke(app, ["approve", "no-such-entry"])
    assert unknown.exit_code == 1 and "no entry with id 'no-such-entry'" in unknown.output


def test_ingest_report_then_again(cli: Settings) -> None:
    """ingest adds drafts with counts per kind; running it again adds none."""
    first = runner.invoke(app, ["ingest", str(REPORT)])
    assert first.exit_code == 0, first.output
    assert "added" in first.output and "project" in first.output and "handling" in first.output
    assert "Status på signaturprojekterne 2022" in first.output
    second = runner.invoke(app, ["ingest", str(REPORT), "-v"])
    assert "added 0 draft(s)" in second.output and "= " in second.output


def test_ingest_summary_counts_skips_by_cause_in_the_words_of_the_app(cli: Settings, tmp_path: Path) -> None:
    """The summary names each skip cause with the words module's label, not 'already in the corpus' for all."""
    from tests.test_curator_upload import INVALID_PROJECT, REPEAT

    path = tmp_path / "rapport.txt"
    path.write_text(REPEAT + "\n" + INVALID_PROJECT, encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    invalid, repeat = words.label("skip", "invalid", "en"), words.label("skip", "repeat", "en")
    assert f"skipped 2 (1 {invalid}, 1 {repeat})" in " ".join(result.output.split())


def test_ingest_pdf_dry_run_lists_pages(cli: Settings, tmp_path: Path) -> None:
    """A PDF dry run lists each draft with its page and saves nothing."""
    pdf = tmp_path / "rapport.pdf"
    pdf.write_bytes(make_pdf(PAGES))
    result = runner.invoke(app, ["ingest", str(pdf), "--dry-run", "-v", "--report-title", "Testrapport"])
    assert result.exit_code == 0, result.output
    assert "would add 3 draft(s)" in result.output and "3 page(s)" in result.output
    assert "[handling p. 2]" in result.output and "[project p. 3]" in result.output
    assert len(load_corpus(cli.corpus_dir).entries) == 5


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "tom.pdf", "tom.pdf is empty (0 bytes)"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(64), "rapport.pdf", "Linux executable"),
        (b"almindelig tekst\n", "rapport.pdf", "rapport.pdf is plain text without a PDF header"),
    ],
)
def test_ingest_refuses_hostile_uploads(cli: Settings, tmp_path: Path, content: bytes, name: str, message: str) -> None:
    """A hostile upload ends with one clear message and exit code 1, never a traceback."""
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_encrypted_and_oversize_uploads_via_cli(cli: Settings, tmp_path: Path) -> None:
    """Encrypted PDFs and files over --max-mb are refused with their reason."""
    locked = tmp_path / "låst.pdf"
    locked.write_bytes(make_pdf(PAGES, encrypt="hemmelig"))
    result = runner.invoke(app, ["ingest", str(locked)])
    assert result.exit_code == 1 and "encrypted" in result.output
    big = tmp_path / "stor.txt"
    big.write_bytes(b"x" * 5000)
    result = runner.invoke(app, ["ingest", str(big), "--max-mb", "0.001"])
    assert result.exit_code == 1 and "the limit is" in result.output


def test_build_while_another_build_holds_the_lock(cli: Settings) -> None:
    """A build that cannot get the lock says so and exits 1."""
    held = build_lock(cli.index_dir, timeout=0)
    held.acquire()
    try:
        result = runner.invoke(app, ["build"], env={"LESSONS_BUILD_LOCK_TIMEOUT": "0.1"})
    finally:
        held.release()
    assert result.exit_code == 1
    assert "another build holds" in result.output
