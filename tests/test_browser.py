"""End to end: `streamlit run app.py` (and `lessons app`) with the real model, driven by headless chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lessons.accounts import AccountStore, utc_now
from lessons.corpus import load_corpus
from lessons.curation import find_entry, new_entry_id
from lessons.models import ReviewState
from tests.browser_support import (
    ARTIFACTS,
    READY_TIMEOUT,
    add_account,
    app_env,
    ask,
    choose,
    click,
    click_button,
    copy_index,
    page_text,
    shot,
    sidebar_nav,
    sign_in,
    streamlit_app,
    type_into,
    wait_for_text,
    wait_until,
)
from tests.test_app_edges import ENGLISH, STREAMLIT_DEFAULTS, UPLOADER_DEFAULTS

pytestmark = pytest.mark.browser


def test_lessons_app_answers_at_once_then_a_follow_up_and_in_english(
    tiny_corpus: Path, tmp_path: Path, browser: Any, seed_index: Path
) -> None:
    """`lessons app` (make run): a question typed the moment the chat input appears is echoed and answered with the
    overview, citations and the MDR card; a follow-up with markup stays text; English after the switch."""
    copy_index(seed_index, tmp_path)
    log = tmp_path / "streamlit.log"
    driver = browser
    with streamlit_app(app_env(tiny_corpus, tmp_path), log, launcher=True) as url:
        driver.get(url)
        ask(driver, "Skal vores algoritme CE-mærkes efter MDR?")  # as soon as the input is there, ready or not
        wait_for_text(driver, "Skal vores algoritme CE-mærkes efter MDR?")
        text = wait_for_text(
            driver,
            "Erfaringer fra signaturprojekterne",
            "Kort fortalt",
            "[1] CE-mærkning af algoritmen efter MDR",
            "Håndteringseksempel",
            timeout=READY_TIMEOUT,
        )
        assert "Kilde: Testrapport" in text and "Udfordring:" in text
        shot(driver, "browser-answer-da.png")

        ask(driver, "og i regionerne? <script>window.__xss = 1</script>")
        wait_for_text(driver, "og i regionerne? <script>window.__xss = 1</script>", "Sektor fra spørgsmålet: Region")
        assert driver.execute_script("return window.__xss === undefined")

        click(driver, "//label[.//p[text()='English']]")
        wait_for_text(driver, "Experiences from the signature projects", "In short")
        ask(driver, "Does our algorithm need CE marking as a medical device?")
        text = wait_for_text(driver, "In short", "Was this answer useful?", times=3)
        assert "Does our algorithm need CE marking as a medical device?" in text
        assert text.count("[1] CE-mærkning af algoritmen efter MDR") >= 2  # Danish card text under English labels
        assert "Handling example" in text and "Source: Testrapport" in text
        shot(driver, "browser-answer-en.png")
    console = log.read_text(errors="replace")
    assert "Traceback" not in console and "lessons app:" not in console  # no warm-up notice, no error


INLINE_REPORT = """Erfaringer med data i kommunerne

Adgang til data fra fagsystemer

Udfordring: Projektet manglede adgang til borgernes data i kommunens fagsystem, fordi leverandøren ikke \
udstillede dem. Eksempel på håndtering: Kommunen aftalte med leverandøren, at data blev udstillet gennem et API, \
og projektet hentede data hver nat.
"""
PASSWORDS = {
    "karen": "karens long walk-through password",
    "edda": "eddas long walk-through password",
    "lars": "lars long walk-through password",
}
# What the browser puts on screen through CSS `content` (our uploader words) is shown text too.
PSEUDO_TEXT = """const out = [];
for (const el of document.querySelectorAll('[data-testid="stFileUploader"] *')) {
  for (const pseudo of ['::before', '::after']) {
    const content = getComputedStyle(el, pseudo).content;
    if (content && content !== 'none' && content !== 'normal') out.push(content);
  }
}
return out;"""


def shown_text(driver: Any) -> str:
    """The page's visible text and the texts its styles add (the file uploader's words)."""
    return page_text(driver) + "\n" + "\n".join(driver.execute_script(PSEUDO_TEXT))


def assert_danish(driver: Any, where: str) -> str:
    """What the browser shows has no English interface text and none of Streamlit's own English; return it."""
    text = shown_text(driver)
    leaks = sorted(
        {fragment for fragment in ENGLISH if fragment in text}
        | {default for default in (*STREAMLIT_DEFAULTS, *UPLOADER_DEFAULTS) if default in text}
    )
    assert leaks == [], f"{where}: English on a Danish page: {leaks}\n{text[-2000:]}"
    return text


def _check_citation_scrolls_to_its_card(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    links = driver.find_elements(By.CSS_SELECTOR, 'a[href*="#kort-"]')
    assert links, "the overview's citations are links"
    target = links[0].get_attribute("href").split("#", 1)[1]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", links[0])
    anchor = driver.find_element(By.ID, target)
    top = "return arguments[0].getBoundingClientRect().top"
    wait_until(lambda: -5 <= driver.execute_script(top, anchor) < 400, "the cited card to scroll into view", 10)
    card = driver.find_element(By.CSS_SELECTOR, f".st-key-card-{target}")
    assert "Markeret: citeret i overblikket ovenfor." in card.text and "Kilde:" in card.text
    card.screenshot(str(ARTIFACTS / "walk-2-card.png"))


def _filter_by_sector(driver: Any, sector: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    sidebar = driver.find_element(By.CSS_SELECTOR, '[data-testid="stSidebar"]')
    box = sidebar.find_element(By.XPATH, ".//div[@data-testid='stMultiSelect'][.//p[text()='Sektor']]//input")
    widget = driver.execute_script("return arguments[0].closest('[data-testid=stMultiSelect]').innerHTML", box)
    assert "Vælg …" in widget and "Choose options" not in widget
    box.click()

    def options() -> str:
        menus = driver.find_elements(By.CSS_SELECTOR, '[role="listbox"]')
        return str(menus[0].text) if menus else ""

    options_text = wait_until(lambda: sector in options() and options(), "the sector options", 10)
    assert sector in options_text and not any(d in options_text for d in STREAMLIT_DEFAULTS), options_text
    box.send_keys(sector)
    box.send_keys(Keys.ENTER)
    box.send_keys(Keys.ESCAPE)
    wait_for_text(driver, f"Aktive filtre: {sector}", timeout=30)


def test_the_walk_through_path(tiny_corpus: Path, tmp_path: Path, browser: Any, seed_index: Path) -> None:
    """A team asks, follows up, clicks a citation, filters and exports; a curator signs in and uploads a report with
    inline labels; an editor approves it (four-eyes) and rebuilds; the status refreshes in place; all in Danish.
    Then the curator drafts through the form (the editor's approval is still needed), and five wrong passwords lock
    an editor out, after which even his right password is refused."""
    from selenium.webdriver.common.by import By

    copy_index(seed_index, tmp_path)
    env = app_env(tiny_corpus, tmp_path)
    add_account(env, "karen", "curator", PASSWORDS["karen"])
    add_account(env, "edda", "editor", PASSWORDS["edda"])
    add_account(env, "lars", "editor", PASSWORDS["lars"])
    driver = browser
    with streamlit_app(env, tmp_path / "streamlit.log") as url:
        driver.get(url)
        wait_for_text(driver, "Erfaringer fra signaturprojekterne", "Prøv fx at spørge", timeout=READY_TIMEOUT)
        icons = driver.execute_script("return [...document.querySelectorAll('link[rel*=icon]')].map(l => l.href)")
        assert icons and all(href.startswith(url) or href.startswith("data:") for href in icons), icons

        # ask, then follow up: the follow-up moves to handling examples and outcomes
        ask(driver, "Skal vores algoritme CE-mærkes efter MDR?")
        wait_for_text(driver, "Kort fortalt", "[1] CE-mærkning af algoritmen efter MDR", "Var svaret nyttigt?")
        ask(driver, "Hvad gjorde de konkret?")
        wait_for_text(driver, "Fokus fra spørgsmålet:", "Var svaret nyttigt?")
        text = wait_for_text(driver, "Var svaret nyttigt?", times=2)
        focus = next(line for line in text.splitlines() if line.startswith("Fokus fra spørgsmålet:"))
        assert "Håndteringseksempel" in focus and "Projektbeskrivelse" not in focus
        assert "Filtre: Afsluttet projekt" not in text  # the focus is not repeated as a filter
        assert_danish(driver, "chat")
        shot(driver, "walk-1-chat.png")

        # a citation is a link that scrolls to its card, which marks the quoted sentence
        _check_citation_scrolls_to_its_card(driver)

        # filter: Danish placeholder and options, no 'Select all'
        _filter_by_sector(driver, "Kommune")

        # export the conversation
        click(driver, "//div[@data-testid='stDownloadButton']//button")
        downloads = tmp_path / "downloads"
        exported = wait_until(lambda: [p for p in downloads.glob("*.md") if p.stat().st_size], "the export", 30)
        body = exported[0].read_text(encoding="utf-8")
        assert "Skal vores algoritme CE-mærkes efter MDR?" in body and "Hvad gjorde de konkret?" in body
        assert_danish(driver, "chat after filter and export")

        # the briefing page's uploader speaks Danish too
        driver.get(url + "briefing")
        wait_for_text(driver, "Projektbriefing", "…eller hent en profil (YAML)", timeout=60)
        assert "Vælg fil" in assert_danish(driver, "briefing")

        # a curator signs in and uploads a report written with inline labels
        driver.get(url + "kurator")
        text = wait_for_text(driver, "Kuratering kræver login", "Brugernavn", timeout=60)
        assert "Kuratering af erfaringer" not in text and "Kladder" not in text
        nav = sidebar_nav(driver)
        assert "Log ind" in nav and "Kuratering" not in nav
        shot(driver, "browser-sign-in.png")
        sign_in(driver, "karen", PASSWORDS["karen"])
        wait_for_text(driver, "Kuratering af erfaringer", "Logget ind som karen (kurator)")
        choose(driver, "Indlæs rapport")
        uploader = wait_until(
            lambda: driver.find_elements(By.CSS_SELECTOR, '[data-testid="stFileUploaderDropzone"]'), "the uploader", 30
        )[0]
        text = assert_danish(driver, "kurator: indlæs rapport")
        assert "Vælg fil" in text and "højst 25 MB pr. fil" in text
        uploader.screenshot(str(ARTIFACTS / "walk-3-uploader.png"))
        # a file of another type is refused by the server in Danish (the browser's own refusal is English)
        wrong = tmp_path / "notat.docx"
        wrong.write_bytes(b"PK\x03\x04" + bytes(64))
        driver.find_element(By.CSS_SELECTOR, 'input[type="file"]').send_keys(str(wrong))
        text = wait_for_text(driver, "notat.docx kan ikke bruges her: kun filer af typen .pdf, .txt", timeout=30)
        assert "not allowed" not in text and "notat.docx" in assert_danish(driver, "kurator: forkert filtype")
        report = tmp_path / "erfaringer.txt"
        report.write_text(INLINE_REPORT, encoding="utf-8")
        driver.find_element(By.CSS_SELECTOR, 'input[type="file"]').send_keys(str(report))
        wait_for_text(driver, "erfaringer.txt", timeout=30)
        click_button(driver, "Indlæs som kladder")
        wait_for_text(driver, "tilføjede 1 kladde(r) (1 Håndteringseksempel); 0 sprunget over.", timeout=90)
        assert "Adgang til data fra fagsystemer" in assert_danish(driver, "kurator: upload")
        shot(driver, "walk-3-upload.png")
        [draft] = [e for e in load_corpus(tiny_corpus).entries if e.title == "Adgang til data fra fagsystemer"]
        assert draft.state is ReviewState.DRAFT and draft.created_by == "karen"
        draft_id = draft.id

        # the same report again: nothing new, and the page says why, in Danish
        click_button(driver, "Indlæs som kladder")
        text = wait_for_text(driver, "alle 1 fundne erfaringer findes allerede i korpusset", "Sprunget over (1)")
        assert "Adgang til data fra fagsystemer: allerede indlæst" in text
        assert_danish(driver, "kurator: upload again")

        # four-eyes: the curator cannot approve; she signs out and an editor approves
        choose(driver, "Kladder (1)")
        text = wait_for_text(driver, "Venter på godkendelse af en redaktør.")
        assert not driver.find_elements(By.XPATH, "//button[.//p[normalize-space()='Godkend']]")
        click_button(driver, "Log ud")
        wait_for_text(driver, "Logget ud.", "Brugernavn")
        sign_in(driver, "edda", PASSWORDS["edda"])
        wait_for_text(driver, "Logget ind som edda (redaktør)")
        choose(driver, "Kladder (1)")
        click_button(driver, "Godkend")
        wait_for_text(driver, f"Godkendt: {draft_id}", "1 erfaring tilføjet siden bygningen", timeout=60)
        entry = find_entry(tiny_corpus, draft_id)[1]
        assert entry.state is ReviewState.APPROVED and (entry.created_by, entry.approved_by) == ("karen", "edda")
        assert_danish(driver, "kurator: approved")

        # rebuild: the status refreshes in place, without a reload
        click_button(driver, "Genopbyg indekset")
        text = wait_for_text(driver, "Indekset er genopbygget: version", timeout=180)
        assert "tilføjet siden bygningen" not in text
        wait_until(
            lambda: not driver.find_elements(By.XPATH, "//button[.//p[text()='Genopbyg indekset']]"),
            "the rebuild button to disappear",
            timeout=60,
        )
        shot(driver, "walk-4-rebuilt.png")

        # the overview opened by URL counts the new entry, with the new version as fresh
        driver.get(url + "overblik")
        text = wait_for_text(driver, "Erfaringer i alt", "Indekset er opdateret i forhold til korpusset.", timeout=60)
        assert "Håndteringseksempel: 3" in text
        assert_danish(driver, "overblik")
        shot(driver, "walk-5-overview.png")

        # and a team now finds the uploaded experience
        driver.get(url)
        wait_for_text(driver, "Prøv fx at spørge", timeout=60)
        ask(driver, "Hvordan fik kommunen data ud af fagsystemet, når leverandøren ikke udstillede dem?")
        text = wait_for_text(driver, "Kort fortalt", "Var svaret nyttigt?")
        assert "Adgang til data fra fagsystemer" in text, text[-3000:]
        shot(driver, "walk-6-found.png")

        # a page load signs out; the curator drafts through the form, which waits for an editor
        driver.get(url + "kurator")
        wait_for_text(driver, "Kuratering kræver login", "Brugernavn", timeout=60)
        sign_in(driver, "karen", PASSWORDS["karen"])
        wait_for_text(driver, "Kuratering af erfaringer", "Logget ind som karen (kurator)")
        type_into(driver, "Titel *", "Fælles datamodel i browseren")
        type_into(driver, "Udfordring *", "Data lå i tre fagsystemer med hver sin datamodel.", area=True)
        type_into(driver, "Håndtering *", "Teamet aftalte en fælles datamodel med leverandørerne.", area=True)
        type_into(driver, "Kilde: rapport *", "Browsertest")
        click_button(driver, "Gem som kladde")
        wait_for_text(driver, "Gemt som kladde")
        entry_id = new_entry_id("handling", "Fælles datamodel i browseren", [])  # ids are made by the slug rule
        entry = find_entry(tiny_corpus, entry_id)[1]
        assert entry.state is ReviewState.DRAFT and entry.created_by == "karen"
        choose(driver, "Kladder (1)")
        text = wait_for_text(driver, "Venter på godkendelse af en redaktør.")
        assert "Godkend" not in text
        click_button(driver, "Log ud")
        wait_for_text(driver, "Logget ud.", "Brugernavn")

        # five wrong passwords lock lars out; then even his right password is refused
        accounts = AccountStore(tmp_path / "var")
        for attempt in range(1, 6):  # each attempt waits until the server counted it (a page message may be stale)
            sign_in(driver, "lars", "not his password")
            wait_until(
                lambda n=attempt: (lars := accounts.get("lars")).failed_attempts == n or lars.locked_until is not None,
                f"the server to count attempt {attempt}",
            )
            wait_for_text(driver, "Forkert brugernavn eller adgangskode.")
        assert accounts.get("lars").locked(utc_now())
        sign_in(driver, "lars", PASSWORDS["lars"])
        text = wait_for_text(driver, "Kontoen er låst")
        assert "Logget ind som lars" not in text
        shot(driver, "browser-locked.png")
