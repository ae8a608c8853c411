"""The benchmark's results as typed records: one record type per section, and :class:`Results` holding them all.

Each section's measuring code returns a plain dict; :meth:`benchmarks.cli.Run.section` validates it
into that section's record (a renamed or missing field fails there, not in the report). The run is
written to ``results.json`` as the records' JSON and read back with :func:`load_results`, so the
report (``benchmarks/report/``) reads typed attributes only. A section that failed is a
:class:`SectionError` in its place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SECTION_RECORDS",
    "AnnRecord",
    "BuildsRecord",
    "LatencyRecord",
    "MemoryRecord",
    "PipelinesRecord",
    "ProcessLatencyRecord",
    "QualityRecord",
    "QueryRuntimeRecord",
    "Record",
    "Results",
    "ScalingRecord",
    "SectionError",
    "ServeRecord",
    "ServeRun",
    "StartupRecord",
    "Target",
    "Timing",
    "load_results",
    "save_results",
]


class Record(BaseModel):
    """A strict record: unknown fields are refused, field names with ``@`` or ``/`` go through aliases."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SectionError(Record):
    """A section that raised: its error and the end of the traceback."""

    error: str
    traceback: str = ""


# --- shared shapes ---------------------------------------------------------------------------------


class Timing(Record):
    """Durations summarised in milliseconds (``benchmarks.common.summary_ms``)."""

    n: int
    median_ms: float
    p95_ms: float
    mean_ms: float
    min_ms: float
    p10_ms: float


class Seconds(Record):
    """Durations summarised in seconds (``benchmarks.common.summary_s``)."""

    n: int
    median_s: float
    min_s: float
    max_s: float


class Paired(Record):
    """Median and p95 of a per-question ratio."""

    median: float | None
    p95: float | None


class Spread(Record):
    """Median and the 10th and 90th percentiles."""

    median: float
    p10: float
    p90: float


# --- builds and pipelines --------------------------------------------------------------------------


class BuildRun(Record):
    """One build in its own process."""

    model_load_s: float
    build_s: float
    embedded: int
    reused: int
    chunks: int
    entries: int
    full: bool
    process_s: float
    peak_rss_mb: float | None
    process_wall_s: float
    max_rss_mb: float


class BuildSeries(Record):
    """Repeated builds of one kind."""

    build: Seconds
    runs: list[BuildRun]


class BuildsRecord(Record):
    """Section ``builds``: full and incremental builds."""

    repetitions: int
    chunks: int
    entries: int
    index_bytes: int
    full: BuildSeries
    incremental_one_entry: BuildSeries
    incremental_no_change: BuildRun
    full_over_incremental: float | None = Field(alias="full/incremental")
    model_load: Seconds
    max_rss_mb: float


class PipelineBuild(Record):
    """One retrieval pipeline as built for the run."""

    chunks: int
    chars_embedded: int
    build_s: float | None = None
    model_load_s: float | None = None


class PipelinesRecord(Record):
    """The pipelines the quality and latency sections compare (``lessons``, ``naive``, ``llamaindex-…``)."""

    systems: dict[str, PipelineBuild]
    peer_problem: str | None


# --- quality ---------------------------------------------------------------------------------------


class Metrics(Record):
    """Rank metrics of a group of answerable questions."""

    n: int
    hit1: float | None = Field(alias="hit@1")
    hit5: float | None = Field(alias="hit@5")
    mrr10: float | None = Field(alias="mrr@10")
    top5_chars: int | None


class NoMatch(Record):
    """How the no-match decision did on a question file."""

    out_of_scope: int
    no_match_recall: float | None
    no_match_precision: float | None
    answerable_flagged: float | None
    weak_share: float | None = None  # answerable questions answered "weak" (results before this field lack it)
    oos_as_match: float | None = None  # out-of-scope questions answered "match"


class SetScores(Record):
    """One system on one question file: overall, per language, no-match."""

    overall: Metrics
    by_language: dict[str, Metrics]
    no_match: NoMatch | None


class QuestionRanks(Record):
    """One question's first relevant rank in every system."""

    set: str
    q: str
    language: str
    oos: bool
    rank: dict[str, int | None]


class QuestionFile(Record):
    """A question file as the report names it."""

    path: str
    questions: int
    answerable: int


class QualityRecord(Record):
    """Section ``quality``: systems → question file (or ``all``) → scores."""

    systems: dict[str, dict[str, SetScores]]
    questions: list[QuestionRanks]
    sets: dict[str, QuestionFile] = {}


# --- latency ---------------------------------------------------------------------------------------


class LatencyRecord(Record):
    """Section ``latency``: interleaved timings of every system, phases, ratios."""

    questions: int
    repetitions: int
    k: int
    systems: dict[str, Timing]
    phases: dict[str, Timing] = {}
    paired_ratio_to_floor: dict[str, Paired] = {}
    paired_ratio_lessons_to: dict[str, Paired] = {}
    ratios: dict[str, float | None]


class ProcessLatencyRecord(Record):
    """Section ``process_latency``: each system in its own process, the same questions interleaved."""

    questions: int
    repetitions: int
    systems: dict[str, Timing]
    paired_ratio_lessons_to: dict[str, Paired] = {}


# --- scaling and ANN -------------------------------------------------------------------------------


class ThreadTiming(Record):
    """Hybrid search at one size with one FAISS thread setting."""

    threads: int
    search: Timing
    phases: dict[str, Timing]
    estimated_total_median_ms: float | None = None
    estimated_ratio_to_floor: float | None = None


class HnswHybrid(Record):
    """The hybrid search with HNSW in place of the flat index."""

    ef_search: int
    build_s: float
    search: Timing
    phases: dict[str, Timing]
    top5_overlap_with_flat: float | None


class ScaleEntry(Record):
    """One corpus multiple."""

    chunks: int
    synthetic_chunks: int
    index_bytes: int
    vectors_bytes: int
    write_s: float
    load_index_s: float
    searcher_init_s: float
    rss_growth_mb: float
    faiss_default_threads: ThreadTiming | None = None
    faiss_1_thread: ThreadTiming | None = None
    synthetic_nearest_neighbour_cosine: Spread | None = None
    hybrid_with_hnsw: HnswHybrid | None = None


class StoreTiming(Timing):
    """LlamaIndex's vector store searched at one size."""

    vectors: int


class PeerStore(Record):
    """LlamaIndex's vector store at the same multiples of its own corpus."""

    nodes_at_1x: int
    factors: dict[str, StoreTiming]


class ScalingRecord(Record):
    """Section ``scaling``: the corpus grown with synthetic chunks."""

    factors: dict[str, ScaleEntry]
    synthetic: bool
    noise: float
    real_nearest_neighbour_cosine: Spread
    llamaindex_vector_store: PeerStore | None = None


class AnnRow(Record):
    """One FAISS index at one size."""

    kind: str
    index: str
    build_s: float
    bytes: int
    k10: Timing
    k100: Timing
    recall10: float = Field(alias="recall@10")
    recall100: float = Field(alias="recall@100")


class AnnBlock(Record):
    """Every index measured at one size."""

    vectors: int
    rows: list[AnnRow]


class AnnRecord(Record):
    """Section ``ann``: size (corpus multiple) → indexes."""

    scales: dict[str, AnnBlock]


# --- start-up and memory ---------------------------------------------------------------------------


class ProcessRun(Record):
    """One cold process answering a question."""

    wall_s: float
    max_rss_mb: float
    cpu_s: float | None = None  # user + system CPU: the cost of the start whatever the machine's load
    hits: int | None = None
    import_s: float | None = None
    load_s: float | None = None
    answer_s: float | None = None
    process_s: float | None = None


class ColdStart(Record):
    """Repeated cold starts of one kind of process."""

    runs: list[ProcessRun]
    wall: Seconds
    cpu: Seconds | None = None
    max_rss_mb: float


class AppRun(Record):
    """One start of the Streamlit app."""

    health_s: float | None
    page_s: float | None = None
    ready_s: float | None = None
    first_answer_s: float
    answer_after_ask_s: float
    peak_rss_mb: float | None


class AppStartup(Record):
    """The app's starts, or why they were not measured."""

    method: str | None = None
    command: str | None = None  # the command started (None in runs before `lessons app`: `streamlit run app.py`)
    problem: str | None = None
    runs: list[AppRun] = []
    first_answer: Seconds | None = None
    health: Seconds | None = None
    skipped: str | None = None
    error: str | None = None


class StartupRecord(Record):
    """Section ``startup``: cold starts of the CLI, the floor, the peer and the app."""

    question: str
    cli: ColdStart
    floor: ColdStart
    llamaindex: ColdStart | None
    ratios: dict[str, float | None]
    app: AppStartup


class ProcessMemory(Record):
    """Peak memory of a process answering every question (or of the largest build)."""

    max_rss_mb: float
    wall_s: float | None = None
    open_s: float | None = None
    answer_s: float | None = None
    questions: int | None = None
    answered: int | None = None
    process_s: float | None = None
    peak_rss_mb: float | None = None


class MemoryRecord(Record):
    """Section ``memory``."""

    query_process: ProcessMemory
    llamaindex_query_process: ProcessMemory | None = None
    build_process: ProcessMemory | None = None


# --- issue 13 --------------------------------------------------------------------------------------


class RuntimeRow(Record):
    """One query runtime alone in a new process."""

    load_s: float
    median_ms: float | None
    p95_ms: float | None
    questions: int | None
    peak_rss_mb: float | None
    cosine_min: float | None = None
    cosine_median: float | None = None


class QueryRuntimeRecord(Record):
    """Section ``query_runtime``: label → runtime (the first is the reference)."""

    runtimes: dict[str, RuntimeRow]


class ServeRun(Record):
    """One load run against `lessons serve`."""

    clients: int
    seconds: float
    requests: int
    errors: int
    error_examples: list[str]
    statuses: dict[str, int]
    throughput_rps: float | None
    p50_ms: float | None
    p95_ms: float | None
    server_ready_s: float
    server_peak_rss_mb: float | None
    rebuilds_completed: int | None
    versions_served: int
    load_average_before: list[float] | None = None
    load_average_after: list[float] | None = None


class ServeRecord(Record):
    """Section ``serve``: steady load, and load while rebuilds swap index versions."""

    steady: ServeRun | SectionError
    during_rebuilds: ServeRun | SectionError


# --- the run ---------------------------------------------------------------------------------------


class Target(Record):
    """One target's verdict: met (None when not measured), the figures, and what would close a gap."""

    name: str
    met: bool | None
    detail: str
    close_gap: str | None = None


class LoadWindow(Record):
    """The load average (1, 5, 15 minutes) before and after a section."""

    before: list[float] | None
    after: list[float] | None


class Provenance(Record):
    """Which run measured a section."""

    started: str | None
    command: str | None
    load_average_at_start: list[float] | None
    load_average_at_end: list[float] | None
    query_runtime_used: str | None = None


class Machine(Record):
    """Where the run ran."""

    cpu_model: str | None
    logical_cpus: int | None
    cpus_used: list[int] | None
    memory_gb: float
    os: str
    python: str
    versions: dict[str, str | None]
    load_average_at_start: list[float] | None


class RunInfo(Record):
    """The run itself: when, how, on what."""

    started: str
    command: str
    quick: bool
    sections: list[str]
    cores_pinned: list[int] | None
    faiss_default_threads: int
    model: str
    question_files: list[str]
    total_seconds: float | None = None
    load_average_at_end: list[float] | None = None


class Results(Record):
    """Everything one run measured (plus sections kept from earlier runs, each with its provenance)."""

    run: RunInfo
    machine: Machine
    provenance: dict[str, Provenance] = {}
    section_seconds: dict[str, float] = {}
    load_average: dict[str, LoadWindow] = {}
    model_load_in_process_s: float | None = None
    query_runtime_used: str | None = None
    builds: BuildsRecord | SectionError | None = None
    pipelines: PipelinesRecord | SectionError | None = None
    quality: QualityRecord | SectionError | None = None
    latency: LatencyRecord | SectionError | None = None
    process_latency: ProcessLatencyRecord | SectionError | None = None
    scaling: ScalingRecord | SectionError | None = None
    ann: AnnRecord | SectionError | None = None
    startup: StartupRecord | SectionError | None = None
    memory: MemoryRecord | SectionError | None = None
    query_runtime: QueryRuntimeRecord | SectionError | None = None
    serve: ServeRecord | SectionError | None = None
    targets: list[Target] = []


SECTION_RECORDS: dict[str, type[Record]] = {
    "builds": BuildsRecord,
    "pipelines": PipelinesRecord,
    "quality": QualityRecord,
    "latency": LatencyRecord,
    "process_latency": ProcessLatencyRecord,
    "scaling": ScalingRecord,
    "ann": AnnRecord,
    "startup": StartupRecord,
    "memory": MemoryRecord,
    "query_runtime": QueryRuntimeRecord,
    "serve": ServeRecord,
}


def save_results(results: Results, path: Path) -> None:
    """Write the results as JSON (field names as in the file: ``hit@5``, ``full/incremental``)."""
    data = results.model_dump(mode="python", by_alias=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True) + "\n", encoding="utf-8")


def load_results(path: Path) -> Results:
    """Read a results.json back into typed records (a pydantic ValidationError names any field that does not fit)."""
    data: Any = json.loads(path.read_text(encoding="utf-8"))
    return Results.model_validate(data)
