"""Run the side-by-side benchmarks of issue #7 and write benchmarks/RESULTS.md and results.json.

    .venv/bin/python benchmarks/run.py                 # everything (about an hour on a busy 2-core box)
    .venv/bin/python benchmarks/run.py --quick         # a smoke run in minutes, written to benchmarks/out/
    .venv/bin/python benchmarks/run.py --sections quality latency --questions eval/questions.yaml

See benchmarks/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.cli import main

    sys.exit(main(sys.argv[1:]))
