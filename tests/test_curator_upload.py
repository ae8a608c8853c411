"""Uploads in the interface language: skip reasons from the words module, and the file uploader in our words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lessons import words
from lessons.corpus import validate_entry
from lessons.errors import CorpusError, Problem, UploadError, size_text
from lessons.ingest import SUPPORTED
from lessons.ingest.saving import SkipCause, Skipped
from lessons.ui.curator_upload import skip_reason
from lessons.ui.uploads import accepts, css_string, uploader_style, wrong_type_message
from tests.conftest import run, upload
from tests.test_ingest_edges import INLINE

# The text of handling-api-data in the tiny corpus, uploaded again under a new heading.
REPEAT = """Erfaringer med data

Data fra leverandørens system

Udfordring: Projektet manglede adgang til data i fagsystemet. Eksempel på håndtering: Kommunen fik leverandøren \
til at udstille et API, så data kunne hentes automatisk.
"""
# A project description whose grant is over the schema's limit: recognised, but not a valid entry.
INVALID_PROJECT = """Et meget stort projekt

Budget: Projektet modtager 99999 mio. kr. og løber fra primo 2021 til ultimo 2022.
Formål: At forebygge forværringer hos borgere med kroniske sygdomme.
Løsning: En algoritme advarer personalet om forværring ud fra målinger i hjemmet.
"""
VALID = {
    "id": "handling-test",
    "kind": "handling",
    "title": "Adgang til data",
    "challenge": "Projektet manglede data.",
    "handling": "Kommunen fik et API.",
    "source": {"report": "Rapport"},
}
ENGLISH_REASONS = ("already ingested", "text already in", "of its words", "invalid:", "meanwhile")
CONTENT = re.compile(r'content: "((?:[^"\\]|\\[0-9a-f]{6} )*)"')


def ingest_section(page: AppTest, lang: str = "da") -> AppTest:
    """The curator page in ``lang`` (the English switch on for 'en'), on its ingest section."""
    if lang == "en":
        page.toggle(key="lang_en").set_value(True)
        run(page)
    page.radio(key="cur_section").set_value("ingest")
    return run(page)


def css_contents(style: str) -> list[str]:
    """The texts a style puts on screen through CSS ``content``, escapes decoded."""
    return [re.sub(r"\\([0-9a-f]{6}) ", lambda m: chr(int(m.group(1), 16)), found) for found in CONTENT.findall(style)]


def test_every_skip_cause_has_words_in_both_languages() -> None:
    """Each SkipCause has a skip_<cause> text; Danish and English differ and fill in the entry and share."""
    for cause in SkipCause:
        da, en = words.TEXTS[f"skip_{cause.value}"]
        assert da != en, cause
        problem = Problem("x.yaml", "'title' is empty", field="title")
        skipped = Skipped("T", 3, cause, existing="handling-x", share=0.9, problem=problem)
        for lang in ("da", "en"):
            text = skip_reason(skipped, lang)
            assert "{" not in text
            if cause in (SkipCause.REPEAT, SkipCause.REPEAT_MEANWHILE):
                assert "handling-x" in text and ("90 %" if lang == "da" else "90%") in text
            if cause is SkipCause.INVALID:
                assert "'title' is empty" in text


def test_the_english_reason_stays_what_the_cli_prints() -> None:
    """Skipped.reason is the English wording (the CLI's and the older tests' text)."""
    repeat = Skipped("T", None, SkipCause.REPEAT, existing="handling-x", share=0.873)
    assert repeat.reason == "text already in handling-x (87% of its words)"
    assert skip_reason(repeat, "da") == "teksten findes allerede i handling-x (87 % af ordene går igen)"
    assert Skipped("T", None, SkipCause.ALREADY_INGESTED).reason == "already ingested"


def test_css_string_escapes_everything_but_letters_digits_and_spaces() -> None:
    """Quotes, backslashes, tags, braces and newlines cannot end the string or the style."""
    hostile = '"; } body { display: none } </style><script>alert(1)</script>\\\n' * 200
    quoted = css_string(hostile)
    assert quoted.startswith('"') and quoted.endswith('"')
    assert re.fullmatch(r"(?:[^\W_]| |\\[0-9a-f]{6} )*", quoted[1:-1])
    assert css_contents(f"content: {quoted};") == [hostile]
    assert css_string("Vælg fil · højst 25 MB") == '"Vælg fil \\0000b7  højst 25 MB"'


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_uploader_style_shows_our_words_for_the_limit(lang: str) -> None:
    """The style replaces button, instructions and drop text with the words module's, naming our limit."""
    style = uploader_style("cur_upload-box", lang, 25 * 1024 * 1024)
    assert style.startswith("<style>") and style.count("</style>") == 1
    assert ".st-key-cur_upload-box [data-testid='stFileUploaderDropzone']" in style
    assert css_contents(style) == [
        words.t("upload_button", lang),
        words.t("upload_instructions", lang, limit="25 MB"),
        words.t("upload_drop", lang),
    ]


@pytest.mark.parametrize(("lang", "shown"), [("da", "2,5 MB"), ("en", "2.5 MB")])
def test_the_uploader_and_the_refusal_say_the_limit_alike(lang: str, shown: str) -> None:
    """The uploader's limit and a too-large refusal are written by the one size formatter, in the page's language."""
    limit = 5 * 1024 * 1024 // 2
    style = uploader_style("cur_upload-box", lang, limit)
    assert words.t("upload_instructions", lang, limit=shown) in css_contents(style)
    refusal = UploadError("too_large", "stor.pdf", size=limit + 1024 * 1024, limit=limit).describe(lang)
    assert refusal.endswith(shown) and size_text(limit, lang) == shown


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
def test_skip_reasons_on_the_danish_page_are_danish(page: AppTest) -> None:
    """Uploading text the corpus has: the page lists the skipped entry with the Danish reason, no English."""
    ingest_section(page)
    upload(page, "data.txt", REPEAT.encode())
    assert any("alle 1 fundne erfaringer findes allerede" in i.value for i in page.info)
    [listing] = page.expander
    assert listing.label == "Sprunget over (1)"
    shown = "\n".join(m.value for m in listing.markdown)
    assert "Data fra leverandørens system" in shown
    assert re.search(r"teksten findes allerede i handling-api-data \(\d+ % af ordene går igen\)", shown), shown
    assert not any(english in shown for english in ENGLISH_REASONS)


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
def test_skip_reasons_on_the_english_page_are_english(page: AppTest) -> None:
    """The same upload with the English switch on lists the English reason."""
    ingest_section(page, "en")
    upload(page, "data.txt", REPEAT.encode())
    [listing] = page.expander
    assert listing.label == "Skipped (1)"
    shown = "\n".join(m.value for m in listing.markdown)
    assert re.search(r"text already in handling-api-data \(\d+% of its words\)", shown), shown


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
def test_the_upload_section_carries_the_uploader_words(page: AppTest) -> None:
    """The ingest section sends the scoped style with the Danish words along with the uploader."""
    ingest_section(page)
    styles = [str(h.value) for h in page.get("html") if "<style>" in str(h.value)]
    assert len(styles) == 1 and ".st-key-cur_upload-box" in styles[0]
    assert words.t("upload_button", "da") in css_contents(styles[0])


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
def test_the_draft_count_includes_an_upload_at_once(page: AppTest) -> None:
    """After an upload saved a draft, the section list already says 'Kladder (1)' next to the result."""
    ingest_section(page)
    assert "Kladder (0)" in [str(o) for o in page.radio(key="cur_section").options]
    upload(page, "erfaringer.txt", INLINE.encode())
    assert "Kladder (1)" in [str(o) for o in page.radio(key="cur_section").options]
    assert any("tilføjede 1 kladde(r) (1 Håndteringseksempel)" in s.value for s in page.success)
    run(page)  # the result is shown once, not on every later run
    assert not page.success


def test_the_type_check_names_the_file_and_the_accepted_types() -> None:
    """accepts() goes by suffix in any letter case; the refusal names the file (literal, shortened) and the types."""
    assert accepts("Rapport.PDF", ["pdf", "txt"]) and accepts("a.b.md", [".md"])
    assert not accepts("rapport.docx", ["pdf"]) and not accepts("pdf", ["pdf"]) and not accepts("x.pdf.exe", ["pdf"])
    da = wrong_type_message("rapport_*v2*.docx", ["pdf", "md"], "da")
    en = wrong_type_message("rapport_*v2*.docx", ["pdf", "md"], "en")
    assert da != en
    for text in (da, en):
        assert "rapport\\_\\*v2\\*.docx" in text and ".pdf, .md" in text
    long = wrong_type_message("x" * 100_000 + ".exe", ["pdf"], "da")
    assert len(long) < 400 and "…" in long


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_wrong_file_type_is_refused_on_the_server_in_our_words(page: AppTest, lang: str) -> None:
    """The uploader has no browser-side type filter; a .docx gets our message in the page's language, nothing else."""
    ingest_section(page, lang)
    assert list(page.file_uploader(key="cur_upload").proto.type) == []  # Streamlit's own refusal is English
    upload(page, "rapport.docx", b"PK\x03\x04" + bytes(64), mime="application/octet-stream")
    expected = wrong_type_message("rapport.docx", list(SUPPORTED), lang)
    assert [e.value for e in page.error] == [expected]
    assert "rapport.docx" in expected and ".pdf, .txt, .text, .md, .markdown" in expected
    assert not page.success and not page.expander


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
def test_a_file_of_an_accepted_type_in_capitals_is_ingested(page: AppTest) -> None:
    """The server-side check lets 'DATA.TXT' through to the ingest (which checks its bytes as before)."""
    ingest_section(page)
    upload(page, "DATA.TXT", REPEAT.encode())
    assert not page.error
    assert any("alle 1 fundne erfaringer findes allerede" in i.value for i in page.info)


def _problem(**changes: object) -> Problem:
    """The first problem the schema finds in a valid handling entry with ``changes`` (None removes a field)."""
    raw = {key: value for key, value in {**VALID, **changes}.items() if value is not None}
    with pytest.raises(CorpusError) as caught:
        validate_entry(raw, "x.yaml")
    return caught.value.problems[0]


@pytest.mark.parametrize(
    ("changes", "da", "en"),
    [
        ({"grant_mio_kr": 99999}, "Bevilling (mio. kr.) er for stor: højst 10.000", "Grant (million kr) is too large"),
        ({"grant_mio_kr": -1}, "Bevilling (mio. kr.) er for lille: mindst 0", "Grant (million kr) is too small"),
        ({"title": "x" * 301}, "Titel er for lang: højst 300 tegn", "Title is too long: at most 300 characters"),
        ({"challenge": "x " * 10_001}, "Udfordring er for lang: højst 20.000 tegn", "at most 20,000 characters"),
        ({"title": " "}, "Titel er tom", "Title is empty"),
        ({"title": None}, "Titel mangler", "Title is missing"),
        ({"tags": [f"t{i}" for i in range(51)]}, "Søgeord har for mange: højst 50", "Tags has too many: at most 50"),
        ({"handling": None}, "mangler Håndtering (skal udfyldes for typen Håndteringseksempel)", "lacks Handling ("),
    ],
)
def test_common_validation_problems_are_worded_in_both_languages(changes: dict[str, object], da: str, en: str) -> None:
    """What the schema finds most often in an ingested entry reads in our words, the Danish without English."""
    problem = _problem(**changes)
    assert problem.describe("da") == da
    assert en in problem.describe("en")
    assert not any(word in problem.describe("da") for word in ("should", "Input", "Value error", "needs"))


def test_other_validation_problems_say_the_text_is_the_validators() -> None:
    """A problem without our words (an unknown sector) is the validator's English, said to be that in Danish."""
    problem = _problem(sector="planet")
    da = problem.describe("da")
    assert da.startswith("Sektor: valideringens besked (på engelsk): “") and problem.message in da
    assert problem.describe("en") == f"Sector: {problem.message}"
    unplaced = Problem("x.yaml", "expected a mapping of fields, got list")
    assert unplaced.describe("da") == "valideringens besked (på engelsk): “expected a mapping of fields, got list”"


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
def test_an_invalid_entry_is_skipped_with_a_danish_reason(page: AppTest) -> None:
    """A project over the grant limit is listed as skipped with the Danish wording of the problem, no English."""
    ingest_section(page)
    upload(page, "projekt.txt", INVALID_PROJECT.encode())
    [listing] = page.expander
    shown = "\n".join(m.value for m in listing.markdown)
    assert "ugyldig: Bevilling (mio. kr.) er for stor: højst 10.000" in shown, shown
    assert "Input should" not in shown and "Grant" not in shown


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_summary_line_counts_the_skips_by_cause(page: AppTest, lang: str) -> None:
    """After an upload the one-line summary counts the skips per cause, in the words the CLI summary uses."""
    ingest_section(page, lang)
    upload(page, "blandet.txt", (REPEAT + "\n" + INVALID_PROJECT).encode())
    expected = {
        "da": "; 2 sprunget over (1 ugyldig(e), 1 med tekst, der allerede findes).",
        "en": f"; 2 skipped (1 {words.label('skip', 'invalid', 'en')}, 1 {words.label('skip', 'repeat', 'en')}).",
    }
    [line] = [c.value for c in page.caption if "blandet.txt" in c.value]
    assert line.endswith(expected[lang]), line


def test_the_skip_counts_follow_the_causes_order() -> None:
    """IngestResult counts skips per cause in SkipCause's order and words them per language ('' for none)."""
    from lessons.ingest.saving import IngestResult

    causes = (SkipCause.REPEAT, SkipCause.INVALID, SkipCause.REPEAT)
    skips = [Skipped(title, None, cause) for title, cause in zip("abc", causes, strict=True)]
    result = IngestResult(report="R", pages=2, created=[], skipped=skips)
    assert result.skip_counts() == {SkipCause.INVALID: 1, SkipCause.REPEAT: 2}
    assert result.skip_summary("en") == "1 invalid, 2 text already in the corpus"
    assert result.skip_summary("da") == "1 ugyldig(e), 2 med tekst, der allerede findes"
    assert IngestResult(report="R", pages=1, created=[], skipped=[]).skip_summary("da") == ""


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
@pytest.mark.parametrize("lang", ["da", "en"])
def test_an_upload_refused_before_parsing_is_worded_in_the_page_language(page: AppTest, lang: str) -> None:
    """An empty file and a text named .pdf are refused naming the file and the fault, all in the page's language."""
    ingest_section(page, lang)
    upload(page, "tom.md", b"", mime="text/markdown")
    [empty] = [e.value for e in page.error]
    upload(page, "rapport.pdf", b"Bare tekst.\n", mime="application/pdf")
    [renamed] = [e.value for e in page.error]
    if lang == "da":
        assert empty == "Rapporten kan ikke indlæses: tom.md er tom (0 byte)"
        assert renamed.endswith(
            "rapport.pdf er almindelig tekst uden PDF-hoved, men navnet siger en PDF; omdøb den til .txt"
        )
        assert not any(english in empty + renamed for english in ("empty", "bytes", "plain text", "rename"))
    else:
        assert empty == "The report cannot be ingested: tom.md is empty (0 bytes)"
        assert renamed.endswith(
            "rapport.pdf is plain text without a PDF header, but its name says a PDF; rename it .txt"
        )


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
def test_a_parse_refusal_is_worded_in_danish(page: AppTest) -> None:
    """An encrypted PDF, refused by the sandboxed parser, reads in Danish on the Danish page, naming the file."""
    from tests.test_ingest import PAGES, make_pdf

    ingest_section(page)
    upload(page, "låst.pdf", make_pdf(PAGES, encrypt="hemmelig"), mime="application/pdf")
    assert [e.value for e in page.error] == [
        "Rapporten kan ikke indlæses: PDF'en låst.pdf er krypteret (beskyttet med adgangskode); gem en kopi uden "
        "beskyttelse, og upload den"
    ]


SOURCES = [*sorted((Path(__file__).resolve().parents[1] / "src" / "lessons").rglob("*.py"))]
UPLOAD_CODES = sorted(
    {code for path in SOURCES for code in re.findall(r'UploadError\(\s*"(\w+)"', path.read_text(encoding="utf-8"))}
)


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("code", UPLOAD_CODES)
def test_a_refusal_in_the_pages_frame_has_one_colon(code: str, lang: str) -> None:
    """Every upload refusal, framed as the curator page frames it, has one ': ' (the frame's), not two in a row."""
    key = f"upload_{code}"
    values = {name: "X" for name in re.findall(r"{(\w+)}", words.TEXTS[key][0])}
    framed = words.t("cur_ingest_failed", lang, problem=words.t(key, lang, **values))
    outside_brackets = re.sub(r"\([^)]*\)", "", framed)
    assert outside_brackets.count(": ") == 1 and "::" not in framed, framed
