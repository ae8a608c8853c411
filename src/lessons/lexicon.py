"""Curated word lists shipped with the package: the glossary, the off-topic background, the framing words."""

from __future__ import annotations

from functools import cache
from importlib import resources

from lessons.yamlio import load_yaml

__all__ = ["background_topics", "framing_words", "glossary_groups"]


def _load(name: str) -> dict[str, list[object]]:
    data = load_yaml(resources.files("lessons").joinpath(f"data/{name}").read_bytes())
    if not isinstance(data, dict):
        raise ValueError(f"package data {name} is not a mapping")
    return data


@cache
def glossary_groups() -> tuple[tuple[str, ...], ...]:
    """Groups of interchangeable terms (acronyms, Danish and English forms) for query expansion."""
    return tuple(tuple(str(term) for term in group) for group in _load("glossary.yaml")["groups"])  # type: ignore[attr-defined]


@cache
def background_topics() -> tuple[str, ...]:
    """Everyday off-topic phrases that no-match detection compares questions against."""
    return tuple(str(topic) for topic in _load("background.yaml")["topics"])


@cache
def framing_words() -> tuple[str, ...]:
    """Words that frame a public-sector question whatever its subject (left out of the coverage feature)."""
    return tuple(str(word) for word in _load("framing.yaml")["words"])
