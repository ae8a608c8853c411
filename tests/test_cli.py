"""The `lessons` CLI: the JSON contract, batch mode, and clear messages for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lessons.cli import app
from lessons.embedding import FakeEmbedder
from lessons.settings import Settings

pytestmark = pytest.mark.heavy

runner = CliRunner()


@pytest.fixture
def built(env_settings: Settings, use_fake_embedder: FakeEmbedder) -> Settings:
    """An index over the tiny corpus, built through the CLI."""
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 0, result.output
    assert "built index" in result.output
    return env_settings


def test_every_command_has_help() -> None:
    """Each command documents itself."""
    for command in app.registered_commands:
        assert command.callback is not None
        assert (command.callback.__doc__ or "").strip(), command.name


def test_validate_reports_counts(env_settings: Settings) -> None:
    """validate prints the entry counts of a good corpus."""
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0
    assert "ok: 5 entries" in result.output


def test_validate_lists_every_problem(env_settings: Settings, tiny_corpus: Path) -> None:
    """validate names each bad file and field, without a traceback."""
    (tiny_corpus / "entries" / "advice" / "advice-a.yaml").write_text("id: advice-a\nkind: advice\n", "utf-8")
    (tiny_corpus / "entries" / "advice" / "advice-b.yaml").write_text("id: [oops\n", "utf-8")
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2
    assert "entries/advice/advice-a.yaml" in result.output and "[title]" in result.output
    assert "entries/advice/advice-b.yaml:" in result.output
    assert "Traceback" not in result.output


def test_ask_json_contract(built: Settings) -> None:
    """ask --json prints one object with question, no_match and ranked hits."""
    result = runner.invoke(app, ["ask", "--json", "-k", "3", "Skal algoritmen CE-mærkes efter MDR?"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["question"] == "Skal algoritmen CE-mærkes efter MDR?"
    assert isinstance(payload["no_match"], bool)
    assert [h["rank"] for h in payload["hits"]] == [1, 2, 3]
    assert payload["hits"][0]["entry_id"] == "handling-mdr-ce"
    assert payload["hits"][0]["source"] == {"report": "Testrapport", "section": "Afsnit", "page": None}


def test_ask_batch_reads_lines_and_loads_once(built: Settings, use_fake_embedder: FakeEmbedder) -> None:
    """ask --json - answers each stdin line as one JSON line; blank lines are skipped, bad ones reported."""
    questions = ["API adgang til data", "", "KOL-patienter", "x" * 5000, "energi i bygninger"]
    before = use_fake_embedder.queries_embedded
    result = runner.invoke(app, ["ask", "--json", "-"], input="\n".join(questions) + "\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"][:10] for line in lines] == ["API adgang", "KOL-patien", "x" * 10, "energi i b"]
    assert "error" in lines[2] and "line 4" in lines[2]["error"]
    assert use_fake_embedder.queries_embedded - before == 3


def test_ask_human_output_and_filters(built: Settings) -> None:
    """Readable output shows titles and sources; filters are echoed."""
    result = runner.invoke(app, ["ask", "--kind", "project", "energi CO2 bygninger"])
    assert result.exit_code == 0, result.output
    assert "Energioptimering af bygninger" in result.output
    assert "filters: kind=project" in result.output
    assert "source: Testrapport" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "empty"),
        (["ask", "x" * 3000], "limit is 2,000"),
        (["ask", "--area", "weather", "data"], "valid values"),
    ],
)
def test_bad_questions_get_clear_errors(built: Settings, args: list[str], message: str) -> None:
    """Bad input exits non-zero with a message, never a traceback."""
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_index_says_run_build(env_settings: Settings, use_fake_embedder: FakeEmbedder) -> None:
    """Asking before building tells the user to run lessons build."""
    result = runner.invoke(app, ["ask", "data"])
    assert result.exit_code == 1
    assert "lessons build" in result.output


def test_corrupt_index_without_fallback_says_run_build(built: Settings) -> None:
    """Random bytes in the only index version give a message, not a crash."""
    (version,) = (built.index_dir / "versions").iterdir()
    (version / "vectors.faiss").write_bytes(b"\x00garbage" * 100)
    result = runner.invoke(app, ["ask", "data"])
    assert result.exit_code == 1
    assert "damaged" in result.output and "lessons build" in result.output


def test_status_reports_stale_index(built: Settings, tiny_corpus: Path) -> None:
    """status says when the corpus changed after the build."""
    assert "up to date" in runner.invoke(app, ["status"]).output
    (tiny_corpus / "entries" / "advice" / "advice-data.yaml").unlink()
    result = runner.invoke(app, ["status"])
    assert "stale: 1 entry removed or retired since the build: advice-data" in result.output


def test_missing_default_model_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without the converted model, the message names `lessons setup-model`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LESSONS_MODEL", raising=False)
    (tmp_path / "corpus" / "entries").mkdir(parents=True)
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 1
    assert "lessons setup-model" in result.output


def test_eval_prints_baselines_side_by_side(built: Settings, tmp_path: Path) -> None:
    """eval reports hybrid, dense and lexical metrics and writes JSON."""
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "questions:\n"
        "  - q: Skal algoritmen CE-mærkes?\n    gold: [[mdr]]\n"
        "  - q: How do we get data through an API?\n    gold: [[api]]\n"
        "  - q: Hvordan laver man lasagne?\n    oos: true\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["eval", str(questions), "--json-out", str(report)])
    assert result.exit_code == 0, result.output
    for word in ("hybrid", "dense", "lexical", "hit@5", "mrr@10", "recall@10", "no_match_recall"):
        assert word in result.output
    data = json.loads(report.read_text())
    assert [m["mode"] for m in data["modes"]] == ["hybrid", "dense", "lexical"]
    assert set(data["modes"][0]["by_language"]) == {"da", "en"}


def test_eval_rejects_malformed_question_file(built: Settings, tmp_path: Path) -> None:
    """A question without gold or oos is named with its position."""
    questions = tmp_path / "q.yaml"
    questions.write_text("questions:\n  - q: Hvad?\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(questions)])
    assert result.exit_code == 2
    assert "questions[0]" in result.output


def test_eval_shows_the_no_match_rules_side_by_side(built: Settings, tmp_path: Path) -> None:
    """eval prints the margin rule, kNN, probe and combined with weak share and off-topic answered as match."""
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "questions:\n  - q: Skal algoritmen CE-mærkes?\n    gold: [[mdr]]\n"
        "  - q: Hvordan laver man lasagne?\n    oos: true\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["eval", str(questions)])
    assert result.exit_code == 0, result.output
    for word in ("no-match rules", "margin", "knn", "probe", "combined", "weak_share", "oos_as_match"):
        assert word in result.output


def test_calibrate_fits_on_some_files_and_reports_on_others(built: Settings, tmp_path: Path) -> None:
    """calibrate reports only on the --report files and refuses a file given as both."""
    fit, report = tmp_path / "fit.yaml", tmp_path / "report.yaml"
    fit.write_text(
        "questions:\n"
        + "".join(f"  - q: Skal algoritmen CE-mærkes {i}?\n    gold: [[mdr]]\n" for i in range(5))
        + "  - q: Hvordan laver man lasagne?\n    oos: true\n",
        encoding="utf-8",
    )
    report.write_text(
        "questions:\n  - q: data fra fagsystemet via API\n    gold: [[api]]\n  - q: vejret i morgen\n    oos: true\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["calibrate", "--fit", str(fit), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "fitted on 5 answerable questions" in result.output and "measured on 2 other questions" in result.output
    assert "LESSONS_NO_MATCH_CUTOFFS=" in result.output
    both = runner.invoke(app, ["calibrate", "--fit", str(fit), "--report", str(fit)])
    assert both.exit_code == 1 and "both fitted on and reported on" in both.output
