"""Side-by-side benchmarks of `lessons` against its floor, a naive pipeline and LlamaIndex (issue #7).

Run everything with ``make bench`` (or ``.venv/bin/python benchmarks/run.py``); see
``benchmarks/README.md``.
"""
