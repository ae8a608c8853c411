"""The e5 question tokenizer of the light query path: the tokenizers library's ids, refusals of other layouts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lessons.unigram import TokenizerFormatError, UnigramTokenizer

ADVERSARIAL = [
    "",
    " ",
    "   hello   world   ",
    "hello\tworld\x01",
    "ﬁ hello Å",
    "<mask>",
    "hello <mask> world",
    "hello  \t<mask>world",
    "<s></s><pad><unk>",
    "<s><s>hello</s>",
    "a<mask>b <mask>  <mask>\t<mask>",
    "<mas<mask>k>",
    "\u3000<mask>x\x1c<mask>",
    "\u2581\u2581hello",
    "héllo wörld 日本 🙂",
    "hello " * 700,
    "x" * 5000,
]


def test_tokenizer_matches_the_tokenizers_library(tiny_model: Path) -> None:
    """On adversarial text (specials, odd spaces, fix-ups, unknown characters, long input) the ids are the library's."""
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(tiny_model / "tokenizer.json"))
    reference.enable_truncation(512)
    ours = UnigramTokenizer(tiny_model / "tokenizer.json")
    for text in ADVERSARIAL:
        assert ours.encode(text) == reference.encode(text).ids, repr(text[:40])


def test_tokenizer_refuses_other_layouts(tiny_model: Path, tmp_path: Path) -> None:
    """A tokenizer.json that is not the converter's Unigram layout is refused with the file named, never guessed."""
    data = json.loads((tiny_model / "tokenizer.json").read_text(encoding="utf-8"))
    cases: dict[str, Any] = {
        "bpe": {**data, "model": {"type": "BPE", "vocab": {}, "merges": []}},
        "pre": {**data, "pre_tokenizer": {"type": "Whitespace"}},
        "norm": {**data, "normalizer": {"type": "Lowercase"}},
    }
    for name, value in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(value), encoding="utf-8")
        with pytest.raises(TokenizerFormatError, match=name):
            UnigramTokenizer(path)
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": ', encoding="utf-8")
    with pytest.raises(TokenizerFormatError, match="not valid JSON"):
        UnigramTokenizer(broken)
    with pytest.raises(TokenizerFormatError, match="does not exist"):
        UnigramTokenizer(tmp_path / "absent.json")


def test_tokenizer_refuses_an_oversized_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tokenizer.json above the size limit is not read."""
    from lessons import unigram

    monkeypatch.setattr(unigram, "MAX_TOKENIZER_BYTES", 10)
    path = tmp_path / "tokenizer.json"
    path.write_text('{"model": {"type": "Unigram"}}', encoding="utf-8")
    with pytest.raises(TokenizerFormatError, match="bytes; the limit is"):
        UnigramTokenizer(path)


def test_compact_copy_gives_the_same_ids(tiny_model: Path, tmp_path: Path) -> None:
    """The compact copy written beside the ONNX export tokenizes every adversarial text as tokenizer.json does."""
    full = UnigramTokenizer(tiny_model / "tokenizer.json")
    full.save(tmp_path)
    compact = UnigramTokenizer.load(tmp_path)
    for text in ADVERSARIAL:
        assert compact.encode(text) == full.encode(text), repr(text[:40])


def test_damaged_compact_copy_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    """A compact copy with a missing, cut or unreadable file is refused with the folder named."""
    from lessons.unigram import COMPACT_FILES

    UnigramTokenizer(tiny_model / "tokenizer.json").save(tmp_path)
    pieces = tmp_path / COMPACT_FILES[0]
    pieces.write_bytes(pieces.read_bytes()[:-8])  # fewer pieces than scores
    with pytest.raises(TokenizerFormatError, match="damaged"):
        UnigramTokenizer.load(tmp_path)
    (tmp_path / COMPACT_FILES[2]).write_text("[]", encoding="utf-8")
    with pytest.raises(TokenizerFormatError, match=str(tmp_path)):
        UnigramTokenizer.load(tmp_path)
    (tmp_path / COMPACT_FILES[1]).unlink()
    with pytest.raises(TokenizerFormatError, match="cannot read"):
        UnigramTokenizer.load(tmp_path)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_compact_copy_reads_only_regular_files_inside_its_folder_within_the_limit(
    tiny_model: Path, tmp_path: Path, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each compact file replaced by a link out of the folder, by a FIFO (no hang) or grown over the limit is
    refused, naming the file, before anything is read."""
    import os

    from lessons import unigram
    from lessons.unigram import COMPACT_FILES

    folder = tmp_path / "export"
    folder.mkdir()
    UnigramTokenizer(tiny_model / "tokenizer.json").save(folder)
    target = folder / COMPACT_FILES[index]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(elsewhere)
    with pytest.raises(TokenizerFormatError, match=r"outside|symbolic link") as caught:
        UnigramTokenizer.load(folder)
    assert COMPACT_FILES[index] in str(caught.value)
    target.unlink()
    os.mkfifo(target)
    with pytest.raises(TokenizerFormatError, match="FIFO") as caught:
        UnigramTokenizer.load(folder)  # returns at once: a FIFO is never opened for a blocking read
    target.unlink()
    target.write_bytes(elsewhere.read_bytes())
    UnigramTokenizer.load(folder)  # whole again: it loads
    monkeypatch.setattr(unigram, "MAX_TOKENIZER_BYTES", target.stat().st_size - 1)
    with pytest.raises(TokenizerFormatError, match="bytes; the limit is") as caught:
        UnigramTokenizer.load(folder)


def test_tokenizer_json_that_is_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    """A tokenizer.json that is a FIFO is refused at once (opened without blocking, never read)."""
    import os

    path = tmp_path / "tokenizer.json"
    os.mkfifo(path)
    with pytest.raises(TokenizerFormatError, match="FIFO"):
        UnigramTokenizer(path)
