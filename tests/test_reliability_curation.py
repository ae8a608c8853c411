"""Curation under attack and accident: copied files, odd files in the corpus, crashes mid-move, OS errors.

Each test tries what a hurried curator or an attacker with write access to the corpus
folder would do, and checks the observed outcome: no file other than the entry's own
is ever written, nothing is read that is not a regular file inside the corpus, every
refusal names the file (and line) and the fix, and the corpus stays byte-identical
when a step is refused or fails.
"""

from __future__ import annotations

import errno
import hashlib
import os
import resource
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lessons.build import build_index
from lessons.cli import app
from lessons.corpus import load_corpus, write_entry
from lessons.curation import add_entry, approve_entry, edit_entry
from lessons.embedding import FakeEmbedder
from lessons.errors import CorpusError
from lessons.settings import Settings
from lessons.store import read_current
from tests.reliability_report import record

pytestmark = pytest.mark.heavy

AREA_C = "Curation: wrong files, odd files, crashes and OS errors"
runner = CliRunner()

ORIGINAL = "entries/handling/handling-mdr-ce.yaml"
NEW_ENTRY = [
    "--kind",
    "advice",
    "--title",
    "Aftal dataadgang tidligt",
    "--body",
    "Aftal adgang til data med fagsystemets leverandør, før projektet går i gang, og skriv aftalen ned.",
    "--source-report",
    "Testrapport",
]


def _digest(root: Path) -> dict[str, str]:
    """Every file below root (links and FIFOs by what they are, not by content) and its sha256; locks aside."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.name.endswith(".lock"):
            continue
        mode = path.lstat().st_mode
        rel = str(path.relative_to(root))
        if stat.S_ISLNK(mode):
            out[rel] = "link->" + os.readlink(path)
        elif stat.S_ISREG(mode):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif not stat.S_ISDIR(mode) or path.suffix == ".yaml":
            out[rel] = f"mode {stat.S_IFMT(mode):o}"
    return out


@pytest.fixture
def cli(env_settings: Settings, use_fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI over the tiny corpus, with the fake embedder and a named curator."""
    monkeypatch.setenv("LESSONS_CURATOR", "Karen Kurator")
    return env_settings


# --- 1. a copied file whose id differs from its name ----------------------------------------------------


def _copy_with_new_title(root: Path) -> Path:
    """What a curator does to start a new entry: copy a file, rename it, change the title (not the id)."""
    copy = root / "entries" / "handling" / "handling-mdr-ce-kopi.yaml"
    text = (root / ORIGINAL).read_text(encoding="utf-8")
    copy.write_text(text.replace("title: CE-mærkning af algoritmen efter MDR", "title: Kopi om MDR"), "utf-8")
    return copy


TO_FINDING = ["--kind", "finding", "--body", "B", "--clear", "challenge", "--clear", "handling", "--clear", "outcome"]
COPY_COMMANDS: dict[str, list[str]] = {
    "edit COPY-ID --title": ["edit", "handling-mdr-ce-kopi", "--title", "Ny titel"],
    "edit ORIGINAL-ID --kind": ["edit", "handling-mdr-ce", *TO_FINDING],
    "approve COPY-ID": ["approve", "handling-mdr-ce-kopi"],
    "retire COPY-ID": ["retire", "handling-mdr-ce-kopi", "--reason", "forældet"],
    "retire ORIGINAL-ID": ["retire", "handling-mdr-ce", "--reason", "forældet"],
    "add a new entry": ["add", *NEW_ENTRY],
}


@pytest.mark.parametrize("case", list(COPY_COMMANDS))
def test_curation_refuses_a_corpus_with_a_copied_file_and_writes_nothing(cli: Settings, case: str) -> None:
    """A copy whose id differs from its file name: every curation command refuses, names it, and writes nothing."""
    _copy_with_new_title(cli.corpus_dir)
    before = _digest(cli.corpus_dir)
    result = runner.invoke(app, COPY_COMMANDS[case])
    assert result.exit_code == 1, result.output
    assert "handling-mdr-ce-kopi.yaml" in result.output and "must match the file name" in result.output
    assert "lessons validate" in result.output and "internal error" not in result.output
    assert _digest(cli.corpus_dir) == before
    record(
        AREA_C,
        f"entry file copied and retitled (id differs from its name), then `{case}`",
        1,
        "refused (exit 1) naming the copy and 'must match the file name'; corpus byte-identical",
    )


def test_validate_names_the_copied_file(cli: Settings) -> None:
    """`lessons validate` rejects the copy, naming it: the state curation refuses to act on."""
    _copy_with_new_title(cli.corpus_dir)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2 and "handling-mdr-ce-kopi.yaml [id]" in result.output


# --- 3. written files follow the umask ------------------------------------------------------------------


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_written_files_and_index_versions_follow_the_umask(settings: Settings, fake: FakeEmbedder, mask: int) -> None:
    """Entries (added, edited, moved) and index versions get the modes the umask implies, as an editor's would."""
    root = settings.corpus_dir
    with _umask(mask):
        entry, _ = add_entry(
            root,
            {
                "kind": "advice",
                "title": "Om umask",
                "body": "Filer skal kunne læses af appen.",
                "source": {"report": "R"},
            },
            by="K",
        )
        edit_entry(
            root, "handling-api-data", {"kind": "finding", "challenge": None, "handling": None, "body": "B"}, by="K"
        )
        approve_entry(root, "handling-api-data", by="E")  # the revision moves the file when approved
        build_index(settings, fake)
    files = [root / "entries" / "advice" / f"{entry.id}.yaml", root / "entries" / "finding" / "handling-api-data.yaml"]
    version = settings.index_dir / "versions" / str(read_current(settings.index_dir))
    assert {_mode(f) for f in files} == {0o666 & ~mask}
    assert _mode(version) == 0o777 & ~mask
    assert {_mode(f) for f in version.iterdir()} == {0o666 & ~mask}
    assert _mode(settings.index_dir / "CURRENT") == 0o666 & ~mask
    record(
        "Files we write",
        f"umask {mask:03o}: add, kind-changing edit, build",
        1,
        f"entry files {0o666 & ~mask:o}, index version folder {0o777 & ~mask:o}, its files {0o666 & ~mask:o} "
        "(as the umask implies; mkstemp/mkdtemp alone gave 600/700)",
    )


# --- 4. links, FIFOs and devices in the corpus ------------------------------------------------------------


def _run_cli(settings: Settings, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`lessons ARGS` in a subprocess, so a hang is a failed test, not a hung suite."""
    env = {
        **os.environ,
        "LESSONS_CORPUS_DIR": str(settings.corpus_dir),
        "LESSONS_INDEX_DIR": str(settings.index_dir),
        "LESSONS_DATA_DIR": str(settings.data_dir),
        "LESSONS_CURATOR": "Karen Kurator",
    }
    code = "import sys; from lessons.cli import app; sys.argv[0] = 'lessons'; app()"
    try:
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`lessons {' '.join(args)}` hung for {timeout:g} s")


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("id: advice-hemmelig\nkind: advice\ntitle: HEMMELIG-LINJE-42\nbody: x\n", encoding="utf-8")
    return secret


ODD_FILES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "symlink to a file outside the corpus": (
        lambda link, tmp: link.symlink_to(_secret(tmp)),
        "symbolic link",
    ),
    "symlink to /etc/passwd": (lambda link, tmp: link.symlink_to("/etc/passwd"), "symbolic link"),
    "symlink to /dev/zero": (lambda link, tmp: link.symlink_to("/dev/zero"), "symbolic link"),
    "FIFO named *.yaml": (lambda link, tmp: os.mkfifo(link), "FIFO"),
    "symlinked folder pointing outside": (
        lambda link, tmp: link.with_suffix("").symlink_to(_secret(tmp).parent, target_is_directory=True),
        "symbolic link",
    ),
    "folder named *.yaml": (lambda link, tmp: link.mkdir(), "folder named like an entry file"),
}


@pytest.mark.parametrize("case", list(ODD_FILES))
def test_validate_reads_only_regular_files_inside_the_corpus(settings: Settings, tmp_path: Path, case: str) -> None:
    """Links, FIFOs, device links and folders named *.yaml are refused by name, never read, never hang."""
    make, expected = ODD_FILES[case]
    target = settings.corpus_dir / "entries" / "advice" / "advice-odd.yaml"
    make(target, tmp_path)
    done = _run_cli(settings, "validate")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "advice-odd" in output and expected in output
    assert "HEMMELIG" not in output and "root:" not in output and "Traceback" not in output
    record(
        "Hostile entries and YAML",
        f"corpus file: {case}",
        1,
        f"`lessons validate` refused it by name ('{expected}'), exit 2, nothing read from it, no hang",
    )


NAMED_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a FIFO": (lambda path: (os.mkfifo(path), path)[1], "FIFO"),
    "a symlink to /dev/zero": (lambda path: (path.symlink_to("/dev/zero"), path)[1], "symbolic link"),
    "a symlink to /etc/passwd": (lambda path: (path.symlink_to("/etc/passwd"), path)[1], "symbolic link"),
    "/dev/zero itself": (lambda path: Path("/dev/zero"), "character device"),
    "a folder": (lambda path: (path.mkdir(), path)[1], "folder"),
}


@pytest.mark.parametrize("command", ["add", "ingest"])
@pytest.mark.parametrize("case", list(NAMED_FILES))
def test_add_and_ingest_read_only_regular_files(settings: Settings, tmp_path: Path, case: str, command: str) -> None:
    """`lessons add FILE` and `lessons ingest FILE` refuse a FIFO, device or link by name: no hang, nothing read."""
    make, expected = NAMED_FILES[case]
    path = make(tmp_path / ("ny.md" if command == "add" else "rapport.txt"))
    before = _digest(settings.corpus_dir)
    done = _run_cli(settings, command, str(path))
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert str(path) in output and expected in output
    assert "root:" not in output and "Traceback" not in output and "internal error" not in output
    assert _digest(settings.corpus_dir) == before
    record(
        "Hostile entries and YAML" if command == "add" else "Hostile uploads",
        f"`lessons {command} FILE` where FILE is {case}",
        1,
        f"refused (exit 1) naming it ('{expected}'); no hang, nothing read, corpus unchanged",
    )


@pytest.mark.parametrize("case", ["symlink to /etc/passwd", "FIFO named *.yaml"])
def test_curation_refuses_a_corpus_with_odd_files(cli: Settings, tmp_path: Path, case: str) -> None:
    """Curation commands refuse too, naming the file, and change nothing."""
    ODD_FILES[case][0](cli.corpus_dir / "entries" / "advice" / "advice-odd.yaml", tmp_path)
    before = _digest(cli.corpus_dir)
    result = runner.invoke(app, ["edit", "handling-mdr-ce", "--title", "Ny titel"])
    assert result.exit_code == 1 and "advice-odd.yaml" in result.output, result.output
    assert _digest(cli.corpus_dir) == before


def test_oversized_entry_file_is_refused_before_reading(settings: Settings) -> None:
    """A sparse 1 GB entry file is refused by its size from fstat: the process's peak memory does not grow by it."""
    big = settings.corpus_dir / "entries" / "advice" / "advice-big.yaml"
    with big.open("wb") as fh:
        fh.truncate(1 << 30)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(CorpusError) as caught:
        load_corpus(settings.corpus_dir)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert "advice-big.yaml" in str(caught.value) and "the limit is" in str(caught.value)
    assert grown_mb < 200, f"peak memory grew by {grown_mb:.0f} MB: the file was read"
    record(
        "Hostile entries and YAML",
        "corpus file: sparse 1 GB entry file",
        1,
        f"refused by its size before reading (peak memory grew {grown_mb:.0f} MB)",
    )


# --- 6. a crash during a kind-changing edit --------------------------------------------------------------

_MUTATIONS = ("replace", "rename", "unlink", "remove")


def _crash_before(n: int, step: Callable[[], object]) -> int:
    """Run ``step`` in a forked child that dies (os._exit, like SIGKILL: no cleanup) before its n-th file move."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            count = 0

            def wrap(real: Callable[..., object]) -> Callable[..., object]:
                def inner(*args: object, **kwargs: object) -> object:
                    nonlocal count
                    count += 1
                    if count == n:
                        os._exit(137)
                    return real(*args, **kwargs)

                return inner

            for name in _MUTATIONS:
                setattr(os, name, wrap(getattr(os, name)))
            step()
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_kind_changing_edit_killed_at_any_moment_leaves_one_file(tiny_corpus: Path, tmp_path: Path) -> None:
    """Killed before each file-system step of a kind change: the corpus validates, one file, old or new content."""
    edit_entry(  # an approved entry: the kind changes (and the file moves) when its revision is approved
        tiny_corpus,
        "handling-mdr-ce",
        {"kind": "finding", "challenge": None, "handling": None, "outcome": None, "body": "Flyttet"},
        by="K",
    )
    pristine = tmp_path / "pristine"
    shutil.copytree(tiny_corpus, pristine)
    outcomes: list[str] = []
    for n in range(1, 20):
        shutil.rmtree(tiny_corpus)
        shutil.copytree(pristine, tiny_corpus)
        code = _crash_before(n, lambda: approve_entry(tiny_corpus, "handling-mdr-ce", by="E"))
        corpus = load_corpus(tiny_corpus)  # raises if two files hold the id
        entry = corpus.by_id()["handling-mdr-ce"]
        found = sorted(p.name for p in (tiny_corpus / "entries").rglob("handling-mdr-ce.yaml"))
        assert found == ["handling-mdr-ce.yaml"]
        assert (entry.kind.value, code) in {("handling", 137), ("finding", 137), ("finding", 0)}
        edit_entry(tiny_corpus, "handling-mdr-ce", {"title": "Næste kommando virker"}, by="K")  # the next command works
        outcomes.append(f"{'killed' if code else 'finished'}: {entry.kind.value}")
        if code == 0:
            break
    assert outcomes[-1] == "finished: finding"
    record(
        AREA_C,
        "kill (no cleanup) before each file-system step of a kind-changing edit",
        len(outcomes),
        "; ".join(outcomes) + " — each time one file with the id, the corpus validates and the next edit works",
    )


# --- 8. duplicate YAML keys ---------------------------------------------------------------------------------

DUPLICATES: dict[str, tuple[Callable[[str], str], str]] = {
    "top-level key twice": (lambda text: text + "title: Skab overblik over data igen\n", "'title' is given twice"),
    "nested key twice": (
        lambda text: text.replace("section: Afsnit\n", "section: Afsnit\n  report: Anden rapport\n"),
        "'report' is given twice",
    ),
}


@pytest.mark.parametrize("case", list(DUPLICATES))
def test_duplicate_yaml_keys_are_refused_with_file_and_line(cli: Settings, case: str) -> None:
    """validate names file and line of the second key; edit refuses rather than silently drop the first value."""
    change, expected = DUPLICATES[case]
    path = cli.corpus_dir / "entries" / "advice" / "advice-data.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(change(original), encoding="utf-8")
    line = original.count("\n") + 1  # both changes add the second key as the last line
    before = _digest(cli.corpus_dir)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2
    assert f"entries/advice/advice-data.yaml:{line}" in result.output and expected in result.output
    edited = runner.invoke(app, ["edit", "advice-data", "--summary", "Ny"])
    assert edited.exit_code == 1 and expected in edited.output
    assert _digest(cli.corpus_dir) == before
    record(
        "Hostile entries and YAML",
        f"duplicate YAML key ({case})",
        1,
        f"validate: exit 2 naming file:line and '{expected}'; edit refused, file unchanged",
    )


def test_duplicate_keys_in_an_added_file_are_refused(cli: Settings, tmp_path: Path) -> None:
    """`lessons add FILE.yaml` with a key given twice names the file and the line."""
    new = tmp_path / "ny.yaml"
    new.write_text(
        "kind: advice\ntitle: En\nbody: Første tekst om data.\nbody: Anden tekst.\nsource:\n  report: R\n", "utf-8"
    )
    result = runner.invoke(app, ["add", str(new)])
    assert result.exit_code == 2 and f"{new}:4" in result.output and "'body' is given twice" in result.output


# --- 9. ordinary OS errors --------------------------------------------------------------------------------


def _fail_fsync(code: int) -> Callable[[int], None]:
    def fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    return fsync


OS_FAULTS: dict[str, tuple[int, str]] = {
    "disk full (ENOSPC)": (errno.ENOSPC, "disk is full"),
    "read-only file system (EROFS)": (errno.EROFS, "read-only"),
    "permission denied (EACCES)": (errno.EACCES, "permission denied"),
}
OS_COMMANDS: dict[str, list[str]] = {
    "add": ["add", *NEW_ENTRY],
    "edit": ["edit", "handling-mdr-ce", "--title", "Ny titel"],
    "edit --kind": ["edit", "handling-mdr-ce", *TO_FINDING],
    "approve": ["approve", "handling-mdr-ce"],
    "retire": ["retire", "handling-mdr-ce", "--reason", "forældet"],
    "build": ["build"],
}


@pytest.mark.parametrize("command", list(OS_COMMANDS))
@pytest.mark.parametrize("fault", list(OS_FAULTS))
def test_os_errors_get_a_message_naming_the_path_and_fix(
    cli: Settings, monkeypatch: pytest.MonkeyPatch, fault: str, command: str
) -> None:
    """fsync failing as on a full disk, read-only or forbidden folder: exit 1, path and fix named, nothing written."""
    code, expected = OS_FAULTS[fault]
    if command == "approve":
        runner.invoke(app, ["retire", "handling-mdr-ce", "--reason", "forældet"])
    if command == "build":
        assert runner.invoke(app, ["build"]).exit_code == 0
    before_corpus = _digest(cli.corpus_dir)
    before_index = _digest(cli.index_dir) if cli.index_dir.exists() else {}
    monkeypatch.setattr(os, "fsync", _fail_fsync(code))
    result = runner.invoke(app, OS_COMMANDS[command])
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    assert expected in result.output and "internal error" not in result.output
    where = str(cli.index_dir) if command == "build" else str(cli.corpus_dir / "entries")
    assert where in result.output
    assert _digest(cli.corpus_dir) == before_corpus
    if command == "build":
        assert _digest(cli.index_dir) == before_index
    record(
        AREA_C,
        f"OS error: {fault} during `lessons {command}`",
        1,
        f"exit 1 with '{expected}' and the path; corpus and index byte-identical, no temp files left",
    )


def test_a_folder_named_like_the_new_entry_is_named(cli: Settings) -> None:
    """A folder named <id>.yaml where a new entry would go: refused naming the folder and the fix."""
    folder = cli.corpus_dir / "entries" / "advice" / "advice-aftal-dataadgang-tidligt.yaml"
    folder.mkdir(parents=True)
    before = _digest(cli.corpus_dir)
    result = runner.invoke(app, ["add", *NEW_ENTRY])
    assert result.exit_code == 1 and "internal error" not in result.output
    assert "advice-aftal-dataadgang-tidligt.yaml" in result.output and "move or rename the folder" in result.output
    assert _digest(cli.corpus_dir) == before
    record(AREA_C, "a folder named <id>.yaml where the entry goes", 1, "exit 1 naming the folder and the fix")


def test_write_entry_into_a_folder_named_like_the_file_is_a_storage_error(tiny_corpus: Path) -> None:
    """Below the corpus check: the atomic write itself turns EISDIR into a message naming the folder."""
    entry = load_corpus(tiny_corpus).by_id()["advice-data"]
    target = tiny_corpus / "entries" / "advice" / "advice-data.yaml"
    target.unlink()
    target.mkdir()
    with pytest.raises(Exception, match="is a folder") as caught:
        write_entry(tiny_corpus, entry)
    assert type(caught.value).__name__ == "StorageError" and str(target) in str(caught.value)
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]
