"""Projects like mine: the signature projects most similar to a team's description of its own.

A team describes its project in a few sentences (domain, data, aim). The
description is searched against project descriptions and evaluations only; the
hits are grouped by project, and each project comes with what happened to it
(status, and the evaluation if it was completed) and the lessons attached to it:
the handling examples whose ``project`` field names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lessons.errors import QuestionError
from lessons.models import Domain, Entry, Kind, ProjectStatus, Sector
from lessons.search import Filters, Searcher, prepare_question

__all__ = ["SimilarProject", "find_similar_projects", "project_key"]

CANDIDATES = 20


@dataclass(frozen=True)
class SimilarProject:
    """A signature project like the team's, with its outcome and its lessons."""

    rank: int
    title: str
    score: float
    description: Entry | None
    evaluation: Entry | None
    lessons: tuple[Entry, ...] = field(default_factory=tuple)

    @property
    def main(self) -> Entry:
        """The entry that describes the project best: the description, else the evaluation."""
        entry = self.description or self.evaluation
        if entry is None:  # pragma: no cover - the constructor below never builds one without either
            raise ValueError(f"project {self.title!r} has neither description nor evaluation")
        return entry

    @property
    def status(self) -> ProjectStatus | None:
        """Completed when evaluated, else the description's status."""
        if self.evaluation is not None:
            return ProjectStatus.COMPLETED
        return self.main.project_status

    @property
    def sector(self) -> Sector | None:
        """Who ran it."""
        return self.main.sector or (self.evaluation.sector if self.evaluation else None)

    @property
    def domain(self) -> Domain | None:
        """The policy domain."""
        return self.main.domain or (self.evaluation.domain if self.evaluation else None)

    @property
    def organisations(self) -> list[str]:
        """Organisations named for the project, from any of its entries."""
        names: list[str] = []
        for entry in (self.description, self.evaluation, *self.lessons):
            for name in entry.organisations if entry else ():
                if name not in names:
                    names.append(name)
        return names

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of a similar project (``lessons serve``'s ``POST /similar``)."""

        def brief(entry: Entry | None) -> dict[str, Any] | None:
            if entry is None:
                return None
            return {"entry_id": entry.id, "kind": entry.kind.value, "title": entry.title, "text": entry.full_text()}

        return {
            "rank": self.rank,
            "project": self.title,
            "score": round(float(self.score), 6),
            "status": self.status.value if self.status else None,
            "sector": self.sector.value if self.sector else None,
            "domain": self.domain.value if self.domain else None,
            "organisations": self.organisations,
            "description": brief(self.description),
            "evaluation": brief(self.evaluation),
            "lessons": [brief(entry) for entry in self.lessons],
            "source": self.main.source.model_dump(mode="json"),
        }


def project_key(entry: Entry) -> str:
    """The project an entry belongs to: its ``project`` field, or its own title for a project description."""
    return entry.project or entry.title


def _index(entries: Iterable[Entry]) -> dict[str, dict[Kind, list[Entry]]]:
    by_project: dict[str, dict[Kind, list[Entry]]] = {}
    for entry in entries:
        if entry.kind in (Kind.PROJECT, Kind.EVALUATION, Kind.HANDLING) and (
            entry.project or entry.kind is Kind.PROJECT
        ):
            by_project.setdefault(project_key(entry), {}).setdefault(entry.kind, []).append(entry)
    return by_project


# a question's refusal (lessons.search.prepare_question), said of a project description instead
_DESCRIPTION_WORDS = {
    "question_not_text": "description_not_text",
    "question_empty": "description_empty",
    "question_too_long": "description_too_long",
}


def _check_description(description: str, max_chars: int) -> None:
    """Refuse a description as a question would be refused (not text, empty, too long), in the description's words."""
    try:
        prepare_question(description, max_chars)
    except QuestionError as exc:
        key, values = exc.words or ("", {})
        if key not in _DESCRIPTION_WORDS:
            raise
        raise QuestionError.worded(_DESCRIPTION_WORDS[key], **values) from None


def find_similar_projects(
    searcher: Searcher,
    description: str,
    entries: Mapping[str, Entry],
    *,
    k: int = 5,
    domains: Iterable[Domain] = (),
    sectors: Iterable[Sector] = (),
) -> list[SimilarProject]:
    """The ``k`` signature projects most similar to ``description``, best first.

    Always returns the nearest projects (there is no no-match cut-off: a team wants
    the closest ones even when none is close). Raises QuestionError for an empty or
    over-long description.
    """
    _check_description(description, searcher.max_question_chars)
    filters = Filters(
        kinds=frozenset({Kind.PROJECT, Kind.EVALUATION}),
        domains=frozenset(domains),
        sectors=frozenset(sectors),
    )
    result = searcher.search(description, min(100, max(k * 4, CANDIDATES)), filters=filters)
    by_project = _index(entries.values())
    out: list[SimilarProject] = []
    seen: set[str] = set()
    for hit in result.hits:
        entry = entries.get(hit.chunk.entry_id)
        if entry is None:
            continue
        key = project_key(entry)
        if key in seen:
            continue
        seen.add(key)
        group = by_project.get(key, {})
        descriptions = group.get(Kind.PROJECT, [])
        evaluations = group.get(Kind.EVALUATION, [])
        out.append(
            SimilarProject(
                rank=len(out) + 1,
                title=key,
                score=hit.score,
                description=descriptions[0] if descriptions else None,
                evaluation=evaluations[0] if evaluations else None,
                lessons=tuple(sorted(group.get(Kind.HANDLING, []), key=lambda e: e.id)),
            )
        )
        if len(out) == k:
            break
    return out
