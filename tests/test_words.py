"""The one place for words: every key once, in both languages, and every key the code uses exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from lessons import words
from lessons.ingest.saving import SkipCause
from lessons.models import REVISABLE_FIELDS, TEXT_FIELDS, Area, Domain, Kind, ProjectStatus, ReviewState, Sector

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*sorted((ROOT / "src" / "lessons").rglob("*.py")), ROOT / "app.py"]


def _dict_keys(node: ast.Dict) -> list[str]:
    return [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]


def test_every_text_key_is_defined_once() -> None:
    """No key of TEXTS or of a vocabulary is written twice in words.py (a dict literal would keep the last)."""
    tree = ast.parse((ROOT / "src" / "lessons" / "words.py").read_text(encoding="utf-8"))
    checked = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = _dict_keys(node)
            assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
            checked += len(keys)
    assert checked > len(words.TEXTS)


@pytest.mark.parametrize("key", sorted(words.TEXTS))
def test_every_text_has_both_languages(key: str) -> None:
    """Each interface text has a non-empty Danish and English wording with the same placeholders."""
    da, en = words.TEXTS[key]
    assert da.strip() and en.strip()
    assert set(re.findall(r"{(\w+)}", da)) == set(re.findall(r"{(\w+)}", en))


@pytest.mark.parametrize(
    ("vocabulary", "values"),
    [
        ("kind", [m.value for m in Kind]),
        ("area", [m.value for m in Area]),
        ("sector", [m.value for m in Sector]),
        ("domain", [m.value for m in Domain]),
        ("status", [m.value for m in ProjectStatus]),
        ("state", [m.value for m in ReviewState]),
        ("field", list(TEXT_FIELDS)),
        ("entry_field", list(REVISABLE_FIELDS)),
        ("skip", [m.value for m in SkipCause]),
    ],
)
def test_every_vocabulary_value_is_labelled_in_both_languages(vocabulary: str, values: list[str]) -> None:
    """Each enum value has exactly one Danish and one English label, and no label is left over."""
    table = words.labels(vocabulary)
    assert list(table) == values
    for da, en in table.values():
        assert da.strip() and en.strip()


def test_label_and_t_pick_the_language() -> None:
    """label() and t() return Danish by default and English for 'en', filling placeholders."""
    assert words.label("area", Area.LAW, "da") == "Jura"
    assert words.label("area", "law", "en") == "Law"
    assert words.label("area", "unknown-value", "en") == "unknown-value"
    assert words.t("built", "en", version="v1") == "The index is built: version v1."
    assert words.t("built", "da", version="v1") == "Indekset er bygget: version v1."


def test_every_key_the_code_asks_for_exists() -> None:
    """Every literal key passed to t(), label(), page_start(), Said() or an error's worded() anywhere in the package is
    defined in words.py."""
    used: set[tuple[str, str]] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            worded = isinstance(node.func, ast.Attribute) and node.func.attr == "worded"  # SomeError.worded(key, …)
            if worded and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                used.add(("t", node.args[0].value))
            if not isinstance(node.func, ast.Name):
                continue
            first = node.args[0]
            if node.func.id == "t" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                used.add(("t", first.value))
            elif node.func.id == "label" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                used.add(("label", first.value))
            elif node.func.id == "Said" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                used.add(("t", first.value))  # a message kept as text, said from its words
            elif node.func.id == "page_start":  # a page's title and intro keys
                used.update(
                    ("t", a.value) for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
    assert len(used) > 50
    missing = [
        key
        for kind, key in used
        if (kind == "t" and key not in words.TEXTS) or (kind == "label" and key not in words.VOCABULARIES)
    ]
    assert missing == []


def test_no_other_module_defines_interface_texts() -> None:
    """No module besides words.py holds a (Danish, English) table: the words live in one place."""
    pair = re.compile(r'^\s+"\w+": \("[^"]*", "[^"]*"\),$', re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in SOURCES
        if path.name != "words.py" and len(pair.findall(path.read_text(encoding="utf-8"))) >= 3
    ]
    assert offenders == []


def test_no_placeholder_is_named_like_a_parameter_of_t() -> None:
    """No text has a {key} or {lang} placeholder: t(key, lang, **values) could not be given such a value."""
    named = sorted(k for k, pair in words.TEXTS.items() for text in pair if re.search(r"{(key|lang)}", text))
    assert named == []
