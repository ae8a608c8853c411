"""Ingesting reports: sections and entries recognised, page numbers kept, no duplicates, hostile uploads refused."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from lessons import ingest
from lessons.corpus import load_corpus
from lessons.errors import IngestError, UploadError
from lessons.ingest import MB, IngestLimits, check_upload, organisations, parse_report, saving
from lessons.ingest.saving import ingest_bytes, ingest_file
from lessons.ingest.worker import handle
from lessons.models import ReviewState
from tests.conftest import REAL_CORPUS, REPORT

pytestmark = pytest.mark.heavy

PAGES = [
    [
        "Testrapport om kunstig intelligens 2023",
        "Forord",
        "Rapporten samler erfaringer fra de kommunale og regionale projekter, der i 2023 har",
        "afprøvet kunstig intelligens i driften, og den beskriver hvad projekterne har lært om",
        "data, jura og organisering undervejs i arbejdet.",
    ],
    [
        "Data",
        "Sikre adgang til data fra fagsystemer",
        "Udfordring: Projektet manglede data fra fagsystemet og kunne ikke træne investe-",
        "ringsfondens model i tide.",
        "Eksempel på håndtering: Aalborg Kommune fik leverandøren til at udstille et API,",
        "så data kunne hentes hver nat.",
        "Side 2 af 3",
    ],
    [
        "Appendiks",
        "Signaturprojekter igangsat i 2023 inden for klima",
        "Klimavarsling med kunstig intelligens",
        "Budget: Projektet modtager 2,5 mio. kr. og løber fra primo 2023 til ultimo 2024.",
        "Formål: Kraftig regn giver oversvømmelser, som kommunen vil varsle tidligere.",
        "Løsning: Algoritmen forudsiger vandstanden ud fra vejrprognoser og målinger.",
    ],
]


def make_pdf(pages: list[list[str]], *, encrypt: str | None = None) -> bytes:
    """A small PDF with one line of text per string, one page per list."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, encrypt=encrypt)
    for lines in pages:
        y = 800
        for line in lines:
            pdf.drawString(60, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.fixture(scope="module")
def report_candidates() -> list[ingest.Candidate]:
    """The shared report parsed once."""
    return parse_report([REPORT.read_text(encoding="utf-8")], "Status på signaturprojekterne 2022")


def test_shared_report_yields_projects_and_handling_examples(report_candidates: list[ingest.Candidate]) -> None:
    """The 2022 report gives ≥ 35 project descriptions, ≥ 15 handling examples and the 7 evaluations."""
    kinds = Counter(c.raw["kind"] for c in report_candidates)
    assert kinds["project"] >= 35
    assert kinds["handling"] >= 15
    assert kinds["evaluation"] == 7
    assert kinds["finding"] >= 10


def test_project_descriptions_get_budget_fields(report_candidates: list[ingest.Candidate]) -> None:
    """Budget / Formål / Løsning become purpose, solution, grant, period, status, domain and sector."""
    kol = next(c.raw for c in report_candidates if c.raw["title"].startswith("Prædiktion af forværring af KOL"))
    assert kol["kind"] == "project"
    assert kol["purpose"].startswith("Formålet er at forebygge forværringer hos KOL-patienter")
    assert kol["solution"].startswith("Algoritmen identificerer")
    assert (kol["grant_mio_kr"], kol["period"]) == (3.9, "primo 2020 – medio 2023")
    assert (kol["project_status"], kol["domain"], kol["sector"]) == ("ongoing", "health", "region")
    assert kol["source"]["section"].startswith("Signaturprojekter igangsat i 2020 inden for sundhed")
    done = next(c.raw for c in report_candidates if c.raw["title"] == "Kunstig intelligens i almen praksis")
    assert done["project_status"] == "completed"


def test_handling_examples_pair_challenge_and_handling(report_candidates: list[ingest.Candidate]) -> None:
    """Each 'Eksempel på håndtering' is paired with its 'Udfordring', with areas from the chapter."""
    handling = [c.raw for c in report_candidates if c.raw["kind"] == "handling"]
    telecare = next(h for h in handling if "TeleCare Nord" in h["handling"])
    assert telecare["challenge"].startswith("Flere signaturprojekter oplever udfordringer")
    assert telecare["areas"] == ["data"]
    assert "TeleCare Nord" in telecare["organisations"]
    assert not telecare["handling"].startswith("Eksempel")
    law = [h for h in handling if h["areas"] == ["law"]]
    assert len(law) >= 3
    assert all("Udfordring:" not in h["challenge"] for h in handling)


def test_line_break_hyphenation_is_removed(report_candidates: list[ingest.Candidate]) -> None:
    """Words broken across lines are joined; acronym compounds keep their hyphen."""
    text = json.dumps([c.raw for c in report_candidates], ensure_ascii=False)
    assert "investeringsfond" in text and "investe-" not in text
    assert "CE-mærkning" in text
    assert "-\n" not in text


def test_organisation_names_are_normalised() -> None:
    """Genitive forms and sentence-initial words are removed from organisation names."""
    text = "På Aarhus Universitetshospital og i Region Midtjyllands projekt samt Aalborg Kommunes"
    assert organisations(text) == ["Aarhus Universitetshospital", "Region Midtjylland", "Aalborg Kommune"]


def test_ingesting_the_report_twice_adds_nothing_the_second_time(tiny_corpus: Path) -> None:
    """Drafts are created once (deterministic ids); the second ingest skips every entry."""
    first = ingest_file(tiny_corpus, REPORT, by="Karen")
    assert first.counts()["project"] >= 35 and first.counts()["handling"] >= 15
    corpus = load_corpus(tiny_corpus)
    assert len(corpus.entries) == 5 + len(first.created)
    assert all(e.state is ReviewState.DRAFT for e in first.created)
    assert len(corpus.retrievable()) == 5
    assert f"created by Karen: draft; ingested from {REPORT.name} as a " in first.created[0].history[0]
    repeated = [s for s in first.skipped if s.reason.startswith("text already in")]
    second = ingest_file(tiny_corpus, REPORT, by="Karen")
    assert second.created == []
    assert len(second.skipped) == len(first.created) + len(first.skipped)
    assert sum(s.reason == "already ingested" for s in second.skipped) == len(first.created)
    assert len(repeated) <= 2, "only sections the report itself repeats are skipped the first time"
    assert len(load_corpus(tiny_corpus).entries) == len(corpus.entries)


def test_text_already_in_the_curated_corpus_is_skipped(tmp_path: Path) -> None:
    """Against the curated corpus, entries whose text exists are skipped with the entry named (dry run)."""
    root = tmp_path / "corpus"
    shutil.copytree(REAL_CORPUS, root)
    result = ingest_file(root, REPORT, by="k", dry_run=True)
    assert len(result.skipped) >= 80
    assert any(s.existing == "evaluation-aalborg-rehabilitering" for s in result.skipped)
    assert len(result.created) <= 10
    assert sorted(p.name for p in (root / "entries").rglob("*.yaml")) == sorted(
        p.name for p in (REAL_CORPUS / "entries").rglob("*.yaml")
    )


def test_pdf_pages_are_kept(tiny_corpus: Path) -> None:
    """A PDF (made with reportlab) is parsed in the worker; every draft records its page."""
    result = ingest_bytes(tiny_corpus, make_pdf(PAGES), "testrapport.pdf", by="k")
    assert result.pages == 3
    assert result.report == "Testrapport om kunstig intelligens 2023"
    by_kind = {e.kind.value: e for e in result.created}
    assert set(by_kind) == {"finding", "handling", "project"}
    assert by_kind["finding"].source.page == 1
    handling = by_kind["handling"]
    assert handling.source.page == 2
    assert (
        handling.challenge
        == "Projektet manglede data fra fagsystemet og kunne ikke træne investeringsfondens model i tide."
    )
    assert [a.value for a in handling.areas] == ["data"]
    assert handling.organisations == ["Aalborg Kommune"]
    assert handling.source.section == "Data – Sikre adgang til data fra fagsystemer"
    project = by_kind["project"]
    assert project.source.page == 3
    assert (project.grant_mio_kr, project.domain and project.domain.value) == (2.5, "climate")
    assert "Side 2 af 3" not in json.dumps([e.model_dump(mode="json") for e in result.created], ensure_ascii=False)


def test_markdown_report_uses_its_headings(tiny_corpus: Path) -> None:
    """In a Markdown report the '#' headings cut the sections and bold labels are recognised."""
    text = (
        "# Slutevaluering af talegenkendelse\n\n## Baggrund\n\nKommunen har i to år afprøvet talegenkendelse "
        "i hjemmeplejen for at mindske tiden til dokumentation og frigøre tid til borgerne, og den har målt "
        "effekten løbende.\n\n## Erfaringer med leverandøren\n\n**Udfordring:** Leverandøren kunne ikke "
        "levere danske fagudtryk.\n\n**Eksempel på håndtering:** Kommunen byggede selv en ordliste sammen "
        "med leverandøren.\n"
    )
    result = ingest_bytes(tiny_corpus, text.encode(), "evaluering.md", by="k")
    kinds = {e.kind.value: e for e in result.created}
    assert set(kinds) == {"finding", "handling"}
    assert kinds["handling"].challenge == "Leverandøren kunne ikke levere danske fagudtryk."
    assert kinds["handling"].title == "Erfaringer med leverandøren"
    assert result.report == "Slutevaluering af talegenkendelse"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "rapport.pdf", "is empty (0 bytes)"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(200), "rapport.pdf", "Linux executable"),
        (b"MZ\x90\x00\x03" + bytes(200), "rapport.pdf", "Windows executable"),
        (b"Dette er bare tekst, ikke en PDF.\n", "rapport.pdf", "is plain text without a PDF header"),
        (b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", "rapport.txt", "is a PDF, but its name says a text file"),
        (b"PK\x03\x04" + bytes(100), "rapport.docx", "as .pdf, .txt, .text, .md, .markdown"),
        (b"PK\x03\x04" + bytes(100), "rapport.txt", "ZIP archive"),
        (b"tekst\x00med\x00nul", "rapport.txt", "binary"),
        (b"\xff\xfe\xfa bad utf-8 \xff" * 3, "rapport.txt", "neither a PDF nor UTF-8"),
        (b"   \n\n  ", "rapport.md", "only white space"),
    ],
)
def test_uploads_are_checked_by_their_first_bytes(data: bytes, name: str, message: str) -> None:
    """An upload that is empty or not what its name claims gets a clear message before any parsing."""
    with pytest.raises(IngestError, match=re.escape(message)):
        check_upload(data, name)


def test_oversize_upload_is_refused(tiny_corpus: Path, tmp_path: Path) -> None:
    """A file over the size limit is refused, naming both sizes, and is not read whole."""
    big = tmp_path / "stor.txt"
    big.write_bytes(b"a" * 3000)
    with pytest.raises(IngestError, match=r"stor.txt is 2.9 kB; the limit is 2 kB"):
        ingest_file(tiny_corpus, big, by="k", limits=IngestLimits(max_bytes=2000))
    with pytest.raises(IngestError, match="the limit is"):
        check_upload(b"a" * 3000, "stor.txt", IngestLimits(max_bytes=2000))


def test_encrypted_pdf_is_refused(tiny_corpus: Path) -> None:
    """A password-protected PDF (reportlab can encrypt) gets a message saying so."""
    with pytest.raises(IngestError, match="encrypted"):
        ingest_bytes(tiny_corpus, make_pdf(PAGES, encrypt="hemmelig"), "låst.pdf", by="k")


def test_damaged_and_textless_pdfs_are_refused(tiny_corpus: Path) -> None:
    """A truncated PDF and a PDF without text are refused with a reason, not a traceback."""
    broken = make_pdf(PAGES)[:300]
    with pytest.raises(IngestError, match=r"brudt.pdf .*(cannot|no pages|damaged)"):
        ingest_bytes(tiny_corpus, broken, "brudt.pdf", by="k")
    with pytest.raises(IngestError, match="no extractable text"):
        ingest_bytes(tiny_corpus, make_pdf([[]]), "tom.pdf", by="k")


def test_slow_parsing_is_stopped(tiny_corpus: Path) -> None:
    """Parsing that exceeds the time limit is killed and reported."""
    with pytest.raises(IngestError, match=r"took longer than 0\.01 s"):
        ingest_bytes(tiny_corpus, make_pdf(PAGES), "langsom.pdf", by="k", limits=IngestLimits(seconds=0.01))


def test_parsing_has_a_memory_limit(tiny_corpus: Path) -> None:
    """A worker that needs more memory than allowed is stopped with a message naming the limit."""
    with pytest.raises(IngestError, match="more than 20 MB"):
        ingest_bytes(tiny_corpus, make_pdf(PAGES), "stor.pdf", by="k", limits=IngestLimits(memory_mb=20))


def test_failed_ingest_leaves_nothing_behind(tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If moving the drafts into place fails half-way, the moved ones are removed and staging is cleaned."""
    before = sorted(p.relative_to(tiny_corpus) for p in tiny_corpus.rglob("*") if p.is_file())
    calls = {"n": 0}
    real_move = saving._move

    def flaky(source: Path, target: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        real_move(source, target)

    monkeypatch.setattr(saving, "_move", flaky)
    with pytest.raises(IngestError, match=r"disk is full.*Nothing was saved"):
        ingest_file(tiny_corpus, REPORT, by="k")
    after = sorted(p.relative_to(tiny_corpus) for p in tiny_corpus.rglob("*") if p.is_file())
    assert [p for p in after if p.name != ".curation.lock"] == before
    assert not list(tiny_corpus.glob(".ingest-*"))


def test_worker_speaks_json_only() -> None:
    """The worker answers a request with JSON, and a malformed request with an error object."""
    data = base64.b64encode(b"Rapport\n\nUdfordring: x").decode()
    answer = handle({"format": "text", "data": data, "name": "r.txt"})
    assert answer["ok"] and answer["report"] == "Rapport" and answer["pages"] == 1
    done = subprocess.run(
        [sys.executable, "-m", "lessons.ingest.worker"], input=b"\x80not json", capture_output=True, check=False
    )
    reply = json.loads(done.stdout)
    assert reply["ok"] is False and "bad request" in reply["message"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=120),
            st.sampled_from(["Udfordring: x", "Eksempel på håndtering: y", "Budget: 1 mio. kr.", "Formål: f", "-"]),
        ),
        max_size=40,
    )
)
def test_parser_never_fails_on_arbitrary_text(lines: list[str]) -> None:
    """Any text parses into candidates without an exception, each with a kind, a title and a source."""
    for candidate in parse_report(["\n".join(lines)], "R", markdown=False):
        assert candidate.raw["kind"] in {"project", "handling", "evaluation", "finding"}
        assert candidate.raw["title"] and candidate.raw["source"]["report"] == "R"


UPLOAD_REFUSALS = [
    # (bytes, name, limit in bytes, the Danish text, the English text)
    (b"", "tom.pdf", None, "tom.pdf er tom (0 byte)", "tom.pdf is empty (0 bytes)"),
    (b"a" * 3000, "stor.txt", 2000, "stor.txt fylder 2,9 kB; grænsen er 2 kB", "stor.txt is 2.9 kB; the limit is 2 kB"),
    (
        b"a" * 2001,
        "lige.txt",
        2000,
        "lige.txt fylder 2.001 byte; grænsen er 2.000 byte",
        "lige.txt is 2,001 bytes; the limit is 2,000 bytes",
    ),
    (
        b"x",
        "rapport.docx",
        None,
        "upload rapporten rapport.docx som .pdf, .txt, .text, .md, .markdown (ikke .docx)",
        None,
    ),
    (b"x", "README", None, "(ikke en fil uden endelse)", "(not a file without extension)"),
    (
        b"\x7fELF\x02" + bytes(100),
        "rapport.pdf",
        None,
        "rapport.pdf er et Linux-program (ELF), ikke en rapport, selv om navnet siger en PDF",
        "rapport.pdf is a Linux executable (ELF), not a report, though its name says a PDF",
    ),
    (
        b"PK\x03\x04" + bytes(100),
        "rapport.md",
        None,
        "rapport.md er et ZIP-arkiv (det er en Word-, Excel- eller PowerPoint-fil også), ikke en rapport, selv om "
        "navnet siger en Markdown-fil",
        "rapport.md is a ZIP archive (a Word, Excel or PowerPoint file is one), not a report, though its name says "
        "a Markdown file",
    ),
    (
        b"Bare tekst.\n",
        "rapport.pdf",
        None,
        "rapport.pdf er almindelig tekst uden PDF-hoved, men navnet siger en PDF; omdøb den til .txt",
        "rapport.pdf is plain text without a PDF header, but its name says a PDF; rename it .txt",
    ),
    (
        b"%PDF-1.4\n",
        "rapport.txt",
        None,
        "rapport.txt er en PDF, men navnet siger en tekstfil; omdøb den til .pdf",
        "rapport.txt is a PDF, but its name says a text file; rename it .pdf",
    ),
    (b"ok\n" * 2000 + b"\xff\xfe" * 10, "latin.txt", None, "(uforståelig byte ved position 6.000)", "byte at 6,000"),
    (b"  \n\t", "tom.md", None, "tom.md indeholder kun blanktegn", "tom.md holds only white space"),
]


@pytest.mark.parametrize(("data", "name", "limit", "da", "en"), UPLOAD_REFUSALS, ids=lambda v: str(v)[:20])
def test_upload_refusals_name_the_file_and_the_fault_in_both_languages(
    data: bytes, name: str, limit: int | None, da: str, en: str | None
) -> None:
    """Each refusal before parsing is an UploadError with a code: Danish and English name the file and what is
    wrong (size and limit, what the name says and what the bytes are); str() is the English."""
    limits = IngestLimits(max_bytes=limit) if limit else None
    with pytest.raises(UploadError) as caught:
        check_upload(data, name, limits)
    error = caught.value
    assert da in error.describe("da")
    assert en is None or en in error.describe("en")
    assert str(error) == error.describe("en") != error.describe("da")
    assert error.name == name and "{" not in error.describe("da")


def test_an_upload_refusal_shortens_a_hostile_name() -> None:
    """A file name of 100,000 characters is shown at most 120 characters long, in both languages."""
    with pytest.raises(UploadError) as caught:
        check_upload(b"", "x" * 100_000 + ".pdf")
    assert len(caught.value.describe("da")) < 200 and "…" in caught.value.describe("en")


def test_an_oversized_file_on_disk_is_refused_with_sizes_in_words(tiny_corpus: Path, tmp_path: Path) -> None:
    """ingest_file refuses a file over the limit by its size on disk with the same UploadError as an upload."""
    big = tmp_path / "stor.pdf"
    big.write_bytes(b"%PDF-" + bytes(3 * MB))
    with pytest.raises(UploadError) as caught:
        ingest_file(tiny_corpus, big, by="k", limits=IngestLimits(max_bytes=2 * MB))
    assert caught.value.describe("da") == "stor.pdf fylder 3 MB; grænsen er 2 MB"


def _refusal(tiny_corpus: Path, data: bytes, name: str, limits: IngestLimits | None = None) -> UploadError:
    """The UploadError an ingest of ``data`` as ``name`` ends with."""
    with pytest.raises(UploadError) as caught:
        ingest_bytes(tiny_corpus, data, name, by="k", limits=limits)
    return caught.value


def test_parse_refusals_are_worded_in_both_languages(tiny_corpus: Path) -> None:
    """What the sandboxed parser and the ingest's limits refuse comes back with its code: the file and the fault in
    Danish and English, the English what the CLI always printed."""
    locked = _refusal(tiny_corpus, make_pdf(PAGES, encrypt="hemmelig"), "låst.pdf")
    assert str(locked) == "the PDF låst.pdf is encrypted (password-protected); save an unprotected copy and upload that"
    assert locked.describe("da").startswith("PDF'en låst.pdf er krypteret (beskyttet med adgangskode)")
    textless = _refusal(tiny_corpus, make_pdf([[]]), "tom.pdf")
    assert textless.describe("da").startswith("PDF'en tom.pdf har ingen tekst, der kan trækkes ud")
    many = _refusal(tiny_corpus, make_pdf(PAGES), "mange.pdf", IngestLimits(max_pages=2))
    assert many.describe("da") == "PDF'en mange.pdf har 3 sider; grænsen er 2"
    assert str(many) == "the PDF mange.pdf has 3 pages; the limit is 2"
    slow = _refusal(tiny_corpus, make_pdf(PAGES), "langsom.pdf", IngestLimits(seconds=0.01))
    assert "tog mere end 0,01 s" in slow.describe("da") and "took longer than 0.01 s" in str(slow)
    assert "took" not in slow.describe("da")


def test_a_worker_answer_is_checked_before_it_is_worded() -> None:
    """A refusal read back from the worker becomes its UploadError only with a known code and plain values that fill
    its words; anything else says reading the file failed, with the worker's message bounded, in either language."""
    from lessons.ingest.worker import _answered_refusal

    good = _answered_refusal(
        {"ok": False, "code": "pdf_too_many_pages", "values": {"pages": 9, "max_pages": 2}}, "r.pdf"
    )
    assert isinstance(good, UploadError) and good.describe("da") == "PDF'en r.pdf har 9 sider; grænsen er 2"
    for answer in (
        {"code": "no_such_code", "values": {}, "message": "x"},
        {"code": "pdf_too_many_pages", "values": {"pages": 9}, "message": "x"},  # a value missing
        {"code": "pdf_too_many_pages", "values": {"pages": [9], "max_pages": 2}, "message": "x"},
        {"code": "pdf_no_pages", "values": {"name": "other.pdf"}, "message": "x"},
        {"code": "pdf_no_pages", "values": "nonsense", "message": "y" * 10_000},
    ):
        error = _answered_refusal({"ok": False, **answer}, "r.pdf")
        assert isinstance(error, UploadError) and error.code == "read_failed" and error.name == "r.pdf"
        assert str(error).startswith("reading r.pdf failed (") and len(str(error)) < 250
        assert error.describe("da").startswith("læsningen af r.pdf mislykkedes (")


def test_a_library_detail_is_bounded() -> None:
    """A library's message inside a refusal (about a hostile file) is shown at most 200 characters long."""
    error = UploadError("pdf_unreadable", "r.pdf", detail="x" * 100_000)
    assert len(error.describe("da")) < 300 and "…" in str(error)
