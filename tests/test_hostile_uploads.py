"""Hostile uploads: each is refused before parsing, or parsed in a subprocess within its time and memory limits.

Uploads go through :func:`lessons.ingest.saving.ingest_bytes` / :func:`ingest_file`, the functions
the CLI (`lessons ingest`) and the app's curator page call. The PDFs are written by hand
(a few objects and an xref table), so each attack is exactly what its name says. After
every refusal the corpus is byte-identical and no staging folder is left; a worker's
peak memory is measured while it runs.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from lessons.build import build_index
from lessons.corpus import load_corpus
from lessons.embedding import FakeEmbedder
from lessons.errors import IngestError, UploadError
from lessons.ingest import IngestLimits, saving
from lessons.ingest.saving import ingest_bytes, ingest_file
from lessons.settings import Settings
from tests.conftest import REPORT
from tests.reliability_report import record
from tests.test_ingest import PAGES, make_pdf

pytestmark = pytest.mark.heavy

AREA = "Hostile uploads"
MB = 1024 * 1024
LIMITS = IngestLimits(seconds=8, memory_mb=512)

# --- a minimal PDF writer ----------------------------------------------------------------------

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF file with these objects (numbered from 1) and a correct xref table."""
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return out


def stream(data: bytes, *, flate: bool = True) -> bytes:
    """A stream object, FlateDecode-compressed data or plain."""
    kind = b" /Filter /FlateDecode" if flate else b""
    return b"<< /Length %d%s >>\nstream\n" % (len(data), kind) + data + b"\nendstream"


def deflated(unit: bytes, total: int) -> bytes:
    """``unit`` repeated to ``total`` bytes, deflated without ever holding the whole in memory."""
    compressor = zlib.compressobj(9)
    block = unit * max(1, MB // len(unit))
    parts = [compressor.compress(block) for _ in range(0, total, len(block))]
    return b"".join(parts) + compressor.flush()


def page(parent: int, contents: int, font: int, extra: bytes = b"") -> bytes:
    """A page object."""
    return (
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
        b"/Resources << /Font << /F1 %d 0 R >> >> %s >>" % (parent, contents, font, extra)
    )


def one_page(content: bytes | None = None, extra: bytes = b"") -> bytes:
    """A one-page PDF saying a sentence, or with the given content stream."""
    text = stream(b"BT /F1 12 Tf 72 720 Td (Rapport om data) Tj ET", flate=False)
    return pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page(2, 4, 5, extra),
            content if content is not None else text,
            FONT,
        ]
    )


def pages_sharing(count: int, content: bytes) -> bytes:
    """``count`` pages that all show the same content stream."""
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(count))
    head = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count)]
    return pdf([*head, content, FONT, *(page(2, 3, 4) for _ in range(count))])


def deep_page_tree(depth: int) -> bytes:
    """A page under ``depth`` nested /Pages nodes."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        me = 2 + level
        parent = b"/Parent %d 0 R " % (me - 1) if level else b""
        objects.append(b"<< /Type /Pages %s/Kids [%d 0 R] /Count 1 >>" % (parent, me + 1))
    leaf = 2 + depth
    objects += [page(leaf - 1, leaf + 1, leaf + 2), stream(b"BT /F1 12 Tf 72 720 Td (Dyb) Tj ET", flate=False), FONT]
    return pdf(objects)


def cyclic_page_tree() -> bytes:
    """A /Pages node that lists itself among its kids."""
    text = stream(b"BT /F1 12 Tf 72 720 Td (Ring) Tj ET", flate=False)
    kids = b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>"
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", kids, page(2, 4, 5), text, FONT])


TEXT_LINE = b"(" + b"Ordet gentages igen og igen " * 20 + b") Tj T* "

# --- helpers -------------------------------------------------------------------------------------


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.name == ".curation.lock":
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


class PeakMemory:
    """Samples the resident memory of the ingest worker (this process's `lessons.ingest.worker` children).

    Other children of the test process (e.g. another test module's long-lived helper
    process) are not counted.
    """

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children(recursive=True):
                try:
                    if "lessons.ingest.worker" not in " ".join(child.cmdline()):
                        continue
                    self.peak = max(self.peak, child.memory_info().rss)
                except psutil.Error:
                    continue
            self._stop.wait(0.005)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def corpus(tiny_corpus: Path) -> Iterator[Path]:
    """The tiny corpus; afterwards it must be byte-identical and free of staging folders."""
    before = _digest(tiny_corpus)
    yield tiny_corpus
    assert _digest(tiny_corpus) == before
    assert not list(tiny_corpus.glob(".ingest-*"))


def _no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the worker was started for an upload that should be refused first")

    monkeypatch.setattr(saving, "parse_in_subprocess", forbidden)


# --- refused before any parsing ------------------------------------------------------------------


def _executable() -> bytes:
    return Path(os.path.realpath(sys.executable)).read_bytes()[: 64 * 1024]


REFUSED_UP_FRONT: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "zero-byte .pdf": (lambda: b"", "tom.pdf", "is empty (0 bytes)"),
    "zero-byte .txt": (lambda: b"", "tom.txt", "is empty (0 bytes)"),
    "zero-byte .md": (lambda: b"", "tom.md", "is empty (0 bytes)"),
    "the Python interpreter (ELF) renamed .pdf": (_executable, "rapport.pdf", "Linux executable"),
    "the Python interpreter (ELF) renamed .txt": (_executable, "rapport.txt", "Linux executable"),
    "Windows executable renamed .pdf": (lambda: b"MZ\x90\x00\x03" + bytes(500), "rapport.pdf", "Windows executable"),
    "Mach-O executable renamed .md": (lambda: b"\xcf\xfa\xed\xfe" + bytes(500), "rapport.md", "macOS executable"),
    "shell script renamed .pdf": (lambda: b"#!/bin/sh\nrm -rf ~\n", "rapport.pdf", "a script"),
    "ZIP (docx) renamed .pdf": (lambda: b"PK\x03\x04" + bytes(500), "rapport.pdf", "ZIP archive"),
    "gzip renamed .txt": (lambda: b"\x1f\x8b\x08" + bytes(500), "rapport.txt", "gzip archive"),
    "PNG renamed .pdf": (lambda: b"\x89PNG\r\n\x1a\n" + bytes(500), "rapport.pdf", "PNG image"),
    "text renamed .pdf": (lambda: b"Bare tekst.\n", "rapport.pdf", "is plain text without a PDF header"),
    "PDF renamed .txt": (one_page, "rapport.txt", "is a PDF, but its name says a text file"),
    "an .exe name": (lambda: b"MZ" + bytes(100), "rapport.exe", "as .pdf, .txt, .text, .md, .markdown"),
    "binary with NUL bytes as .txt": (lambda: b"abc\x00def" * 100, "rapport.txt", "binary"),
    "UTF-16 text as .txt": (lambda: "Rapport om data\n".encode("utf-16"), "rapport.txt", "binary"),
}


@pytest.mark.parametrize("case", list(REFUSED_UP_FRONT))
def test_refused_before_parsing(corpus: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    """Empty files, executables and mislabelled files are refused from their first bytes; no worker starts."""
    make, name, expected = REFUSED_UP_FRONT[case]
    _no_worker(monkeypatch)
    with pytest.raises(IngestError, match=re.escape(expected)):
        ingest_bytes(corpus, make(), name, by="k")
    record(AREA, case, 1, f"refused before parsing ('{expected}'); no worker started; corpus unchanged")


def test_oversized_files_are_refused_without_reading_them(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file over the size limit is refused by its size on disk (a sparse 2 GB file is never read)."""
    _no_worker(monkeypatch)
    huge = tmp_path / "kæmpe.pdf"
    with huge.open("wb") as fh:
        fh.truncate(2 * 1024 * MB)  # sparse: no disk used, and reading it would need 2 GB of memory
    with pytest.raises(IngestError, match=r"kæmpe.pdf is 2 GB; the limit is 25 MB"):
        ingest_file(corpus, huge, by="k")
    just_over = b"%PDF-1.7\n" + bytes(25 * MB - 8)
    with pytest.raises(IngestError, match="is 26,214,401 bytes; the limit is 26,214,400 bytes"):
        ingest_bytes(corpus, just_over, "stor.pdf", by="k")
    record(
        AREA,
        "file over the size limit (sparse 2 GB file; 25 MB + 1 byte in memory)",
        2,
        "refused by size before reading or parsing; corpus unchanged",
    )


# --- parsed in the worker, within limits ---------------------------------------------------------

PARSED: dict[str, tuple[Callable[[], bytes], str]] = {
    "encrypted PDF (password)": (lambda: make_pdf(PAGES, encrypt="hemmelig"), "encrypted"),
    "ELF executable with a %PDF- header planted (polyglot)": (
        lambda: _executable()[:200] + b"%PDF-1.7\n" + _executable()[200:],
        "Linux executable|cannot be read",
    ),
    "truncated PDF": (lambda: make_pdf(PAGES)[:400], "cannot"),
    "PDF decompression bomb (300 MB of spaces in one 300 KB stream)": (
        lambda: one_page(stream(deflated(b" ", 300 * MB))),
        "Limit reached while decompressing",
    ),
    "PDF text bomb (12 pages sharing a 70 MB text stream)": (
        lambda: pages_sharing(12, stream(deflated(TEXT_LINE, 70 * MB))),
        r"took longer than|more than 512 MB|Limit reached|out of memory",
    ),
    "PDF with an array nested 100,000 deep": (
        lambda: one_page(extra=b"/Annots " + b"[" * 100_000 + b"]" * 100_000),
        "cannot be read|nested too deeply|cannot be parsed",
    ),
    "PDF with a page tree nested 5,000 deep": (lambda: deep_page_tree(5000), "page tree depth"),
    "PDF with a cyclic page tree": (cyclic_page_tree, "cyclic"),
    "PDF with 1,200 pages (limit 1,000)": (lambda: pages_sharing(1200, stream(b"BT ET", flate=False)), "limit is 1000"),
    "PDF without any text": (lambda: one_page(stream(b"0 0 m 10 10 l S", flate=False)), "no extractable text"),
}


@pytest.mark.parametrize("case", list(PARSED))
def test_hostile_pdfs_are_refused_within_limits(corpus: Path, case: str) -> None:
    """Each hostile PDF is refused with a reason by the sandboxed worker, which stays within its memory limit."""
    make, expected = PARSED[case]
    data = make()
    # the text bomb only ends by the time limit: give it less time than the others need to answer under load
    limits = IngestLimits(seconds=4, memory_mb=LIMITS.memory_mb) if "text bomb" in case else LIMITS
    with PeakMemory() as memory, pytest.raises(IngestError, match=expected) as info:
        ingest_bytes(corpus, data, "hostile.pdf", by="k", limits=limits)
    assert memory.peak < limits.memory_mb * MB
    message = str(info.value).split(": ", 1)[-1][:90]
    where = (
        "refused before parsing"
        if isinstance(info.value, UploadError)
        else f"refused by the worker (peak RSS {memory.peak / MB:.0f} MB; limits {limits.memory_mb} MB, "
        f"{limits.seconds:g} s)"
    )
    record(AREA, case, 1, f"{where}: '{message}'; corpus unchanged")


def test_a_huge_single_line_text_is_parsed_within_limits(corpus: Path) -> None:
    """A 5 MB text file on one line is parsed (or stopped) within the limits, never hanging the caller."""
    data = ("Data og jura " * 400_000).encode()
    with PeakMemory() as memory:
        try:
            result = ingest_bytes(corpus, data, "linje.txt", by="k", limits=LIMITS, dry_run=True)
            outcome = f"parsed: {len(result.created)} drafts (dry run)"
        except IngestError as exc:
            outcome = f"refused ('{str(exc)[:80]}')"
    assert memory.peak < LIMITS.memory_mb * MB
    record(AREA, "5 MB text file on a single line", 1, f"{outcome}; worker peak RSS {memory.peak / MB:.0f} MB")


def test_hostile_uploads_through_the_cli(env_settings: Settings, tmp_path: Path) -> None:
    """`lessons ingest` turns each hostile upload into one 'error:' line and exit 1."""
    cases = {"tom.pdf": b"", "program.pdf": _executable(), "bombe.pdf": one_page(stream(deflated(b" ", 100 * MB)))}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        done = subprocess.run(
            [str(Path(sys.executable).parent / "lessons"), "ingest", str(path), "--timeout", "20"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "LESSONS_CORPUS_DIR": str(env_settings.corpus_dir)},
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stderr.startswith("error:") and "Traceback" not in done.stderr
    record(
        AREA,
        "CLI `lessons ingest` with an empty file, an executable and a decompression bomb",
        len(cases),
        "one 'error:' line each, exit 1, no traceback",
    )


_KILL_DURING_SAVE = r"""
import os, signal, sys
from pathlib import Path
from lessons import ingest
from lessons.ingest import saving

real_move = saving._move
moved = []

def move(source, target):
    real_move(source, target)
    moved.append(target)
    if len(moved) == 3:
        os.kill(os.getpid(), signal.SIGKILL)

saving._move = move
saving.ingest_file(Path(sys.argv[1]), Path(sys.argv[2]), by="k")
"""


def test_ingest_killed_while_saving(tiny_corpus: Path, settings: Settings, fake: FakeEmbedder) -> None:
    """SIGKILL while drafts are moved into place: no partial file, no draft served, a rerun completes the set."""
    before = {p.name for p in tiny_corpus.rglob("*.yaml")}
    build_index(settings, fake)
    done = subprocess.run(
        [sys.executable, "-c", _KILL_DURING_SAVE, str(tiny_corpus), str(REPORT)],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    corpus = load_corpus(tiny_corpus)  # every file is whole: the corpus still validates
    new = [e for e in corpus.entries if f"{e.id}.yaml" not in before]
    assert len(new) == 3 and not any(e.retrievable for e in new)
    report = build_index(settings, fake)
    assert report.manifest.entry_count == 5  # drafts are never served
    staging = sorted(p.name for p in tiny_corpus.glob(".ingest-*"))
    rerun = ingest_file(tiny_corpus, REPORT, by="k")
    assert len(rerun.skipped) >= 3
    assert {e.id for e in new} <= {s.existing for s in rerun.skipped}
    final = load_corpus(tiny_corpus)
    assert len({e.id for e in final.entries}) == len(final.entries)
    assert len(final.entries) == 5 + 3 + len(rerun.created)
    record(
        AREA,
        "ingest SIGKILLed after moving 3 drafts into place",
        1,
        f"every file whole (corpus validates); the 3 moved drafts stay drafts, never served; a rerun added the "
        f"other {len(rerun.created)} and skipped the 3 as already ingested, no duplicates; "
        f"{len(staging)} hidden staging folder(s) (.ingest-*) left in the corpus root, ignored by the loader",
    )
