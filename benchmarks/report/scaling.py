"""The scaling and ANN sections, with the index recommendation."""

from __future__ import annotations

from benchmarks.records import AnnBlock, AnnRecord, AnnRow, LatencyRecord, Results, ScaleEntry, ScalingRecord
from benchmarks.report.format import fmt, reports, section, table, unmeasured

TITLE = "Scaling (synthetic chunks)"
ANN_TITLE = "Flat vs approximate FAISS indexes (synthetic vectors)"
RECALL_BAR = (0.95, 0.9)  # recall@10, recall@100
CHEAP_SHARE = 0.1  # flat search is cheap while it costs under a tenth of embedding the question
SCALING_HEADERS = [
    "size",
    "chunks",
    "index MB",
    "load s",
    "RAM growth MB",
    "FAISS threads",
    "search median ms",
    "search p95 ms",
    "dense ms",
    "BM25 ms",
    "fusion ms",
    "est. total median ms",
    "est. total / floor",
]


def _intro(scaling: ScalingRecord) -> str:
    synthetic = ", ".join(
        f"{factor}x {fmt(entry.synthetic_nearest_neighbour_cosine.median, 3)}"
        for factor, entry in scaling.factors.items()
        if entry.synthetic_nearest_neighbour_cosine is not None
    )
    return (
        "The corpus is grown to a multiple of its size with **synthetic** chunks (labelled `synthetic-N`). Each "
        "synthetic chunk shuffles the sentences of two real chunks of the same kind (realistic text for BM25); "
        "its vector mixes the two real vectors in the same proportion plus Gaussian noise "
        f"(norm {scaling.noise}), normalised. The noise is set so that synthetic vectors sit as close to "
        "their nearest neighbour as real ones do (median nearest-neighbour cosine: real chunks "
        f"{fmt(scaling.real_nearest_neighbour_cosine.median, 3)}; synthetic {synthetic}). The vectors are not "
        "embeddings of the shuffled text, so these runs measure cost, not quality."
    )


def _size_rows(factor: str, entry: ScaleEntry) -> list[list[object]]:
    rows: list[list[object]] = []
    for timing, name in ((entry.faiss_default_threads, "default"), (entry.faiss_1_thread, "1")):
        if timing is None:
            continue
        rows.append(
            [
                f"{factor}x",
                entry.chunks,
                f"{entry.index_bytes / 2**20:.1f}",
                round(entry.load_index_s + entry.searcher_init_s, 2),
                entry.rss_growth_mb,
                f"{timing.threads} ({name})",
                timing.search.median_ms,
                timing.search.p95_ms,
                timing.phases["dense"].median_ms,
                timing.phases["bm25"].median_ms,
                timing.phases["fusion"].median_ms,
                timing.estimated_total_median_ms,
                timing.estimated_ratio_to_floor,
            ]
        )
    return rows


def _peer_store(scaling: ScalingRecord, peer_1x: float | None) -> list[str]:
    store = scaling.llamaindex_vector_store
    if store is None or not store.factors:
        return []
    base = next(iter(store.factors.values())).median_ms
    rows = []
    for factor, stats in store.factors.items():
        timing = scaling.factors[factor].faiss_default_threads if factor in scaling.factors else None
        ours = timing.estimated_total_median_ms if timing else None
        peer_total = peer_1x + stats.median_ms - base if peer_1x is not None else None
        rows.append(
            [
                f"{factor}x",
                stats.vectors,
                stats.median_ms,
                timing.search.median_ms if timing else None,
                peer_total,
                ours,
                fmt(peer_total / ours) if peer_total and ours else None,
            ]
        )
    headers = ["size", "LlamaIndex vectors", "LlamaIndex store ms", "lessons hybrid search ms"]
    headers += ["est. LlamaIndex total ms", "est. lessons total ms", "LlamaIndex / lessons"]
    return [
        "The peer at the same multiples of *its* corpus: LlamaIndex's default `SimpleVectorStore` (pure "
        "Python) searching synthetic vectors, top 5, no embedding. The estimated end-to-end medians add the "
        "extra search time to each system's measured median at 1x.",
        "",
        table(headers, rows),
        "",
    ]


@reports("scaling", ScalingRecord, TITLE)
def scaling_section(results: Results, scaling: ScalingRecord) -> list[str]:
    """Search cost at multiples of the corpus, ours and the peer's vector store."""
    rows = [row for factor, entry in scaling.factors.items() for row in _size_rows(factor, entry)]
    lines = section(
        TITLE,
        _intro(scaling),
        "Search times use precomputed question vectors (embedding a question does not depend on corpus size). "
        "*Est. total* is our measured end-to-end median at 1x plus the extra search time at that size.",
        table(SCALING_HEADERS, rows),
    )
    latency = results.latency
    peer = latency.systems.get("llamaindex-defaults") if isinstance(latency, LatencyRecord) else None
    lines += _peer_store(scaling, peer.median_ms if peer else None)
    for factor, entry in scaling.factors.items():
        hnsw = entry.hybrid_with_hnsw
        if hnsw is None:
            continue
        flat = entry.faiss_1_thread.search.median_ms if entry.faiss_1_thread else None
        lines += [
            f"At {factor}x with HNSW (M=32, efSearch={hnsw.ef_search}, one FAISS thread) in place of the flat "
            f"index, the hybrid search takes {fmt(hnsw.search.median_ms)} ms median (dense part "
            f"{fmt(hnsw.phases['dense'].median_ms)} ms; flat with one thread: {fmt(flat)} ms), and its top 5 "
            f"overlap the flat top 5 by {fmt(hnsw.top5_overlap_with_flat)}.",
            "",
        ]
    return lines


def _ann_table(factor: str, block: AnnBlock) -> list[str]:
    rows = [
        [
            row.index,
            row.k10.median_ms,
            row.k10.p95_ms,
            row.k100.median_ms,
            row.recall10,
            row.recall100,
            row.build_s,
            f"{row.bytes / 2**20:.1f}",
        ]
        for row in block.rows
    ]
    headers = ["index", "k=10 median ms", "k=10 p95 ms", "k=100 median ms", "recall@10", "recall@100", "build s", "MB"]
    return [f"### {factor}x ({block.vectors:,} vectors)", "", table(headers, rows), ""]


@reports("ann", AnnRecord, ANN_TITLE)
def ann_section(results: Results, ann: AnnRecord) -> list[str]:
    """Flat, HNSW and IVF at growing sizes, and which index to take when."""
    if not ann.scales:
        return unmeasured(ANN_TITLE, None)
    lines = section(
        ANN_TITLE,
        "One query at a time (as the app asks), real question vectors against the scaled vector sets; "
        "recall against exact flat search. The hybrid asks FAISS for 100 candidates, so k=100 matters.",
    )
    for factor, block in ann.scales.items():
        lines += _ann_table(factor, block)
    return lines + _recommendation(results, ann) + _threads_note(results, ann)


def _meets_bar(row: AnnRow) -> bool:
    return row.recall10 >= RECALL_BAR[0] and row.recall100 >= RECALL_BAR[1]


def _best(block: AnnBlock) -> AnnRow | None:
    good = [r for r in block.rows if r.kind in ("hnsw", "ivf") and _meets_bar(r)]
    return min(good, key=lambda r: r.k100.median_ms) if good else None


def _flat(block: AnnBlock) -> AnnRow:
    return next(r for r in block.rows if r.kind == "flat")


def _index_choice(best: AnnRow | None, where: str) -> str:
    if best is None:
        return "no approximate index measured here reaches the recall bar; raise efSearch or nprobe."
    return (
        f"**{best.index}** ({where}{best.k100.median_ms:.2f} ms, recall@10 {best.recall10:.3f}, "
        f"recall@100 {best.recall100:.3f})."
    )


def _recommendation(results: Results, ann: AnnRecord) -> list[str]:
    # The embedding's 10th percentile stands for its cost on a quiet machine: under load the median
    # inflates, and flat search would look cheap for longer than it is.
    latency = results.latency
    phase = latency.phases.get("embedding") if isinstance(latency, LatencyRecord) else None
    embed = phase.p10_ms if phase else None
    rows = []
    expensive: tuple[str, AnnBlock] | None = None
    for factor, block in ann.scales.items():
        flat, best = _flat(block), _best(block)
        share = flat.k100.median_ms / embed if embed else None
        if share is not None and share > CHEAP_SHARE and expensive is None:
            expensive = (factor, block)
        rows.append(
            [
                f"{factor}x",
                f"{block.vectors:,}",
                flat.k100.median_ms,
                f"{share:.1%}" if share is not None else "–",
                best.index if best else "none meets the bar",
                best.k100.median_ms if best else None,
                best.recall10 if best else None,
                best.recall100 if best else None,
            ]
        )
    embedding = (
        f"(taken as the embedding's 10th percentile, {embed:.1f} ms, its cost when the machine is quiet). "
        if embed and phase
        else "(not measured in this run). "
    )
    headers = ["size", "vectors", "flat k=100 ms (1 thread)", "of embedding", "fastest index at the bar"]
    headers += ["its k=100 ms", "recall@10", "recall@100"]
    lines = [
        "### Recommendation",
        "",
        f"Flat search is *cheap* while a k=100 search costs under {CHEAP_SHARE:.0%} of embedding the question "
        + embedding
        + f"Approximate indexes must reach recall@10 >= {RECALL_BAR[0]} and recall@100 >= {RECALL_BAR[1]}.",
        "",
        table(headers, rows),
        "",
    ]
    factor, block = expensive or list(ann.scales.items())[-1]
    flat, best = _flat(block), _best(block)
    if expensive:
        lines.append(
            f"Flat search stops being cheap at about **{factor}x the corpus ({block.vectors:,} chunks)**: "
            f"{flat.k100.median_ms:.2f} ms per query with one thread. There, " + _index_choice(best, "")
        )
    else:
        lines.append(
            f"Flat search stays cheap up to the largest size measured, {factor}x ({block.vectors:,} chunks, "
            f"{flat.k100.median_ms:.2f} ms per query with one thread): keep `IndexFlatIP`. When it does stop "
            "being cheap, the index to take over is " + _index_choice(best, f"at {factor}x: ")
        )
    lines.append("")
    return lines + _hnsw_or_ivf(block, best)


def _hnsw_or_ivf(block: AnnBlock, best: AnnRow | None) -> list[str]:
    hnsw = [r for r in block.rows if r.kind == "hnsw"]
    if best is None:
        return []
    if best.kind == "ivf" and hnsw:
        top = max(hnsw, key=lambda r: (r.recall100, -r.k100.median_ms))
        return [
            f"IVF reaches the bar here; HNSW's best setting reaches recall@10 {top.recall10:.3f} and "
            f"recall@100 {top.recall100:.3f} ({top.index}). Isotropic noise makes these "
            "synthetic vectors harder for a graph index than real embeddings (whose intrinsic dimension is low), "
            "so HNSW deserves a check on real data before choosing. Either way: IVF must be trained (and "
            f"retrained as the corpus grows; {best.build_s:.0f} s here) and needs `make_direct_map()` for "
            "the `reconstruct` the searcher uses for exact scores of lexical candidates; HNSW needs neither.",
            "",
        ]
    if best.kind == "hnsw":
        return [
            "HNSW needs no training, accepts added vectors (incremental builds) and keeps `reconstruct`, which "
            "the searcher uses for exact scores of lexical candidates. Set efSearch >= 100: the hybrid takes "
            "100 candidates.",
            "",
        ]
    return []


def _threads_note(results: Results, ann: AnnRecord) -> list[str]:
    pairs = []
    threads = ""
    for factor, block in ann.scales.items():
        for row in block.rows:
            if row.kind == "flat-default":
                pairs.append(f"{factor}x {row.k100.median_ms:.2f} vs {_flat(block).k100.median_ms:.2f} ms")
                threads = row.index.split("(")[1].split(" ")[0]
    lines = []
    if pairs:
        lines += [
            f"**FAISS threads.** Flat k=100 with FAISS's default OpenMP threads ({threads} here) vs one thread: "
            + "; ".join(pairs)
            + ". A single query gains nothing from a second thread, and when other work keeps the cores busy "
            "the two threads wait for each other, so the gap grows with the machine's load (see "
            "benchmarks/README.md).",
            "",
        ]
    scaling = results.scaling
    if isinstance(scaling, ScalingRecord) and scaling.factors:
        top = max(scaling.factors, key=int)
        single, default = scaling.factors[top].faiss_1_thread, scaling.factors[top].faiss_default_threads
        if single is not None:
            dense_default = default.phases["dense"].median_ms if default else None
            lines += [
                f"Inside the hybrid at {top}x with one FAISS thread: dense {single.phases['dense'].median_ms:.2f} ms, "
                f"BM25 {single.phases['bm25'].median_ms:.2f} ms, the rest {single.phases['fusion'].median_ms:.2f} "
                f"ms (dense with FAISS's default threads: {fmt(dense_default)} ms). BM25 and the rest grow "
                "linearly with the corpus, like flat search.",
                "",
            ]
    return lines
