"""`lessons validate`, `status` and `ask` import nothing heavy they do not use (checked with python -X importtime)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.settings import Settings

from .conftest import ROOT, copy_built_index

pytestmark = pytest.mark.heavy

HEAVY = ("torch", "sentence_transformers", "transformers", "streamlit", "fastapi", "uvicorn", "llama_index")


def imported_modules(args: list[str], env: dict[str, str]) -> set[str]:
    """Top-level modules a `lessons` command imports, from -X importtime (the command must succeed)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lessons.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", proc.stderr, flags=re.MULTILINE)
    assert names, "no importtime lines"
    return {name.split(".")[0] for name in names}


def command_env(settings: Settings) -> dict[str, str]:
    """The environment of a `lessons` process over these settings."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "LESSONS_CORPUS_DIR": str(settings.corpus_dir),
        "LESSONS_INDEX_DIR": str(settings.index_dir),
        "LESSONS_MODEL": settings.model,
    }


def test_validate_and_status_import_nothing_heavy(settings: Settings, fake: FakeEmbedder) -> None:
    """validate loads no numpy or model libraries; status reads the index without search or model libraries."""
    build_index(settings, fake)
    env = command_env(settings)
    validate = imported_modules(["validate"], env)
    assert not validate & {*HEAVY, "numpy", "faiss", "bm25s", "scipy"}
    status = imported_modules(["status"], env)
    assert not status & {*HEAVY, "bm25s", "scipy"}
    assert "faiss" in status  # it does read the index


@pytest.mark.slow
def test_ask_with_the_default_model_imports_no_torch(tmp_path: Path, real_model_index: Settings) -> None:
    """`lessons ask` over an index of the default model answers through onnxruntime without importing torch."""
    from lessons.embedding import load_embedder
    from lessons.onnx_export import read_export
    from lessons.settings import DEFAULT_MODEL_DIR

    model = ROOT / DEFAULT_MODEL_DIR
    if not (model / "lessons-model.json").is_file() or read_export(model, verify=False) is None:
        pytest.skip("the default model or its ONNX export is not set up (lessons setup-model)")
    corpus = tmp_path / "corpus"
    for entry in sorted((ROOT / "corpus" / "entries").rglob("*.yaml"))[:8]:
        target = corpus / entry.relative_to(ROOT / "corpus")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(entry.read_bytes())
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=str(model))
    copy_built_index(real_model_index, settings.index_dir)  # the build then embeds nothing it already has
    build_index(settings, load_embedder(settings))
    modules = imported_modules(["ask", "Hvordan håndterer vi MDR?", "--json"], command_env(settings))
    assert "onnxruntime" in modules
    assert not modules & set(HEAVY)
