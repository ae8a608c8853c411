"""`lessons brief` and the curator's `--superseded-by`: outputs, files, and clear messages for bad input."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lessons.cli import app
from lessons.embedding import FakeEmbedder
from lessons.feedback import list_gaps
from lessons.settings import Settings

from .conftest import ROOT

pytestmark = pytest.mark.heavy

runner = CliRunner()
EYE = ROOT / "eval" / "profiles" / "health-eye-screening.yaml"
STATE = ROOT / "eval" / "profiles" / "health-national-screening.yaml"


@pytest.fixture
def real_env(
    real_fake_index: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_fake_embedder: FakeEmbedder
) -> Settings:
    """The CLI over the real corpus and its shared fake-embedder index, with its own gap log."""
    settings = real_fake_index.model_copy(update={"data_dir": tmp_path / "var"})
    for name, value in (
        ("CORPUS_DIR", settings.corpus_dir),
        ("INDEX_DIR", settings.index_dir),
        ("DATA_DIR", settings.data_dir),
        ("MODEL", settings.model),
    ):
        monkeypatch.setenv(f"LESSONS_{name}", str(value))
    return settings


def test_brief_prints_markdown(real_env: Settings) -> None:
    """Without -o the Markdown briefing goes to standard output, in Danish by default."""
    result = runner.invoke(app, ["brief", str(EYE)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Projektbriefing: Screening for diabetisk øjensygdom")
    assert "#### Medicinsk udstyr (MDR) og CE-mærkning" in result.output
    assert "## Kilder" in result.output


def test_brief_in_english(real_env: Settings) -> None:
    """--lang en switches the briefing's own words; the quotes stay Danish."""
    result = runner.invoke(app, ["brief", str(EYE), "--lang", "en", "--no-log"])
    assert result.exit_code == 0, result.output
    assert "# Project briefing" in result.output and "Challenges you are likely to meet" in result.output
    assert "Udfordring" in result.output or "Tekst" in result.output or "sundhed" in result.output.lower()


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_brief_writes_a_pdf_that_follows_the_umask(real_env: Settings, tmp_path: Path, umask: int) -> None:
    """-o FILE.pdf writes the PDF all at once, with the permissions the umask gives."""
    target = tmp_path / "briefing.pdf"
    old = os.umask(umask)
    try:
        result = runner.invoke(app, ["brief", str(EYE), "--format", "pdf", "-o", str(target)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert "wrote" in result.output and "sources" in result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_pdf_needs_an_output_file(real_env: Settings) -> None:
    """--format pdf without -o is refused before anything is loaded."""
    result = runner.invoke(app, ["brief", str(EYE), "--format", "pdf"])
    assert result.exit_code == 1
    assert "needs an output file" in result.output


def test_a_bad_profile_is_named_with_its_line(real_env: Settings, tmp_path: Path) -> None:
    """An unknown key and a wrong value are reported with file, line and key; no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(EYE.read_text(encoding="utf-8").replace("phase: idea", "phase: soon") + "budget: 3\n", "utf-8")
    result = runner.invoke(app, ["brief", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:10 [phase]" in result.output.replace("\n", "")
    assert "[budget]: unknown key" in result.output.replace("\n", "")
    assert "Traceback" not in result.output


def test_output_to_a_folder_is_refused(real_env: Settings, tmp_path: Path) -> None:
    """-o pointing at a folder is refused with a message."""
    result = runner.invoke(app, ["brief", str(EYE), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a regular file" in result.output


def test_brief_logs_the_gaps(real_env: Settings) -> None:
    """A state profile's gap goes to the gap log, unless --no-log."""
    assert runner.invoke(app, ["brief", str(STATE), "--no-log"]).exit_code == 0
    assert list_gaps(real_env.data_dir) == []
    result = runner.invoke(app, ["brief", str(STATE)])
    assert result.exit_code == 0
    assert "Hullerne er logget" in result.output
    assert any("sector: state" in gap.question for gap in list_gaps(real_env.data_dir))


def test_validate_checks_the_briefing_rules(real_env: Settings) -> None:
    """validate also checks the briefing rules against the corpus."""
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "briefing rules; every entry they name is in the corpus" in result.output


def test_edit_superseded_by_needs_an_existing_entry(env_settings: Settings) -> None:
    """--superseded-by names a newer entry; one that does not exist is refused by name."""
    result = runner.invoke(app, ["edit", "handling-api-data", "--superseded-by", "handling-nothing"])
    assert result.exit_code != 0
    assert "superseded_by" in result.output and "handling-nothing" in result.output
    result = runner.invoke(app, ["edit", "handling-api-data", "--superseded-by", "handling-mdr-ce"])
    assert result.exit_code == 0, result.output
    text = (env_settings.corpus_dir / "entries" / "handling" / "handling-api-data.yaml").read_text("utf-8")
    assert "superseded_by: handling-mdr-ce" in text
    result = runner.invoke(app, ["edit", "handling-api-data", "--superseded-by", "handling-api-data"])
    assert result.exit_code != 0 and "names the entry itself" in result.output


def test_brief_as_json(real_env: Settings) -> None:
    """--format json prints the briefing as data: challenges cite numbered sources, which carry their date."""
    import json

    result = runner.invoke(app, ["brief", str(EYE), "--format", "json", "--no-log"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    numbers = {s["number"] for s in data["sources"]}
    mdr = next(c for c in data["challenges"] if c["rule"] == "law-mdr-ce-marking")
    assert mdr["legal"] and set(mdr["examples"]) <= numbers and mdr["lesson"] in numbers
    assert data["profile"]["sector"] == "region" and data["as_of_years"] == [2022]
    assert all(s["as_of"] == "2022-04-01" for s in data["sources"])
    assert 3 <= len(data["similar"]) <= 5


def test_add_and_edit_refuse_a_broken_superseded_by(env_settings: Settings, tmp_path: Path) -> None:
    """A new entry naming a missing entry, or an edit that closes a loop, is refused: the corpus stays valid."""
    new = tmp_path / "new.yaml"
    new.write_text(
        "kind: advice\ntitle: Et nyt råd om noget helt særligt\nbody: Et råd med en tekst, som ingen andre har.\n"
        "superseded_by: advice-findes-ikke\nsource:\n  report: R\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["add", str(new)])
    assert result.exit_code != 0
    assert "[superseded_by]: names 'advice-findes-ikke', which is not an entry in the corpus" in result.output
    assert runner.invoke(app, ["edit", "advice-data", "--superseded-by", "handling-api-data"]).exit_code == 0
    result = runner.invoke(app, ["edit", "handling-api-data", "--superseded-by", "advice-data"])
    assert result.exit_code != 0 and "loop" in result.output
    assert runner.invoke(app, ["validate"]).exit_code == 0
