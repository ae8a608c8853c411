"""Every regular expression in lessons, tried with adversarial input of the maximum size it can see.

The audit has two halves. A census reads the source: every pattern must be compiled at module
level (or in a listed factory), so none hides inline; and every compiled pattern found in the
modules must have an entry in CASES below, saying the largest input it can see and the inputs
most likely to make it backtrack (long runs of the characters it repeats, ended by a character
that makes the match fail). Then each pattern runs on those inputs in a forked child under a CPU
limit: a pattern that backtracks quadratically or worse is killed by the kernel and the test fails.
The fast test uses 100 KB inputs (a quadratic pattern needs tens of seconds there); the slow test
uses the maximum size.
"""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import re
import resource
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import lessons
from lessons.ingest import IngestLimits
from lessons.settings import Settings
from lessons.unigram import MAX_TOKENIZER_BYTES
from lessons.yamlio import MAX_YAML_BYTES
from tests.reliability_report import record

pytestmark = pytest.mark.heavy

SRC = Path(lessons.__file__).resolve().parent
UPLOAD = IngestLimits().max_bytes  # a report's text (25 MB): ingest, coverage, text processing
ENTRY = MAX_YAML_BYTES  # an entry file or a Markdown entry (1 MB): curation, answering, chunking, the app
QUESTION = Settings().max_question_chars  # a question (2,000 characters)
FAST_SIZE = 100_000
CPU_SECONDS = 10
FACTORIES = {
    "lessons.search._glossary_patterns": "the glossary's terms, escaped",
    "lessons.ingest.parsing._area_patterns": "the area names, escaped",
}
RE_FUNCTIONS = {"search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}

Shape = tuple[str, str, str]  # prefix, unit repeated to the size, suffix


@dataclass(frozen=True)
class Case:
    """The largest input a pattern sees, how it is applied, and the shapes likely to make it backtrack."""

    size: int
    how: str  # how the code applies it: "search" (at every position: search, sub, split, findall), "match", "fullmatch"
    shapes: tuple[Shape, ...]


def _case(size: int, *shapes: Shape, anchored: bool = False, full: bool = False) -> Case:
    return Case(size, "fullmatch" if full else "match" if anchored else "search", shapes)


CASES: dict[str, Case] = {
    "lessons.answering.escaping._MD_INLINE": _case(ENTRY, ("", "www.", ""), ("", "::", ""), ("", "*_[", "")),
    "lessons.answering.escaping._MD_LINE_START": _case(ENTRY, ("", "1", "x"), ("", "-", "")),
    "lessons.answering.escaping.BLANK_LINES": _case(ENTRY, ("\n", " ", "x"), ("", "\n \t", "x"), ("", "\n\n", "")),
    "lessons.answering.followups._FOLLOWUP_START": _case(
        UPLOAD, ("hvad med", " ", "x"), ("", "og ", ""), anchored=True
    ),
    "lessons.answering.followups._SECTOR_PATTERNS[0]": _case(UPLOAD, ("", "kommun", ""), ("", "municipal", "!")),
    "lessons.answering.followups._SECTOR_PATTERNS[1]": _case(UPLOAD, ("", "region", ""), ("", "regio", "x")),
    "lessons.answering.followups._SECTOR_PATTERNS[2]": _case(UPLOAD, ("", "cross-", ""), ("", "tværkommunal", "")),
    "lessons.answering.overview._FIELD_PREFIX": _case(
        ENTRY, ("Udfordring:", " ", "x"), ("", "udfordring", ""), anchored=True
    ),
    "lessons.chunking._PARAGRAPHS": _case(ENTRY, ("\n", " ", "x"), ("", "\n \t", "x"), ("", "\n\n", "")),
    "lessons.chunking._SENTENCES": _case(ENTRY, (".", " ", "x"), ("", ". ", ""), ("", "!\n", "")),
    "lessons.curation._ENTRY_ID": _case(ENTRY, ("", "a", "!"), ("", "a-", ""), full=True),
    "lessons.curation._HISTORY": _case(  # tried on the first 600 characters of a history line
        600, ("2026 edited by ", "a", ":x"), ("x", " ", ""), ("2026 created by ", ": ", ""), anchored=True
    ),
    "lessons.roles.NAME_PATTERN": _case(ENTRY, ("", "a", "!"), ("", "a.", ""), full=True),
    "lessons.roles.PERSON_PATTERN": _case(ENTRY, ("", "a ", "!"), ("", "a'", "_"), full=True),
    "lessons.roles._VIA": _case(600, ("", "a", " (via x"), ("", " (via ", ""), ("a", " ", "(via b)x"), anchored=True),
    "lessons.curation._FRONT_MATTER": _case(
        ENTRY, ("---\n", "--- \t\n", "x"), ("---\n", "a\n", ""), ("---\n", "---", "x"), ("---", " ", "x"), anchored=True
    ),
    "lessons.embedding._FAKE_WORD": _case(ENTRY, ("", "a", "!"), ("", "a!", "")),
    "lessons.ingest.parsing._AREA_TOKEN": _case(UPLOAD, ("", "a-", "!"), ("", "-", "")),
    "lessons.ingest.parsing._BULLET_GLYPHS": _case(
        UPLOAD, ("", " ", "x"), ("", " \u2022", "x"), ("-", " ", ""), ("", "\t", "-x"), anchored=True
    ),
    "lessons.ingest.parsing._COMPLETED_PREFIX": _case(UPLOAD, ("afsluttet projekt:", " ", "x"), anchored=True),
    "lessons.ingest.parsing._DATE_LINE": _case(  # only lines of at most 60 characters are tried
        60, ("publiceret", " ", "x"), ("", "1", ""), ("1. ", "januar", ""), ("", "1-1-", "x"), anchored=True
    ),
    "lessons.ingest.parsing._INLINE_LABEL": _case(
        UPLOAD, (".", " ", "Udfordring x"), ("", ". ", ""), (".", " ", "**Budget"), ("", ". Budget ", "")
    ),
    "lessons.ingest.parsing._FOOTER": _case(
        UPLOAD, ("side", " ", "1x"), ("1", " ", "af 2x"), ("page", " ", "x"), ("", "1", ""), anchored=True
    ),
    "lessons.ingest.parsing._GENITIVE": _case(UPLOAD, ("", "Kommunes", "x"), ("", "Nord", ""), ("", "s", "")),
    "lessons.ingest.parsing._GRANT": _case(
        UPLOAD, ("", "1", " mio"), ("", "1,", "x"), ("", "1,1", " mio. k"), ("", "12 mio.", "")
    ),
    "lessons.ingest.parsing._LABEL": _case(
        UPLOAD, ("", "*", "x"), ("*", " ", "Udfordringx"), ("Budget", " ", "x"), ("Budget:", " ", "*x"), anchored=True
    ),
    "lessons.ingest.parsing._LIST_ITEM": _case(UPLOAD, ("", "1", ""), anchored=True),
    "lessons.ingest.parsing._ORG": _case(
        UPLOAD,
        ("", "Aa", "!"),
        ("Region", " ", "x"),
        ("", "A ", ""),
        ("", "Region A", "x"),
        ("Aalborg", " ", "Kommune"),
        ("", "Regionshospital ", "x"),
    ),
    "lessons.ingest.parsing._PERIOD": _case(UPLOAD, ("", "fra primo 2020 til ", "x"), ("", "fra ", "")),
    "lessons.ingest.parsing._REGION_GENITIVE": _case(
        UPLOAD, ("Region ", "a", "x"), ("Region ", "s", "x"), anchored=True
    ),
    # slugify reads at most the first 5,000 characters of a title
    "lessons.models._SLUG_CODE": _case(
        5000, ("", "<script>", ""), ("<script>", "a", "</script  x"), ("", "<style x>a</", "")
    ),
    "lessons.models._SLUG_TAG": _case(5000, ("", "<", "x"), ("", "<a", ""), ("<", "a", "")),
    "lessons.models._SLUG_WORD": _case(5000, ("", "a", "!"), ("", "a!", "")),
    # the tokenizer: its own tokenizer.json's normaliser classes (made by lessons.convert), and every question
    "lessons.unigram._CLASS_ITEM": _case(MAX_TOKENIZER_BYTES, ("", "\\x{41}-", "!"), ("", "\\x{", "")),
    "lessons.unigram._SPACES": _case(QUESTION, ("a", " ", "b"), ("", " x", "")),
    "lessons.text._ACRONYM_BREAK": _case(UPLOAD, ("A-", "\t", "\n!"), ("A-\n", " \n", "!"), ("", "A-\n", "")),
    "lessons.text._BROKEN_WORD": _case(UPLOAD, ("a-", " ", "\n!"), ("a-\n", "\n", "!"), ("", "a-", "")),
    "lessons.text._BULLETS": _case(UPLOAD, ("", "\u2022", ""), ("", "a", "")),
    "lessons.text._NON_WORD": _case(UPLOAD, ("", "!", "a"), ("", "a!", "")),
    "lessons.text._PUNCT": _case(UPLOAD, ("", "!", ""), ("", "a!", "")),
    "lessons.text._SENTENCE_END": _case(UPLOAD, (".", " ", "a"), ("", ". ", "a"), ("", ".\n", "")),
    "lessons.text._SPACES": _case(UPLOAD, ("", " \t\u00a0", "x")),
    "lessons.text._TOKEN": _case(UPLOAD, ("", "a", "!")),
    "lessons.text._WHITESPACE": _case(UPLOAD, ("", " \n\t", "x")),
    "lessons.text._WORD": _case(UPLOAD, ("", "1,", ""), ("", "a.1", ""), ("", "1.1.", ""), ("", "a", "!")),
    "lessons.ui.render._SECTION_SEPARATOR": _case(ENTRY, ("", " ", "x"), ("", " –", "x"), ("", "\t–\t", "x")),
    # patterns made by factories: the generic shapes below, and a run of each pattern's first term
    "lessons.search._glossary_patterns": _case(QUESTION),
    "lessons.ingest.parsing._area_patterns": _case(UPLOAD),
}
GENERIC_UNITS = (" ", "\n", "\t", "a", "A", "1", "#", "-", ".", ",", ":", "*", "\u00a0")


def _modules() -> Iterator[str]:
    yield "lessons"
    for info in pkgutil.walk_packages([str(SRC)], prefix="lessons."):
        if not info.name.endswith(("__main__", ".worker_main")):
            yield info.name


def _assigned(module: object) -> set[str]:
    """Names a module assigns at its top level (not those it imports)."""
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    """Every compiled pattern the lessons modules define at top level, and those the listed factories make."""
    found: dict[str, re.Pattern[str]] = {}
    for name in sorted(_modules()):
        module = importlib.import_module(name)
        own = _assigned(module)
        for attr, value in sorted(vars(module).items()):
            if attr not in own:
                continue
            items = [(f"{name}.{attr}", value)]
            if isinstance(value, tuple):
                items = [(f"{name}.{attr}[{i}]", v[-1] if isinstance(v, tuple) else v) for i, v in enumerate(value)]
            for key, item in items:
                if isinstance(item, re.Pattern):
                    found[key] = item
    for factory in FACTORIES:
        module_name, function = factory.rsplit(".", 1)
        made = getattr(importlib.import_module(module_name), function)()
        for i, item in enumerate(made):
            found[f"{factory}[{i}]"] = item[0] if isinstance(item[0], re.Pattern) else item[-1]
    return found


def _case_for(key: str) -> Case:
    return CASES.get(key) or CASES[key.split("[", maxsplit=1)[0]]


def test_every_pattern_is_compiled_where_the_audit_sees_it() -> None:
    """No inline re.search/re.sub/...: every pattern is compiled at module level or in a listed factory."""
    inline: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {
            id(node): node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        module = "lessons." + ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
            ):
                continue
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            if node.func.attr in RE_FUNCTIONS:
                inline.append(f"{where}: re.{node.func.attr}(...) with an inline pattern")
            elif node.func.attr == "compile":
                parent = parents.get(id(node))
                while parent is not None and id(parent) not in functions:
                    parent = parents.get(id(parent))
                if parent is not None and f"{module}.{functions[id(parent)]}" not in FACTORIES:
                    inline.append(f"{where}: re.compile inside {functions[id(parent)]}(), not a listed factory")
    assert inline == []


def test_every_pattern_has_an_adversarial_case() -> None:
    """Each compiled pattern in lessons has a case in CASES, and CASES names no pattern that is gone."""
    patterns = _patterns()
    missing = sorted(key for key in patterns if key not in CASES and key.split("[")[0] not in CASES)
    assert missing == [], f"patterns without an adversarial case: {missing}"
    known = {key.split("[")[0] for key in patterns} | set(patterns)
    stale = sorted(key for key in CASES if key not in known)
    assert stale == [], f"cases for patterns that no longer exist: {stale}"


def _inputs(pattern: re.Pattern[str], case: Case, size: int, generic: bool = True) -> list[str]:
    shapes = list(case.shapes) + ([("", unit, "\x01") for unit in GENERIC_UNITS] if generic or not case.shapes else [])
    first = re.sub(r"\\(.)", r"\1", pattern.pattern.split("(?:", 1)[-1].split("|")[0])  # a factory's first term
    if first.isprintable() and first:
        shapes += [("", first, "x"), ("", first[:-1], "\x01"), ("", first + " ", "")]
    out = []
    for prefix, unit, suffix in shapes:
        body = size - len(prefix) - len(suffix)
        out.append(prefix + (unit * (body // len(unit) + 1))[:body] + suffix)
    return out


def _run_bounded(pattern: re.Pattern[str], texts: list[str], how: str) -> tuple[str, float]:
    """Apply the pattern to each text in a forked child with a CPU limit of CPU_SECONDS per text.

    Returns ('ok'|'killed'|'failed', seconds).
    """
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            budget = CPU_SECONDS * len(texts)
            resource.setrlimit(resource.RLIMIT_CPU, (budget, budget + 1))
            for text in texts:
                if how == "match":
                    pattern.match(text)
                elif how == "fullmatch":
                    pattern.fullmatch(text)
                else:
                    for _match in pattern.finditer(text):
                        pass
        except BaseException:
            code = 1
        os._exit(code)
    deadline = time.monotonic() + 10 * CPU_SECONDS * len(
        texts
    )  # a backstop on a busy machine: CPU time is what is limited
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "killed", time.perf_counter() - start
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if os.WIFSIGNALED(status):
        return "killed", seconds
    return ("ok" if os.WEXITSTATUS(status) == 0 else "failed"), seconds


def _check(key: str, pattern: re.Pattern[str], size_of: Callable[[Case], int], generic: bool) -> tuple[int, int]:
    case = _case_for(key)
    size = size_of(case)
    texts = _inputs(pattern, case, size, generic)
    outcome, _seconds = _run_bounded(pattern, texts, case.how)
    assert outcome == "ok", f"{key} ({pattern.pattern!r}) {outcome}: over {CPU_SECONDS} s CPU per {size:,}-char input"
    return size, len(texts)


PATTERN_KEYS = sorted(_patterns())


@pytest.mark.parametrize("key", PATTERN_KEYS)
def test_pattern_is_linear_on_adversarial_input(key: str) -> None:
    """100 KB runs of the characters the pattern repeats, ended to fail: done within the CPU limit (no backtracking)."""
    size, count = _check(key, _patterns()[key], lambda case: min(case.size, FAST_SIZE), generic=True)
    record(
        "Regular expressions",
        f"{key}: adversarial inputs of {size:,} characters",
        count,
        f"each finished within the CPU limit of {CPU_SECONDS} s per input",
    )


@pytest.mark.slow
@pytest.mark.parametrize("key", PATTERN_KEYS)
def test_pattern_is_linear_at_the_maximum_size(key: str) -> None:
    """Its crafted inputs at the largest size it can see (25 MB report, 1 MB entry, 2,000-char question)."""
    size, count = _check(key, _patterns()[key], lambda case: case.size, generic=False)
    record(
        "Regular expressions",
        f"{key}: adversarial inputs of the maximum size ({size:,} characters)",
        count,
        f"each finished within the CPU limit of {CPU_SECONDS} s per input",
    )
