"""The e5 question tokenizer for the light query path, read from the model folder's ``tokenizer.json``.

The ``tokenizers`` library gives the same ids, but loading this 250 000-piece Unigram vocabulary takes it
about 1.1 s and 290 MB (a character trie with a hash map per node), more than the whole rest of a query
process. Questions are short, so a plain Viterbi over a dict of pieces is fast enough (well under a
millisecond for a typical question) and loads in a fraction of the time and memory.

It reads only the ``tokenizer.json`` that ``lessons setup-model`` writes (see :mod:`lessons.convert`):

* added special tokens (``<s>``, ``</s>``, ``<pad>``, ``<unk>``, ``<mask>``) are cut out of the raw text first;
* each remaining segment is normalised: the converter's code-point fix-ups, NFKC, runs of spaces to one;
* Metaspace: spaces become ``▁``, a ``▁`` is put in front, and the text is split before every ``▁``;
* each word is segmented by Viterbi over the pieces' log-probabilities; a character no piece covers is
  ``<unk>`` (scored as the lowest piece minus 10), and neighbouring unknowns fuse into one;
* ``<s> … </s>`` around it, the content cut to ``max_length - 2`` tokens first.

Any other tokenizer layout is refused (:class:`TokenizerFormatError`), so the caller falls back to
sentence-transformers instead of embedding with ids that differ. ``tests/test_unigram.py`` checks the ids
against the ``tokenizers`` library on every question set, every corpus chunk and adversarial text.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lessons.errors import LessonsError, ModelNotFoundError, UnsafeFileError
from lessons.files import read_regular_file

__all__ = ["COMPACT_FILES", "MAX_TOKENIZER_BYTES", "TokenizerFormatError", "UnigramTokenizer"]

MAX_TOKENIZER_BYTES = 64 << 20
"""A tokenizer.json larger than this is not read (the e5 one is about 9 MB)."""

COMPACT_FILES = ("tokenizer-pieces.txt", "tokenizer-scores.npy", "tokenizer-rules.json")
"""The compact copy :meth:`UnigramTokenizer.save` writes beside the ONNX export: pieces, scores, the rest."""

_UNK_PENALTY = 10.0  # SentencePiece and tokenizers score an unknown character as the lowest piece minus this
_METASPACE = "\u2581"
_CLASS_ITEM = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}(?:-\\x\{([0-9A-Fa-f]{1,6})\})?")
_SPACES = re.compile(" {2,}")


class TokenizerFormatError(ModelNotFoundError):
    """The tokenizer.json is not the Unigram layout this tokenizer reproduces."""


def _read(path: Path, *, inside: Path) -> bytes:
    """A tokenizer file's bytes: a regular file inside ``inside``, at most :data:`MAX_TOKENIZER_BYTES`, checked
    before reading (a link out of the folder, a FIFO or an oversize file is refused, naming it)."""
    try:
        return read_regular_file(path, max_bytes=MAX_TOKENIZER_BYTES, inside=inside)
    except UnsafeFileError as exc:
        raise TokenizerFormatError(str(exc)) from None
    except LessonsError as exc:  # StorageError: the OS refused the read
        raise TokenizerFormatError(f"cannot read the tokenizer: {exc}") from None


@dataclass(frozen=True)
class _Special:
    content: str
    ident: int
    lstrip: bool


def _class_codepoints(pattern: str, where: str) -> list[int]:
    """The code points of a ``[\\x{..}-\\x{..}...]`` class as the converter writes it."""
    if not (pattern.startswith("[") and pattern.endswith("]")):
        raise TokenizerFormatError(f"{where}: normaliser pattern {pattern[:40]!r} is not a code-point class")
    body = pattern[1:-1]
    points: list[int] = []
    pos = 0
    for match in _CLASS_ITEM.finditer(body):
        if match.start() != pos:
            break
        first = int(match.group(1), 16)
        last = int(match.group(2), 16) if match.group(2) else first
        if last < first or last > 0x10FFFF or last - first > 0x10FFFF:
            raise TokenizerFormatError(f"{where}: bad range in normaliser pattern {pattern[:40]!r}")
        points.extend(range(first, last + 1))
        pos = match.end()
    if pos != len(body):
        raise TokenizerFormatError(f"{where}: normaliser pattern {pattern[:40]!r} is not a code-point class")
    return points


def _fixups(normalizer: Any, where: str) -> dict[int, str]:
    """The translate table of the converter's normaliser: Replace(class, text)…, NFKC, Replace(' {2,}', ' ')."""
    steps = normalizer.get("normalizers") if isinstance(normalizer, dict) else None
    if normalizer.get("type") != "Sequence" or not isinstance(steps, list) or len(steps) < 2:
        raise TokenizerFormatError(f"{where}: the normaliser is not the sequence lessons setup-model writes")
    *replaces, nfkc, spaces = steps
    if nfkc != {"type": "NFKC"} or spaces != {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}:
        raise TokenizerFormatError(f"{where}: the normaliser does not end with NFKC and space folding")
    table: dict[int, str] = {}
    for step in replaces:
        pattern = (step.get("pattern") or {}).get("Regex") if isinstance(step, dict) else None
        content = step.get("content") if isinstance(step, dict) else None
        if step.get("type") != "Replace" or not isinstance(pattern, str) or not isinstance(content, str):
            raise TokenizerFormatError(f"{where}: a normaliser step is not a code-point replacement")
        for point in _class_codepoints(pattern, where):
            table.setdefault(point, content)  # the first replacement that matches a character wins
    return table


class UnigramTokenizer:
    """Token ids for e5 questions, identical to the ``tokenizers`` library's for the converter's tokenizer.json."""

    def __init__(self, path: Path, *, max_length: int = 512) -> None:
        where = str(path)
        try:
            if not path.exists():
                raise TokenizerFormatError(f"{where} does not exist or is not a file")
            data = json.loads(_read(path, inside=path.parent))
        except ValueError as exc:
            raise TokenizerFormatError(f"{where} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise TokenizerFormatError(f"{where} is not a tokenizer object")
        self._read(data, where)
        if max_length < 3:
            raise ValueError("max_length must leave room for <s> and </s>")
        self.max_length = max_length

    def _read(self, data: dict[str, Any], where: str) -> None:
        model = data.get("model")
        if not isinstance(model, dict) or model.get("type") != "Unigram" or model.get("byte_fallback"):
            raise TokenizerFormatError(f"{where}: the model is not a Unigram without byte fallback")
        vocab = model.get("vocab")
        unk = model.get("unk_id")
        if not isinstance(vocab, list) or not vocab or not isinstance(unk, int) or not 0 <= unk < len(vocab):
            raise TokenizerFormatError(f"{where}: the Unigram vocabulary or its unk_id is missing")
        pieces: dict[str, tuple[int, float]] = {}
        lowest = 0.0
        longest = 1
        for ident, item in enumerate(vocab):
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
                raise TokenizerFormatError(f"{where}: vocabulary entry {ident} is not [piece, score]")
            score = float(item[1])
            pieces.setdefault(item[0], (ident, score))
            lowest = min(lowest, score)
            longest = max(longest, len(item[0]))
        pre = data.get("pre_tokenizer")
        if not (
            isinstance(pre, dict)
            and pre.get("type") == "Metaspace"
            and pre.get("replacement") == _METASPACE
            and pre.get("prepend_scheme") == "always"
            and pre.get("split") is True
        ):
            raise TokenizerFormatError(f"{where}: the pre-tokenizer is not Metaspace (prepend always, split)")
        post = data.get("post_processor")
        single = post.get("single") if isinstance(post, dict) else None
        if not (isinstance(post, dict) and post.get("type") == "TemplateProcessing" and isinstance(single, list)):
            raise TokenizerFormatError(f"{where}: the post-processor is not a <s> $A </s> template")
        shape = [next(iter(part)) for part in single if isinstance(part, dict) and part]
        specials_map = post.get("special_tokens") or {}
        if shape != ["SpecialToken", "Sequence", "SpecialToken"] or not isinstance(specials_map, dict):
            raise TokenizerFormatError(f"{where}: the post-processor is not a <s> $A </s> template")
        try:
            first, last = (specials_map[single[i]["SpecialToken"]["id"]]["ids"] for i in (0, 2))
        except (KeyError, TypeError):
            raise TokenizerFormatError(f"{where}: the template's special tokens are not listed") from None
        specials: list[_Special] = []
        for token in data.get("added_tokens") or []:
            if not (isinstance(token, dict) and isinstance(token.get("content"), str) and token["content"]):
                raise TokenizerFormatError(f"{where}: an added token has no content")
            if not token.get("special") or token.get("normalized") or token.get("rstrip") or token.get("single_word"):
                raise TokenizerFormatError(f"{where}: added token {token['content']!r} is not a plain special token")
            specials.append(_Special(token["content"], int(token["id"]), bool(token.get("lstrip"))))
        self._pieces = pieces
        self._unk = unk
        self._unk_score = lowest - _UNK_PENALTY
        self._longest = longest
        self._prefix = [int(i) for i in first]
        self._suffix = [int(i) for i in last]
        self._fixups = _fixups(data.get("normalizer"), where)
        self._set_specials(specials)

    # ------------------------------------------------------------------ the compact copy

    def save(self, folder: Path) -> None:
        """Write the compact copy (:data:`COMPACT_FILES`): it loads in about 0.1 s instead of 0.5 s."""
        import numpy as np

        pieces = sorted(self._pieces.items(), key=lambda item: item[1][0])
        if any("\0" in piece for piece, _ in pieces):
            raise TokenizerFormatError("a tokenizer piece holds a NUL character: no compact copy")
        names, ranked = zip(*pieces, strict=True) if pieces else ((), ())
        (folder / COMPACT_FILES[0]).write_bytes("\0".join(names).encode("utf-8"))
        with (folder / COMPACT_FILES[1]).open("wb") as fh:
            np.save(fh, np.array([[ident, score] for ident, score in ranked], dtype=np.float64), allow_pickle=False)
        rules = {
            "unk": self._unk,
            "unk_score": self._unk_score,
            "longest": self._longest,
            "prefix": self._prefix,
            "suffix": self._suffix,
            "fixups": {str(point): text for point, text in sorted(self._fixups.items())},
            "specials": [{"content": t.content, "id": t.ident, "lstrip": t.lstrip} for t in self._specials.values()],
        }
        (folder / COMPACT_FILES[2]).write_text(json.dumps(rules, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, *, max_length: int = 512) -> UnigramTokenizer:
        """The tokenizer from the compact copy in ``folder`` (see :meth:`save`)."""
        import numpy as np

        try:
            pieces, scores, more = (_read(folder / name, inside=folder) for name in COMPACT_FILES)  # all checked first
            names = pieces.decode("utf-8").split("\0")
            ranked = np.load(io.BytesIO(scores), allow_pickle=False)
            rules = json.loads(more.decode("utf-8"))
            if ranked.shape != (len(names), 2):
                raise ValueError(f"{len(names)} pieces but scores of shape {ranked.shape}")
            tokenizer = cls.__new__(cls)
            tokenizer._pieces = dict(
                zip(names, zip(ranked[:, 0].astype(np.int64).tolist(), ranked[:, 1].tolist(), strict=True), strict=True)
            )
            tokenizer._unk = int(rules["unk"])
            tokenizer._unk_score = float(rules["unk_score"])
            tokenizer._longest = int(rules["longest"])
            tokenizer._prefix = [int(i) for i in rules["prefix"]]
            tokenizer._suffix = [int(i) for i in rules["suffix"]]
            tokenizer._fixups = {int(point): str(text) for point, text in rules["fixups"].items()}
            specials = [_Special(str(t["content"]), int(t["id"]), bool(t["lstrip"])) for t in rules["specials"]]
        except OSError as exc:
            raise TokenizerFormatError(f"cannot read the tokenizer in {folder}: {exc.strerror or exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise TokenizerFormatError(f"the tokenizer in {folder} is damaged: {exc}") from None
        tokenizer._set_specials(specials)
        tokenizer.max_length = max(3, max_length)
        return tokenizer

    def _set_specials(self, specials: list[_Special]) -> None:
        self._specials = {s.content: s for s in specials}

    def _split_specials(self, text: str) -> list[str | _Special]:
        """The text cut around its special tokens (leftmost first, the longest at one place); an lstrip
        token takes the whitespace before it. Each token's next place is found once per step past it, so
        this is linear in the text for a fixed set of tokens."""
        parts: list[str | _Special] = []
        nearest = {s.content: text.find(s.content) for s in self._specials.values()}
        pos = 0
        while True:
            found = [(at, -len(content), content) for content, at in nearest.items() if at >= 0]
            if not found:
                break
            at, _, content = min(found)
            special = self._specials[content]
            before = text[pos:at]
            parts.append(before.rstrip() if special.lstrip else before)
            parts.append(special)
            pos = at + len(content)
            for other, place in nearest.items():
                if 0 <= place < pos:
                    nearest[other] = text.find(other, pos)
        parts.append(text[pos:])
        return parts

    # ------------------------------------------------------------------ encoding

    def _normalise(self, text: str) -> str:
        text = unicodedata.normalize("NFKC", text.translate(self._fixups))
        return _SPACES.sub(" ", text)

    def _segment(self, word: str) -> list[int]:
        """Viterbi over the pieces: the highest-scoring segmentation, unknown characters as one fused <unk>."""
        n = len(word)
        best = [0.0] + [float("-inf")] * n
        back: list[tuple[int, int]] = [(0, -1)] * (n + 1)  # (start, id) of the last token of the best path
        reached = [True] + [False] * n
        pieces = self._pieces
        for start in range(n):
            if not reached[start]:
                continue
            base = best[start]
            single = False
            for end in range(start + 1, min(n, start + self._longest) + 1):
                entry = pieces.get(word[start:end])
                if entry is None:
                    continue
                single = single or end == start + 1
                score = base + entry[1]
                if not reached[end] or score > best[end]:
                    best[end], back[end], reached[end] = score, (start, entry[0]), True
            if not single:
                score = base + self._unk_score
                if not reached[start + 1] or score > best[start + 1]:
                    best[start + 1], back[start + 1], reached[start + 1] = score, (start, self._unk), True
        ids: list[int] = []
        pos = n
        while pos > 0:
            start, ident = back[pos]
            if not (ident == self._unk and ids and ids[-1] == self._unk):
                ids.append(ident)
            pos = start
        ids.reverse()
        return ids

    def _encode_text(self, text: str) -> list[int]:
        normalised = self._normalise(text).replace(" ", _METASPACE)
        if not normalised:
            return []
        if not normalised.startswith(_METASPACE):
            normalised = _METASPACE + normalised
        ids: list[int] = []
        for word in normalised.split(_METASPACE)[1:]:  # it starts with the marker: the first piece is empty
            ids += self._segment(_METASPACE + word)
        return ids

    def encode(self, text: str) -> list[int]:
        """The ids of ``<s> text </s>``, the text cut to ``max_length - 2`` tokens."""
        ids: list[int] = []
        for part in self._split_specials(text):
            if isinstance(part, str):
                ids += self._encode_text(part)
            else:
                ids.append(part.ident)
        return self._prefix + ids[: self.max_length - len(self._prefix) - len(self._suffix)] + self._suffix
