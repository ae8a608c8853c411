"""Reliability figures: tests record what they tried; this script runs them and writes docs/reliability.md.

Each reliability test calls :func:`record` once per fault it tried, with the number of
cases and the behaviour it observed (not the behaviour it expected). That prints one
line, ``RELIABILITY: area=... | fault=... | cases=N | outcome=...``, which pytest shows
with ``-s``. Run ``python tests/reliability_report.py`` to run the reliability tests
(slow ones included), collect those lines and regenerate ``docs/reliability.md`` from
the real run; it exits non-zero when a test failed.
"""

from __future__ import annotations

import datetime as _dt
import platform
import re
import shutil
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
TEST_FILES = (
    "tests/test_reliability_build.py",
    "tests/test_reliability_index.py",
    "tests/test_reliability_concurrency.py",
    "tests/test_reliability_curation.py",
    "tests/test_reliability_ingest.py",
    "tests/test_hostile_input.py",
    "tests/test_regex_audit.py",
    "tests/test_hostile_uploads.py",
    "tests/test_offline.py",
    "tests/test_no_pickle.py",
    "tests/test_chunking.py",
)
PREFIX = "RELIABILITY: "

# How each area is tested (method, not figures: the figures come from the run).
AREA_NOTES = {
    "Crash during build (SIGKILL)": (
        "`lessons build` runs as a separate process with a tiny real sentence-transformers model (converted by "
        "`lessons.convert` from a synthetic 1-layer file). A fork server imports torch once; each run is a fresh "
        "process forked from it running the real CLI, and a slow test also kills the real console script. Kills "
        "are sent by the process itself at instrumented moments, or from outside at random times, on seeing the "
        "lock held, or on seeing a `.tmp-*` folder; each kill is classified by the phase log the run wrote."
    ),
    "Corrupt or foreign index": (
        "Files of the current version are damaged in place, versions of another model are copied in, CURRENT is "
        "garbled; with a previous good version present and without one. A spy on `faiss.read_index` checks that "
        "FAISS never opens a file whose checksum failed."
    ),
    "Concurrency": (
        "Reader threads answer questions while another process runs `lessons add`, `approve` and `build` with only "
        "two versions kept. Each answer is checked against the one version that produced it: its chunks exist "
        "there and its dense scores equal the fake embedder's vectors of that version's chunk texts."
    ),
    "Curation: wrong files, odd files, crashes and OS errors": (
        "Issue #12, tried as a hurried curator and as an attacker with write access to the corpus folder would. "
        "Curation commands run through the CLI against a corpus with a copied entry file, links, FIFOs and "
        "folders named like entries; a kind-changing edit is killed (a forked child exits without cleanup) before "
        "each of its file-system steps; OS errors are injected at fsync as the kernel reports them (ENOSPC, "
        "EROFS, EACCES). Each run compares every byte of the corpus and index before and after."
    ),
    "Regular expressions": (
        "A census of the source finds every compiled pattern (none may be inline); each is applied, as the code "
        "applies it, to long runs of the characters it repeats ended by a character that makes the match fail, in "
        "a forked child under a CPU limit. Sizes: 100 KB in the fast suite, and the largest input the pattern can "
        "see in the slow one (25 MB report, 1 MB entry file, 2,000-character question)."
    ),
    "Entry points with maximum-size adversarial input": (
        "Each way text gets in (`lessons add FILE.md|.yaml`, `lessons edit --body`, `lessons validate`, "
        "`lessons ingest`, the app's upload) gets files or fields of the maximum size made of the shapes that made "
        "patterns backtrack, run under a CPU limit."
    ),
    "Offline guarantee": (
        "The whole workflow runs in one subprocess inside `unshare -n` (or with `HF_HUB_OFFLINE=1` where that "
        "is unavailable), with an audit hook recording every host lookup and connection."
    ),
}

FIXED = (
    "`store`: a bit flip in `manifest.json` could go unnoticed or blame the wrong file; manifests (format 2) now "
    "carry their own sha256 (format 1 still loads), and fields of the wrong type are refused instead of crashing.",
    "`store`: `chunks.jsonl` was read with `splitlines()`, which also splits on U+2028 and U+0085 that JSON leaves "
    "unescaped: one entry with such a character made the freshly built version unreadable. Now split on `\\n`.",
    "`store`: a deeply nested `manifest.json` or `chunks.jsonl` raised RecursionError (a crash); now a clear "
    "'unreadable' message.",
    "`store`: a version pruned by a concurrent build while a reader loaded it raised FileNotFoundError; loading "
    "now restarts from the new CURRENT.",
    "`engine`/`store`: an index version of another model as CURRENT blocked every question even when an older "
    "version of the configured model existed; that version now serves, with a warning naming both models.",
    "`yamlio`: deeply nested YAML raised RecursionError (a crash); nesting is limited to 32 levels. `!!binary` "
    "values were accepted although the module said no binary; they are refused.",
    "Issue #12 `curation`: `edit`/`approve`/`retire` of a copied entry file (id differing from its name) overwrote "
    "the original and deleted the copy, exit 0. Curation now refuses a corpus `lessons validate` rejects and "
    "never writes a file other than the entry's own.",
    "Issue #12 `corpus`: a kind-changing edit killed between writing the new file and deleting the old one left "
    "two files with one id; the file is now renamed into place first, then replaced.",
    "Issue #12 `corpus`/`store`: entries were written `0600` and index versions `0700` (mkstemp/mkdtemp ignore "
    "the umask); they now get the modes the umask implies.",
    "Issue #12 `corpus`: symlinks were followed (validate echoed /etc/passwd lines), `/dev/zero` exhausted memory, "
    "a FIFO hung every command. Only regular files inside the corpus are read, opened with O_NOFOLLOW|O_NONBLOCK, "
    "checked with fstat and by size before reading; also for `lessons add FILE` and `lessons ingest`.",
    "Issue #12 `yamlio`: a key given twice passed and the first value was silently dropped; refused with its line.",
    "Issue #12: disk full, read-only or forbidden folders, a folder named `<id>.yaml` were 'internal error' "
    "(exit 3); now a message naming the path and the fix, exit 1, nothing half-written.",
    "Issue #12 `store`: a tampered header (checksums rewritten) could make FAISS or numpy allocate terabytes; the "
    "files' sizes and headers are compared with the manifest's counts first.",
    "Issue #12 regular expressions: the Markdown heading patterns backtracked quadratically on a line of '#' (an "
    "hour at 1 MB) and the grant pattern on a run of digits; headings are parsed without a pattern, the grant and "
    "section-separator patterns start only at the start of a run.",
    "Issue #12 `ingest`: the duplicate check compared every section with every entry inside the curation lock "
    "(minutes for 3,000 sections, other curators blocked); it now uses an inverted index outside the lock, "
    "re-checks only what changed under the lock, and the whole ingest keeps its time limit.",
)
_LINE = re.compile(
    r"RELIABILITY: area=(?P<area>.*?) \| fault=(?P<fault>.*?) \| cases=(?P<cases>\d+) \| outcome=(?P<outcome>.*)"
)


def record(area: str, fault: str, cases: int, outcome: str) -> None:
    """Print one reliability line: what was tried, how many cases, what was observed."""
    clean = " ".join(outcome.split()).replace("|", "/")
    print(f"\n{PREFIX}area={area} | fault={fault} | cases={cases} | outcome={clean}", flush=True)


def parse(output: str) -> OrderedDict[tuple[str, str], tuple[int, list[str]]]:
    """Aggregate reliability lines by (area, fault): summed cases and the distinct outcomes, in order."""
    rows: OrderedDict[tuple[str, str], tuple[int, list[str]]] = OrderedDict()
    for line in output.splitlines():
        match = _LINE.search(line)
        if not match:
            continue
        key = (match["area"].strip(), match["fault"].strip())
        cases, outcomes = rows.get(key, (0, []))
        outcome = match["outcome"].strip()
        rows[key] = (cases + int(match["cases"]), outcomes if outcome in outcomes else [*outcomes, outcome])
    return rows


def render(rows: OrderedDict[tuple[str, str], tuple[int, list[str]]], summary: str, command: str) -> str:
    """The Markdown report."""
    lines = [
        "# Reliability: faults and hostile inputs tried",
        "",
        "Issues #6 and #12: the assistant never serves a broken or mismatched index, never loses a curator's work,",
        "never reads what is not its own regular file, and never runs anything an input smuggles in. The tests",
        "below try to break it and stay in the suite.",
        "",
        "**This file is generated** by `python tests/reliability_report.py` from the tests' own output",
        "(`RELIABILITY:` lines printed by each test). The case counts and outcomes are what the run observed;",
        "regenerate it after changing the tests. Do not edit by hand.",
        "",
        f"- Run: {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, `unshare -n` {'available' if _unshare_works() else 'unavailable'}",
        f"- Command: `{command}`",
        f"- Result: {summary}",
        "",
    ]
    areas: OrderedDict[str, list[tuple[str, int, list[str]]]] = OrderedDict()
    for (area, fault), (cases, outcomes) in rows.items():
        areas.setdefault(area, []).append((fault, cases, outcomes))
    total = 0
    for area, faults in areas.items():
        lines += [f"## {area}", ""]
        if area in AREA_NOTES:
            lines += [AREA_NOTES[area], ""]
        lines += ["| Fault or input tried | Cases | Observed behaviour |", "| --- | ---: | --- |"]
        for fault, cases, outcomes in faults:
            total += cases
            lines.append(f"| {_cell(fault)} | {cases} | {_cell('; '.join(outcomes))} |")
        lines.append("")
    lines += [f"Total: {total} cases in {len(rows)} fault classes.", ""]
    lines += ["## Found and fixed while writing these tests", ""]
    lines += [f"- {item}" for item in FIXED]
    lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        done = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def main() -> int:
    """Run the reliability tests (slow ones too), parse their lines, write docs/reliability.md."""
    command = [sys.executable, "-m", "pytest", "-s", "-q", "-p", "no:cacheprovider", "-m", "", *TEST_FILES]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    tail = [line for line in output.splitlines() if re.search(r"\b(passed|failed|error)", line)]
    summary = tail[-1].strip("= ") if tail else f"pytest exited with {done.returncode}"
    rows = parse(output)
    shown = "python -m pytest -s -m '' " + " ".join(TEST_FILES)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(rows, summary, shown), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}: {len(rows)} fault classes; {summary}")
    if done.returncode != 0:
        print(output[-5000:], file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
