"""lessons.files: the one place that hashes files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lessons.files import sha256_file


def test_sha256_file_matches_hashlib_across_block_boundaries(tmp_path: Path) -> None:
    """sha256_file gives hashlib's digest for an empty file and for one that spans several 1 MiB blocks."""
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    big = tmp_path / "big"
    data = bytes(range(256)) * ((3 << 20) // 256) + b"tail"
    big.write_bytes(data)
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()
    assert sha256_file(big) == hashlib.sha256(data).hexdigest()
