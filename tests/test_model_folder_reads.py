"""The model folder's small JSON files are read as our other files are: regular files only, size checked first."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from lessons.embedding import model_fingerprint
from lessons.errors import ModelNotFoundError
from lessons.onnx_export import max_length, pooling_dimension


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """A read that blocks (a FIFO opened for reading) fails the test after 10 s instead of hanging the suite."""

    def timeout(*_: object) -> None:
        raise TimeoutError("a model-folder read blocked")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_fifos_in_place_of_the_small_config_files_are_not_read(tmp_path: Path) -> None:
    """A FIFO as sentence_bert_config.json or 1_Pooling/config.json gives the defaults at once, without blocking."""
    os.mkfifo(tmp_path / "sentence_bert_config.json")
    (tmp_path / "1_Pooling").mkdir()
    os.mkfifo(tmp_path / "1_Pooling" / "config.json")
    assert max_length(tmp_path) == 512
    assert pooling_dimension(tmp_path) is None


def test_an_oversize_config_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config.json over the limit is refused, naming it, rather than read whole into the fingerprint; the
    small files of a normal folder (links into a cache, as a Hugging Face snapshot has) still give one."""
    from lessons import embedding

    (tmp_path / "blob").write_text('{"hidden_size": 384}', encoding="utf-8")
    (tmp_path / "config.json").symlink_to(tmp_path / "blob")  # a snapshot's link into its blobs: followed
    fingerprint = model_fingerprint(str(tmp_path), 384)
    assert fingerprint.startswith(f"{tmp_path.name}/384/")
    monkeypatch.setattr(embedding, "MAX_MODEL_CONFIG_BYTES", 10)
    with pytest.raises(ModelNotFoundError, match=r"config\.json"):
        model_fingerprint(str(tmp_path), 384)
