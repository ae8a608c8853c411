"""Curator uploads (issue 14): inline labels, an explained empty result, dates never titles, slugs from words."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lessons import words
from lessons.corpus import load_corpus
from lessons.curation import new_entry_id
from lessons.embedding import FakeEmbedder
from lessons.ingest.parsing import is_date_line, parse_report, report_title
from lessons.ingest.saving import ingest_bytes
from lessons.models import ENTRY_ID_PATTERN, slugify
from lessons.settings import Settings
from tests.conftest import run, upload

pytestmark = pytest.mark.heavy

INLINE = """Erfaringer med data i kommunerne

Adgang til data fra fagsystemer

Udfordring: Projektet manglede adgang til data i kommunens fagsystem, fordi leverandøren ikke udstillede data. \
Eksempel på håndtering: Kommunen aftalte med leverandøren, at data blev udstillet gennem et API, og projektet \
hentede data hver nat.
"""

NEWS = """Publiceret 16-01-2025

Kommune bruger kunstig intelligens til at fordele post

Norddjurs Kommune har i samarbejde med to andre kommuner udviklet en algoritme, der sorterer den indgående \
digitale post. Kommunen har oplevet en reduktion i den tid, der bruges på fordeling af posten på cirka 66 procent \
i forhold til tidligere, og medarbejderne kan bruge tiden på borgerne.
"""


def test_labels_written_inline_make_a_handling_example() -> None:
    """'Udfordring: … Eksempel på håndtering: …' in one paragraph is split into challenge and handling."""
    [candidate] = parse_report([INLINE], "Test")
    assert candidate.raw["kind"] == "handling"
    assert (
        candidate.raw["challenge"].startswith("Projektet manglede adgang")
        and "Eksempel" not in candidate.raw["challenge"]
    )
    assert candidate.raw["handling"].startswith("Kommunen aftalte med leverandøren")


def test_bold_inline_labels_in_markdown_are_recognised() -> None:
    """The same with Markdown bold labels and headings."""
    text = INLINE.replace("Udfordring:", "**Udfordring:**").replace(
        "Eksempel på håndtering:", "**Eksempel på håndtering:**"
    )
    text = text.replace("Adgang til data fra fagsystemer", "## Adgang til data fra fagsystemer")
    [candidate] = parse_report([text], "Test", markdown=True)
    assert candidate.raw["kind"] == "handling" and candidate.raw["handling"].startswith("Kommunen aftalte")


def test_a_lower_case_label_word_inside_a_sentence_is_no_label() -> None:
    """'… en stor udfordring: data' inside a sentence does not split the paragraph."""
    text = "Om data\n\n" + " ".join(["Projektet mødte en stor udfordring: data manglede i systemet."] * 6)
    [candidate] = parse_report([text], "Test")
    assert candidate.raw["kind"] == "finding"


def test_the_example_shown_to_curators_is_what_the_parser_recognises() -> None:
    """The example under 'Sådan genkendes indholdet' parses into a handling example and a project description."""
    for lang in ("da", "en"):
        kinds = sorted(c.raw["kind"] for c in parse_report([words.t("cur_example_report", lang)], "Eksempel"))
        assert kinds == ["handling", "project"]


@pytest.mark.parametrize(
    ("line", "is_date"),
    [
        ("Publiceret 16-01-2025", True),
        ("Opdateret: 3. marts 2024 kl. 10.15", True),
        ("2025-01-16", True),
        ("16. januar 2025", True),
        ("Published January 16, 2025", True),
        ("**Publiceret 16.01.2025**", True),
        ("Status på signaturprojekterne 2022", False),
        ("Budget 2025: 3 mio. kr.", False),
        ("Projekter igangsat i 2020 og 2022", False),
    ],
)
def test_date_lines_are_recognised(line: str, is_date: bool) -> None:
    """A line that is only a (labelled) date is a date line; a heading with a year in it is not."""
    assert is_date_line(line) is is_date


def test_a_date_line_is_never_a_title() -> None:
    """A news text's title and its entry's title are the first heading, not 'Publiceret 16-01-2025'."""
    assert report_title([NEWS], "fallback") == "Kommune bruger kunstig intelligens til at fordele post"
    [candidate] = parse_report([NEWS], "Test")
    assert candidate.raw["title"] == "Kommune bruger kunstig intelligens til at fordele post"
    assert "Publiceret" not in candidate.raw["source"]["section"]


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("<script>alert(1)</script> Adgang til data", "adgang-til-data"),
        ("<script>alert('x')</script> **fed**", "fed"),
        ("<b>Data</b> og <i>jura</i>", "data-og-jura"),
        ("CE-mærkning af algoritmen efter Medical Devices Regulation hos Region Hovedstaden", None),
        ("Æbler på Ørsted Å", "aebler-paa-oersted-aa"),
        ("!!!", "entry"),
    ],
)
def test_slugs_are_made_of_words_and_short(title: str, slug: str | None) -> None:
    """Markup and code are no words; at most six words and 48 characters, cut between words."""
    made = slugify(title)
    assert made == slug if slug is not None else made == "ce-maerkning-af-algoritmen-efter-medical"
    assert len(made) <= 48 and "script" not in made and "alert" not in made


def test_entry_ids_are_unique_and_valid() -> None:
    """A second entry with the same title gets '-2'; every id matches the id pattern."""
    first = new_entry_id("handling", "<script>alert(1)</script>", [])
    second = new_entry_id("handling", "<script>alert(1)</script>", [first])
    assert (first, second) == ("handling-entry", "handling-entry-2")
    assert all(re.match(ENTRY_ID_PATTERN, i) for i in (first, second))


def test_slugify_is_fast_on_hostile_input() -> None:
    """Unclosed script tags and tag soup at the maximum title size are handled in milliseconds."""
    hostile = ["<script>" * 700, "<" * 5000, "<script " + "a" * 4990 + ">", "<style>x" * 600 + "</style"]
    started = time.perf_counter()
    for text in hostile:
        assert re.fullmatch(r"[a-z0-9-]+", slugify(text))
    assert time.perf_counter() - started < 1.0


def test_an_inline_upload_becomes_a_draft(env_settings: Settings, use_fake_embedder: FakeEmbedder) -> None:
    """Ingesting the inline-labelled text saves one handling draft with a word slug id."""
    result = ingest_bytes(env_settings.corpus_dir, INLINE.encode(), "erfaringer.txt", by="Karen")
    assert [e.kind.value for e in result.created] == ["handling"]
    assert result.created[0].id.startswith("handling-adgang-til-data-fra-fagsystemer-")
    assert result.created[0].id in load_corpus(env_settings.corpus_dir).by_id()


def test_an_empty_upload_says_why_and_shows_the_expected_shape(page: AppTest) -> None:
    """An upload that yields nothing gets a warning with the reason, the expected shape and an example."""
    page.radio(key="cur_section").set_value("ingest")
    run(page)
    upload(page, "noter.txt", b"Bare en kort note uden overskrifter.")
    assert any("noter.txt gav ingen kladder" in w.value for w in page.warning)
    assert any("Sådan genkendes indholdet" in m.value for m in page.markdown)
    assert page.code and "Eksempel på håndtering:" in page.code[0].value
    assert not page.success


def test_an_inline_upload_on_the_page_adds_a_draft(page: AppTest) -> None:
    """The same inline text uploaded on the curator page is added as one handling example."""
    page.radio(key="cur_section").set_value("ingest")
    run(page)
    upload(page, "erfaringer.txt", INLINE.encode())
    assert any("tilføjede 1 kladde(r) (1 Håndteringseksempel)" in s.value for s in page.success)
    assert not page.code


def test_curator_reasons_for_skipping_everything(page: AppTest, tmp_path: Path) -> None:
    """Uploading the same text twice: the second time says all experiences are already in the corpus."""
    page.radio(key="cur_section").set_value("ingest")
    run(page)
    for _ in range(2):
        upload(page, "erfaringer.txt", INLINE.encode())
    assert any("alle 1 fundne erfaringer findes allerede" in i.value for i in page.info)
