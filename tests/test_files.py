"""lessons.files: the one place that hashes files, and its storage errors in both languages."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from lessons.errors import StorageError, UnsafeFileError
from lessons.files import read_regular_file, sha256_file, storage_error


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


def _refusal(path: Path, **kwargs: object) -> UnsafeFileError:
    with pytest.raises(UnsafeFileError) as caught:
        read_regular_file(path, max_bytes=10, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_every_refused_file_is_worded_in_either_language(tmp_path: Path) -> None:
    """A link, a FIFO, a folder, a device, a file outside the folder and an oversize file are refused with a code
    whose words say it in Danish (numbers with Danish separators) and in English, the path first."""
    inside = tmp_path / "inside"
    inside.mkdir()
    (tmp_path / "outside.txt").write_text("x", encoding="utf-8")
    (inside / "link").symlink_to(tmp_path / "outside.txt")
    os.mkfifo(inside / "fifo")
    (inside / "big").write_bytes(b"x" * 12_345)
    cases = {
        "not_regular_link": (_refusal(inside / "link"), "symbolsk henvisning", "a symbolic link"),
        "not_regular_fifo": (_refusal(inside / "fifo"), "en FIFO (navngivet rør)", "a FIFO (named pipe)"),
        "not_regular_folder": (_refusal(inside, follow_symlinks=True), "en mappe, ikke", "a folder, not"),
        "not_regular_char": (_refusal(Path("/dev/null"), follow_symlinks=True), "tegnenhed", "a character device"),
        "outside": (_refusal(inside / "link", inside=inside), f"ligger uden for {inside}", f"lies outside {inside}"),
        "file_too_large": (_refusal(inside / "big"), "fylder 12.345 byte; grænsen er 10", "is 12,345 bytes"),
    }
    for code, (error, danish, english) in cases.items():
        assert error.code == code, (code, str(error))
        da, en = error.describe("da"), error.describe("en")
        assert da.startswith(f"{error.path}: ") and danish in da, da
        assert en == str(error) and english in en, en
        assert not any(word in da.replace(str(tmp_path), "") for word in ("only", "regular", " is ", "limit")), da
    assert cases["file_too_large"][0].size == 12_345
