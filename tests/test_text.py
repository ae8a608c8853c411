"""The text processor: cleaning PDF-extracted text, tokens and thread-safe stemming."""

from __future__ import annotations

from lessons.text import clean_text, dehyphenate, normalise, split_sentences, words


def test_line_break_hyphenation_is_removed() -> None:
    """A word broken across lines is joined again."""
    assert dehyphenate("en investe-\n\nringsfond") == "en investeringsfond"


def test_acronym_compounds_keep_their_hyphen() -> None:
    """CE-mærkning broken after the hyphen stays hyphenated."""
    assert dehyphenate("at CE-\n\nmærkning kræves") == "at CE-mærkning kræves"


def test_clean_text_keeps_danish_letters_and_drops_bullets() -> None:
    """æ, ø, å survive; private-use bullet glyphs do not."""
    text = clean_text("\uf0b7 Data: Området dækker udfor-\n\ndringer på tværs af år")
    assert "udfordringer" in text
    assert "æ" in text and "å" in text
    assert "\uf0b7" not in text


def test_decomposed_unicode_is_composed() -> None:
    """'a' plus a combining ring equals 'å'."""
    assert normalise("tva\u030ars") == "tvårs"


def test_sentences_and_words() -> None:
    """Sentences split at full stops before capitals; words are lowercased."""
    assert split_sentences("Første sætning. Anden sætning!") == ["Første sætning.", "Anden sætning!"]
    assert words("Øget Fokus, 3,9 mio.") == ["øget", "fokus", "3,9", "mio"]


def test_each_thread_gets_its_own_stemmer() -> None:
    """PyStemmer is not thread-safe, so every thread stems with its own instance."""
    import threading

    from lessons.text import stemmer

    seen: list[int] = []
    threads = [threading.Thread(target=lambda: seen.append(id(stemmer()))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(set(seen)) == 3
    assert stemmer() is stemmer()


def test_concurrent_stemming_gives_the_same_stems() -> None:
    """Stemming from eight threads at once gives exactly what one thread gives."""
    from concurrent.futures import ThreadPoolExecutor

    from lessons.text import content_stems, words

    text = "Projekterne har håndteret dataadgang og kommunernes leverandører i flere omgange " * 20
    expected = content_stems(words(text))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: content_stems(words(text)), range(200)))
    assert all(result == expected for result in results)
    assert {"projek", "kommun", "leverandør"} <= expected
