"""`lessons serve` under load: concurrent clients against a real uvicorn on 127.0.0.1, optionally while
rebuilds swap index versions underneath it.

Everything is bounded: the server runs for the duration given plus start-up, each client stops at
the deadline, the rebuild loop stops at the deadline, and the server is terminated (then killed)
at the end whatever happened.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, summary_ms
from benchmarks.startup import free_port

__all__ = ["serve_load"]


def _env(serve: Path, model: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "LESSONS_CORPUS_DIR": str(serve / "corpus"),
        "LESSONS_INDEX_DIR": str(serve / "index"),
        "LESSONS_DATA_DIR": str(serve / "var"),
        "LESSONS_MODEL": model,
        # every client comes from 127.0.0.1: the per-client rate limit would measure itself, not the server
        "LESSONS_SERVE_RATE_LIMIT": "0",
        "LESSONS_SERVE_RELOAD_CHECK": "0.5",
        "HF_HUB_OFFLINE": "1",
    }


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    payload = json.dumps(body).encode("utf-8") if body is not None else None
    headers = {"content-type": "application/json"} if payload is not None else {}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float) -> float:
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"lessons serve exited with {process.returncode} before it was healthy")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            status, _ = _request(conn, "GET", "/health")
            conn.close()
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"lessons serve was not healthy within {timeout:.0f} s")


def _peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the process's peak resident memory so far (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


class _Clients:
    """``count`` client threads, each with its own keep-alive connection, asking questions until the deadline."""

    def __init__(self, port: int, questions: list[str], count: int, deadline: float) -> None:
        self.port = port
        self.questions = questions
        self.count = count
        self.deadline = deadline
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.statuses: dict[int, int] = {}
        self._lock = threading.Lock()

    def _client(self, number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        i = number
        while time.perf_counter() < self.deadline:
            question = self.questions[i % len(self.questions)]
            i += self.count
            started = time.perf_counter()
            try:
                status, body = _request(conn, "POST", "/ask", {"question": question, "k": 5})
                ok = status == 200 and "hits" in json.loads(body)
                problem = None if ok else f"HTTP {status}: {body[:200]!r}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                status, problem = -1, f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            elapsed = time.perf_counter() - started
            with self._lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if problem is None:
                    self.latencies.append(elapsed)
                else:
                    self.errors.append(problem)
        conn.close()

    def run(self) -> None:
        threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(self.count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, self.deadline - time.perf_counter() + 60))


def _rebuild_loop(serve: Path, model: str, seconds: float, log: Path) -> subprocess.Popen[bytes]:
    """A child process that loads the model once, then edits one entry and rebuilds until the deadline."""
    code = f"""
import sys, time
from pathlib import Path
from lessons.build import build_index
from lessons.embedding import load_embedder
from lessons.settings import Settings
settings = Settings(
    corpus_dir=Path({str(serve / "corpus")!r}), index_dir=Path({str(serve / "index")!r}), model={model!r}
)
embedder = load_embedder(settings)
print("READY", flush=True)
entry = sorted((settings.corpus_dir / "entries").rglob("*.yaml"))[0]
original = entry.read_text(encoding="utf-8")
builds = 0
stop = time.time() + {seconds!r}
try:
    while time.time() < stop:
        marker = "\\ntags: [benchmark-rebuild-" + str(builds) + "]\\n" if "\\ntags:" not in original else ""
        entry.write_text(original + marker if builds % 2 == 0 else original, encoding="utf-8")
        report = build_index(settings, embedder)
        builds += 1
        print("BUILT", report.manifest.version, round(report.seconds, 2), flush=True)
        time.sleep(3)
finally:
    entry.write_text(original, encoding="utf-8")
print("BUILDS", builds, flush=True)
"""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", code], env=_env(serve, model), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )


def _watch_versions(port: int, deadline: float, seen: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.perf_counter() < deadline:
        try:
            status, body = _request(conn, "GET", "/health")
            version = json.loads(body).get("index_version") if status == 200 else None
            if version and (not seen or seen[-1] != version):
                seen.append(version)
        except (OSError, http.client.HTTPException, ValueError):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        time.sleep(0.5)
    conn.close()


def serve_load(
    serve: Path,
    model: str,
    questions: list[str],
    *,
    clients: int = 32,
    seconds: float = 60.0,
    rebuild: bool = False,
    work: Path,
) -> dict[str, Any]:
    """Run ``clients`` concurrent clients for ``seconds`` against `lessons serve`; figures and errors."""
    copy = work / ("serve-rebuild" if rebuild else "serve-load")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(serve / "corpus", copy / "corpus")
    shutil.copytree(serve / "index", copy / "index", ignore=shutil.ignore_patterns("build.lock"))
    port = free_port()
    log = work / f"{copy.name}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "lessons.cli", "serve", "--port", str(port), "--log-level", "warning"],
            env=_env(copy, model),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    builder: subprocess.Popen[bytes] | None = None
    try:
        ready_s = _wait_healthy(port, server, timeout=120)
        rebuild_log = work / f"{copy.name}-builds.log"
        if rebuild:
            builder = _rebuild_loop(copy, model, seconds, rebuild_log)
            waited = time.perf_counter()  # the builder loads its model first, so the swaps fall in the window
            while "READY" not in rebuild_log.read_text(encoding="utf-8", errors="replace"):
                if builder.poll() is not None or time.perf_counter() - waited > 300:
                    raise RuntimeError(f"the rebuild process did not get ready; see {rebuild_log}")
                time.sleep(0.5)
        deadline = time.perf_counter() + seconds
        seen: list[str] = []
        watcher = threading.Thread(target=_watch_versions, args=(port, deadline, seen), daemon=True)
        watcher.start()
        crowd = _Clients(port, questions, clients, deadline)
        started = time.perf_counter()
        crowd.run()
        elapsed = time.perf_counter() - started
        watcher.join(15)
        peak = _peak_rss_mb(server.pid)
        builds = None
        if builder is not None:
            builder.wait(timeout=300)
            built = [line for line in rebuild_log.read_text(encoding="utf-8").splitlines() if line.startswith("BUILT")]
            builds = len(built)
        stats = summary_ms(crowd.latencies)
        return {
            "clients": clients,
            "seconds": round(elapsed, 1),
            "requests": len(crowd.latencies) + len(crowd.errors),
            "errors": len(crowd.errors),
            "error_examples": crowd.errors[:5],
            "statuses": {str(k): v for k, v in sorted(crowd.statuses.items())},
            "throughput_rps": round(len(crowd.latencies) / elapsed, 1) if elapsed else None,
            "p50_ms": stats.get("median_ms"),
            "p95_ms": stats.get("p95_ms"),
            "server_ready_s": round(ready_s, 2),
            "server_peak_rss_mb": peak,
            "rebuilds_completed": builds,
            "versions_served": len(seen),
        }
    finally:
        for process in (builder, server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
