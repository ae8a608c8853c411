"""lessons.files: the one place that hashes files, and its storage errors in both languages."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from lessons.errors import StorageError
from lessons.files import sha256_file, storage_error


def test_sha256_file_matches_hashlib_across_block_boundaries(tmp_path: Path) -> None:
    """sha256_file gives hashlib's digest for an empty file and for one that spans several 1 MiB blocks."""
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    big = tmp_path / "big"
    data = bytes(range(256)) * ((3 << 20) // 256) + b"tail"
    big.write_bytes(data)
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()
    assert sha256_file(big) == hashlib.sha256(data).hexdigest()


REASONS = {  # an OS error -> a piece of its Danish and its English words
    errno.ENOSPC: ("disken er fuld", "the disk is full"),
    errno.EACCES: ("må oprette kurateringslåsen der", "may create the curation lock there"),
    errno.EROFS: ("skrivebeskyttet", "read-only"),
    errno.EISDIR: ("det er en mappe", "it is a folder"),
    errno.ENOTDIR: ("en del af stien er en fil", "part of the path is a file"),
    errno.ENOENT: ("findes ikke", "does not exist"),
    errno.ELOOP: ("symbolsk henvisning", "symbolic link"),
    errno.EMFILE: ("for mange åbne filer", "too many open files"),
    errno.EIO: ("Input/output error (styresystemets besked på engelsk)", "Input/output error; check the folder"),
}


@pytest.mark.parametrize("code", sorted(REASONS))
def test_a_storage_error_says_what_failed_in_either_language(code: int) -> None:
    """storage_error words each OS failure in Danish and English, naming the path, what was done and what it means;
    str() is the English (the CLI's)."""
    da, en = REASONS[code]
    error = storage_error(OSError(code, os.strerror(code)), "/data/corpus/.curation.lock", "lock", "unchanged")
    assert isinstance(error, StorageError) and str(error) == error.describe("en")
    danish = error.describe("da")
    assert danish.startswith("kan ikke oprette kurateringslåsen /data/corpus/.curation.lock: ") and da in danish
    assert danish.endswith(". Intet blev ændret") and "cannot" not in danish
    english = error.describe("en")
    assert english.startswith("cannot create the curation lock /data/corpus/.curation.lock: ") and en in english
    assert english.endswith(". Nothing was changed")


def test_a_database_error_names_the_database_in_either_language(tmp_path: Path) -> None:
    """A link where the audit log should be is refused naming the file, as 'revisionssporet' in Danish."""
    from lessons import audit

    audit.db_path(tmp_path).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(audit.AuditError) as caught:
        audit.writable(tmp_path)
    path = audit.db_path(tmp_path)
    assert str(caught.value) == f"the audit log {path} is not a regular file" == caught.value.describe("en")
    assert caught.value.describe("da") == f"revisionssporet {path} er ikke en almindelig fil"
