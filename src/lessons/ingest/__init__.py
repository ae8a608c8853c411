"""Ingesting a report (PDF, plain text or Markdown) into draft entries.

The upload is checked from its first bytes, not its name (:mod:`~lessons.ingest.upload`), then
extracted and parsed (:mod:`~lessons.ingest.extract`, :mod:`~lessons.ingest.parsing`) in a
subprocess with a time and memory limit (:mod:`~lessons.ingest.worker`), so a hostile or broken
file cannot hang or exhaust the app. Saving (:mod:`~lessons.ingest.saving`, which holds
``ingest_bytes`` and ``ingest_file``, the entry points):

Ids are deterministic (kind, title, and a hash of report, section and text), and
entries whose text already exists in the corpus are skipped, so ingesting a report
twice adds nothing. All drafts are written to a temporary folder first and moved
into place together; a failure leaves the corpus as it was.

This package's own namespace holds only what the sandboxed worker needs (checking, extracting,
parsing), so starting the worker loads no corpus or curation code.
"""

from __future__ import annotations

from lessons.ingest.extract import extract_pages
from lessons.ingest.parsing import Candidate, organisations, parse_report, report_title, suggest_areas, suggest_sector
from lessons.ingest.upload import MB, SUPPORTED, IngestLimits, check_upload, sniff

__all__ = [
    "MB",
    "SUPPORTED",
    "Candidate",
    "IngestLimits",
    "check_upload",
    "extract_pages",
    "organisations",
    "parse_report",
    "report_title",
    "sniff",
    "suggest_areas",
    "suggest_sector",
]
