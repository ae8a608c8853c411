"""The package's shape: one-way imports between its modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Every lessons module and the lessons modules it imports (anywhere in the file, lazy imports too)."""
    modules = {_module_name(p): p for p in (SRC / "lessons").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found |= {t for t in targets if t in modules and t != name}
        # a package's __init__ importing its own submodules is how a package exposes them, not a cycle
        graph[name] = {t for t in found if not t.startswith(name + ".")}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_package_has_no_import_cycle() -> None:
    """No lessons module imports, directly or through others, a module that imports it back."""
    graph = _imports()
    assert "lessons.cli.common" in graph and "lessons.answering.overview" in graph
    assert _cycle(graph) is None


def test_the_cycle_check_finds_a_cycle() -> None:
    """The check itself reports a planted cycle (so a pass above means something)."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_core_never_imports_the_edges() -> None:
    """Library modules never import the CLI or the Streamlit pages; words imports nothing of ours."""
    graph = _imports()
    for name, targets in graph.items():
        if not name.startswith(("lessons.cli", "lessons.ui")):
            assert not {t for t in targets if t.startswith(("lessons.cli", "lessons.ui"))}, name
    assert graph["lessons.words"] == set()


def _hand_made_yaml_problems(source: str) -> list[int]:
    """Lines where an ``except YamlError as exc`` handler builds a Problem with ``line=exc.line`` by hand."""
    found: list[int] = []
    for handler in ast.walk(ast.parse(source)):
        if not isinstance(handler, ast.ExceptHandler) or handler.name is None or handler.type is None:
            continue
        if "YamlError" not in ast.unparse(handler.type):
            continue
        for node in ast.walk(handler):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("Problem"):
                own_line = f"{handler.name}.line"
                if any(k.arg == "line" and ast.unparse(k.value) == own_line for k in node.keywords):
                    found.append(node.lineno)
    return found


def test_yaml_errors_become_problems_through_their_own_method() -> None:
    """A YAML error is turned into a Problem (file, line, what) by YamlError.problem, never rebuilt by hand."""
    hand_made = {
        str(path.relative_to(SRC)): lines
        for path in sorted((SRC / "lessons").rglob("*.py"))
        if (lines := _hand_made_yaml_problems(path.read_text(encoding="utf-8")))
    }
    assert hand_made == {}


def test_the_yaml_problem_check_finds_a_hand_made_one() -> None:
    """The check itself reports a planted hand-made problem (so a pass above means something)."""
    planted = (
        "try:\n    load()\nexcept YamlError as exc:\n"
        "    raise CorpusError([Problem(file=f, message=exc.message, line=exc.line)])\n"
    )
    assert _hand_made_yaml_problems(planted) == [4]
    assert _hand_made_yaml_problems(planted.replace("line=exc.line", "line=exc.line + 1")) == []
