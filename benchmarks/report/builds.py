"""The builds section: full and incremental builds, and their memory."""

from __future__ import annotations

from typing import Any

from benchmarks.report.format import SYSTEM_LABELS, fmt, get, table


def build_section(results: dict[str, Any]) -> list[str]:
    builds = results.get("builds")
    pipelines = results.get("pipelines") or {}
    lines = ["## Index build", ""]
    if not isinstance(builds, dict) or "full" not in builds:
        lines += [f"Builds not measured: {get(builds, 'error') or 'section not run'}.", ""]
    else:
        unchanged = builds["incremental_no_change"]
        lines += [
            f"`build_index` on a temporary copy of the corpus ({builds['entries']} entries, "
            f"{builds['chunks']} chunks), each build in a new process; times exclude loading the model "
            f"(median {fmt(builds['model_load']['median_s'])} s).",
            "",
            table(
                ["build", "median s", "min s", "max s", "runs", "chunks embedded"],
                [
                    [
                        "full",
                        builds["full"]["build"]["median_s"],
                        builds["full"]["build"]["min_s"],
                        builds["full"]["build"]["max_s"],
                        builds["full"]["build"]["n"],
                        builds["full"]["runs"][0]["embedded"],
                    ],
                    [
                        "incremental, one entry added",
                        builds["incremental_one_entry"]["build"]["median_s"],
                        builds["incremental_one_entry"]["build"]["min_s"],
                        builds["incremental_one_entry"]["build"]["max_s"],
                        builds["incremental_one_entry"]["build"]["n"],
                        builds["incremental_one_entry"]["runs"][0]["embedded"],
                    ],
                    [
                        "incremental, nothing changed",
                        unchanged["build_s"],
                        unchanged["build_s"],
                        unchanged["build_s"],
                        1,
                        unchanged["embedded"],
                    ],
                ],
            ),
            "",
            f"**Full / incremental = {fmt(builds['full/incremental'])}x.** An incremental build still embeds the "
            "background phrases used for no-match detection, reads the previous version and writes a whole new "
            f"one; with nothing changed that fixed cost is {fmt(unchanged['build_s'])} s"
            + (
                ", more than half of an incremental build: caching the background vectors by content hash would "
                "leave an incremental build little more than its new chunks."
                if unchanged["build_s"] > 0.5 * builds["incremental_one_entry"]["build"]["median_s"]
                else "."
            ),
            "",
        ]
    rows = []
    ours_full = get(builds, "full", "build", "median_s")
    lessons = pipelines.get("lessons") or {}
    if ours_full is not None:
        rows.append(["lessons (full build)", lessons.get("chunks"), lessons.get("chars_embedded"), ours_full])
    for name in ("naive", "llamaindex-defaults", "llamaindex-e5-prefixes"):
        if name in pipelines:
            p = pipelines[name]
            rows.append([SYSTEM_LABELS[name], p["chunks"], p["chars_embedded"], p["build_s"]])
    if rows:
        lines += [
            "Building each pipeline from scratch (model already loaded):",
            "",
            table(["pipeline", "chunks", "characters embedded", "build s"], rows),
            "",
        ]
        lines += [
            "The e5 model reads at most 512 tokens per passage: LlamaIndex's 1,024-token chunks are cut, "
            "so part of each chunk's text is never embedded.",
            "",
        ]
    return lines
