"""Domain errors. The core raises these; the CLI and the app turn them into messages."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, Self

from lessons.words import TEXTS, label, t

__all__ = [
    "BuildLockedError",
    "CorpusError",
    "Count",
    "DraftsNotSavedError",
    "Ids",
    "IndexUnusableError",
    "IngestError",
    "LessonsError",
    "Messages",
    "ModelNotFoundError",
    "Problem",
    "ProblemsError",
    "QuestionError",
    "Said",
    "StorageError",
    "Term",
    "UnsafeFileError",
    "UploadError",
    "said_value",
    "say",
    "size_text",
]


class LessonsError(Exception):
    """Base of every error meant for a user: its message says what is wrong and what to do."""

    words: tuple[str, dict[str, object]] | None = None  # set by worded(): the key and values of its message

    def describe(self, lang: str) -> str:
        """The message in ``lang``: an error with its words in :mod:`lessons.words` says it in either language;
        any other gives its English message."""
        if self.words is not None:
            key, values = self.words
            return t(key, lang, **{k: _said(v, lang) for k, v in values.items()})
        return str(self)

    def said(self, lang: str) -> str:
        """:meth:`describe` where the error has words of its own; else, in a language other than English, its
        English message marked as the technical English it is (a page never passes English off as its own)."""
        if lang == "en" or self.words is not None or type(self).describe is not LessonsError.describe:
            return self.describe(lang)
        return t("in_english", lang, message=str(self))

    def text(self) -> str:
        """The message as a string to keep (a status's problem, a warning): a :class:`Said` that can still be said in
        either language when the error has words of its own, else its English."""
        return Said(self.words[0], **self.words[1]) if self.words is not None else str(self)

    @classmethod
    def worded(cls, key: str, **values: object) -> Self:
        """The error whose message is the text ``key`` of :mod:`lessons.words` (English in ``str()``, either
        language in :meth:`describe`); for an error class made from its message alone."""
        error = cls(key)
        error.words = (key, values)
        error.args = (error.describe("en"),)
        return error


@dataclass(frozen=True)
class Term:
    """A value of a worded error that is itself a text of :mod:`lessons.words` (a database's name), so it is
    said in the message's language."""

    key: str


@dataclass(frozen=True)
class Count:
    """A number of a worded error (a length, a limit, seconds waited), written as the message's language writes
    it: 2.000 and 0,05 in Danish, 2,000 and 0.05 in English."""

    value: int | float


class Said(str):
    """A message kept as text (a warning, a status's problem): the string is its English, as the CLI and logs show
    it, and it keeps the key and values of its words in :mod:`lessons.words`, so a page says it in its language."""

    key: str
    values: dict[str, object]

    def __new__(cls, key: str, /, **values: object) -> Self:
        """The message ``key`` of :mod:`lessons.words` filled with ``values``."""
        text = super().__new__(cls, t(key, "en", **{k: _said(v, "en") for k, v in values.items()}))
        text.key, text.values = key, values
        return text

    def __copy__(self) -> Self:
        """:func:`copy.copy` keeps the message: its words do not change."""
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Said:
        """:func:`copy.deepcopy` makes it again from its words (not from its English)."""
        return Said(self.key, **copy.deepcopy(self.values, memo))

    def said(self, lang: str) -> str:
        """The message in ``lang``."""
        return t(self.key, lang, **{k: _said(v, lang) for k, v in self.values.items()})


@dataclass(frozen=True)
class Messages:
    """A value of a worded message that is itself a list of messages (the problems of each index version tried),
    each said in the message's language (:func:`say`), joined by ``sep``."""

    items: tuple[object, ...]
    sep: str = "; "


@dataclass(frozen=True)
class Ids:
    """A value of a worded message that lists ids: the first ``shown``, then 'and 3 more' in the message's
    language."""

    ids: tuple[str, ...]
    shown: int = 5


def say(message: object, lang: str) -> str:
    """A message in ``lang``: a :class:`Said` or a :class:`LessonsError` in its own words; any other text as it is in
    English, and marked as the technical English it is in another language."""
    if isinstance(message, Said | LessonsError):
        return message.said(lang)
    return str(message) if lang == "en" else t("in_english", lang, message=str(message))


def said_value(value: object, lang: str) -> object:
    """A worded error's value as its message in ``lang`` says it (a :class:`Term` in its words, a :class:`Count`
    with the language's separators; anything else as it is)."""
    return _said(value, lang)


def _said(value: object, lang: str) -> object:
    """A worded error's value as its message in ``lang`` says it."""
    if isinstance(value, Term):
        return t(value.key, lang)
    if isinstance(value, Count):
        return _number(value.value, lang)
    if isinstance(value, Said | LessonsError):
        return value.said(lang)
    if isinstance(value, Messages):
        return value.sep.join(say(item, lang) for item in value.items)
    if isinstance(value, Ids):
        rest = len(value.ids) - value.shown
        return ", ".join(value.ids[: value.shown]) + (" " + t("and_more", lang, n=rest) if rest > 0 else "")
    return value


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a corpus file: where, which field, what.

    ``message`` is English (the CLI's language). A problem found by the schema also carries the
    validator's ``code`` (pydantic's error type, or our own such as ``kind_fields``) and its
    ``values`` (the limit, the missing fields), so an edge can word it in another language
    (:meth:`describe`).
    """

    file: str
    message: str
    field: str | None = None
    line: int | None = None
    code: str | None = dataclasses.field(default=None, compare=False)
    values: tuple[tuple[str, str | int | float], ...] = dataclasses.field(default=(), compare=False)
    vocabulary: str = dataclasses.field(default="entry_field", compare=False)  # where the field's label is

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"

    def where(self) -> str:
        """File, line and field: 'entries/x.yaml:3 [title]'."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return where

    def describe(self, lang: str) -> str:
        """What is wrong, without where, in ``lang``: the common schema problems in our words, any
        other as the validator's English text, said to be that."""
        values = dict(self.values)
        if self.code == "storage":  # the OS refused to list or read: StorageError's own words
            return StorageError(**{k: str(v) for k, v in values.items()}).describe(lang)
        name = self.field or ""
        top, _, rest = name.partition(".")
        shown = (label(self.vocabulary, top, lang) + (f" ({rest})" if rest else "")) if top else ""
        key = _PROBLEM_WORDS.get(self.code or "")
        if key in _WHOLE_PROBLEMS:  # says it all, the field included
            return t(key, lang)
        if key in ("problem_kind_fields", "problem_kind_foreign"):
            fields = str(values.get("fields", "")).split(", ")
            return t(
                key,
                lang,
                kind=label("kind", str(values.get("kind", "")), lang),
                fields=", ".join(label("entry_field", f, lang) for f in fields),
            )
        if key in _OWN_PROBLEMS:  # ours, worded with the field's label and their values (ids, names, a kind)
            filled = {k: v if isinstance(v, str) else _number(v, lang) for k, v in values.items()}
            if "kind" in values:
                filled["kind"] = label("kind", str(values["kind"]), lang)
            return t(key, lang, **filled, field=shown or name)
        limit = next((values[k] for k in ("max_length", "min_length", "le", "lt", "ge", "gt") if k in values), None)
        if key is not None and shown and (limit is not None or key in ("problem_missing", "problem_empty")):
            return t(key, lang, field=shown, limit=_number(limit, lang) if limit is not None else "")
        return t("problem_other" if shown else "problem_other_unplaced", lang, field=shown, message=self.message)


# The schema problems worded in our own words (pydantic's error types, and ours from lessons.models).
_PROBLEM_WORDS = {
    "missing": "problem_missing",
    "string_too_short": "problem_empty",
    "string_too_long": "problem_too_long",
    "too_long": "problem_too_many",
    "too_short": "problem_too_few",
    "less_than_equal": "problem_too_large",
    "less_than": "problem_too_large",
    "greater_than_equal": "problem_too_small",
    "greater_than": "problem_too_small",
    "kind_fields": "problem_kind_fields",
    "kind_foreign": "problem_kind_foreign",
    "reason": "problem_reason",
    "superseded_unknown": "problem_superseded_unknown",
    "superseded_loop": "problem_superseded_loop",
    "superseded_self": "problem_superseded_self",
    "revision_base": "problem_revision_base",
    "revision_invalid": "problem_revision_invalid",
    "set_by_lessons": "problem_set_by_lessons",
    "id_taken": "problem_id_taken",
    "not_yaml": "problem_not_yaml",
    "folder": "problem_folder",
    "no_entries_folder": "problem_no_entries_folder",
    "rule_unknown": "problem_rule_unknown",
    "rule_not_advice": "problem_rule_not_advice",
    "deep": "problem_deep",
    "duplicate_id": "problem_duplicate_id",
    "id_not_file_name": "problem_id_not_file_name",
    "yaml_alias": "problem_yaml_alias",
    "yaml_too_deep": "problem_yaml_too_deep",
    "yaml_duplicate_key": "problem_yaml_duplicate_key",
    "yaml_binary": "problem_yaml_binary",
    "yaml_too_large": "problem_yaml_too_large",
    "yaml_too_long": "problem_yaml_too_long",
    "yaml_nul": "problem_yaml_nul",
    "yaml_not_utf8": "problem_yaml_not_utf8",
    "yaml_malformed": "problem_yaml_malformed",
    "unreadable": "problem_unreadable",
    "not_regular_link": "problem_not_regular_link",
    "not_regular_fifo": "problem_not_regular_fifo",
    "not_regular_other": "problem_not_regular_other",
    "not_regular_folder": "problem_not_regular_folder",
    "not_regular_char": "problem_not_regular_char",
    "not_regular_block": "problem_not_regular_block",
    "not_regular_socket": "problem_not_regular_socket",
    "outside": "problem_outside",
    "unresolvable": "problem_unresolvable",
    "file_too_large": "problem_file_too_large",
    "grew": "problem_grew",
}
_WHOLE_PROBLEMS = frozenset({"problem_reason"})  # ours, worded whole (no field label, no values)
_OWN_PROBLEMS = frozenset(  # ours, worded whole from their values
    {
        "problem_superseded_unknown",
        "problem_superseded_loop",
        "problem_superseded_self",
        "problem_revision_base",
        "problem_revision_invalid",
        "problem_set_by_lessons",
        "problem_id_taken",
        "problem_not_yaml",
        "problem_folder",
        "problem_no_entries_folder",
        "problem_rule_unknown",
        "problem_rule_not_advice",
        "problem_deep",
        "problem_duplicate_id",
        "problem_id_not_file_name",
        "problem_yaml_alias",
        "problem_yaml_too_deep",
        "problem_yaml_duplicate_key",
        "problem_yaml_binary",
        "problem_yaml_too_large",
        "problem_yaml_too_long",
        "problem_yaml_nul",
        "problem_yaml_not_utf8",
        "problem_yaml_malformed",
        "problem_unreadable",
        "problem_not_regular_link",
        "problem_not_regular_fifo",
        "problem_not_regular_other",
        "problem_not_regular_folder",
        "problem_not_regular_char",
        "problem_not_regular_block",
        "problem_not_regular_socket",
        "problem_outside",
        "problem_unresolvable",
        "problem_file_too_large",
        "problem_grew",
    }
)


def _number(value: str | int | float, lang: str) -> str:
    """A limit as the language writes it: 20.000 in Danish, 20,000 in English (whole numbers without decimals)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        return str(value).replace(".", ",") if lang == "da" else str(value)
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "da" else text


class ProblemsError(LessonsError):
    """An input with problems, each naming where; every one is listed, not only the first.

    A subclass names the input in ``subject`` ("the corpus", "the briefing rules").
    """

    subject: ClassVar[str] = "the input"
    subject_key: ClassVar[str] = "subject_input"  # the subject in lessons.words, for describe()
    problems: list[Problem]

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.problems = problems

    def __str__(self) -> str:
        lines = [f"{len(self.problems)} problem(s) in {self.subject}:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)

    def head(self, lang: str) -> str:
        """The line before the problems, in ``lang``."""
        return t("problems_in", lang, n=len(self.problems), subject=t(self.subject_key, lang))

    def describe(self, lang: str) -> str:
        """Every problem in ``lang``, each after its file, line and field (:meth:`Problem.describe`)."""
        return "\n".join([self.head(lang), *(f"  {p.where()}: {p.describe(lang)}" for p in self.problems)])


@dataclass
class CorpusError(ProblemsError):
    """The corpus has problems; every one is listed, not only the first."""

    subject: ClassVar[str] = "the corpus"
    subject_key: ClassVar[str] = "subject_corpus"
    problems: list[Problem] = field(default_factory=list)


class IndexUnusableError(LessonsError):
    """The index is missing, damaged or does not match the corpus or model."""


class ModelNotFoundError(LessonsError):
    """The embedding model cannot be loaded from the configured name or folder."""


class QuestionError(LessonsError):
    """A question (or its filters) cannot be answered as given."""


class BuildLockedError(LessonsError):
    """Another build holds the lock."""


class IngestError(LessonsError):
    """A report upload cannot be ingested."""


UploadValue = str | int | float


class UploadError(IngestError):
    """An upload refused, with the file's ``name`` and a ``code`` whose words are ``upload_<code>`` in both
    languages: before parsing (empty, too large, a name we do not take, bytes that are not what the name says), by
    the parser (an encrypted or damaged PDF, too many pages, no text) or by the ingest's limits (time, memory).

    ``values`` fill the words in: sizes in bytes (``size``, ``limit``), file kinds (``expected``, ``found``: the
    words' ``file_kind`` vocabulary), a ``suffix``, a byte ``offset``, seconds as a float, a ``detail`` from a
    library (its own English, bounded). ``str()`` is the English (the CLI's)."""

    MAX_NAME_CHARS: ClassVar[int] = 120  # a file name is the uploader's to choose: shown at most this long
    MAX_DETAIL_CHARS: ClassVar[int] = 200  # a library's message about a hostile file: shown at most this long

    def __init__(self, code: str, name: str, **values: UploadValue) -> None:
        self.code = code
        self.name = _shortened(name, self.MAX_NAME_CHARS)
        self.values = {k: _shortened(v, self.MAX_DETAIL_CHARS) if isinstance(v, str) else v for k, v in values.items()}
        super().__init__(self.describe("en"))

    @staticmethod
    def known(code: str) -> bool:
        """Whether ``code`` has its words (a code read back from the ingest worker is checked with this)."""
        return f"upload_{code}" in TEXTS

    def describe(self, lang: str) -> str:
        """What is wrong with which file, in ``lang``."""
        values: dict[str, object] = {**self.values, "name": self.name}
        for key in ("expected", "found"):
            if key in values:
                values[key] = label("file_kind", str(values[key]), lang)
        if "suffix" in values and not values["suffix"]:
            values["suffix"] = t("upload_no_suffix", lang)
        size, limit = self.values.get("size"), self.values.get("limit")
        if isinstance(size, int) and isinstance(limit, int):
            values["size"], values["limit"] = size_text(size, lang), size_text(limit, lang)
            if values["size"] == values["limit"]:  # rounded alike: say the bytes
                values["size"], values["limit"] = size_text(size, lang, exact=True), size_text(limit, lang, exact=True)
        if "offset" in values:
            values["offset"] = _number(int(self.values["offset"]), lang)
        for key, value in self.values.items():
            if isinstance(value, float):
                values[key] = _number(value, lang)
        return t(f"upload_{self.code}", lang, **values)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def size_text(n_bytes: int, lang: str, *, exact: bool = False) -> str:
    """A file size as the language writes it: '512 bytes', '2.9 kB', '25 MB', '2 GB' ('2,9 kB' in Danish; units of
    1024); ``exact``: in bytes ('2.001 byte', '2,001 bytes')."""
    if exact or n_bytes < 1024:
        return t("size_bytes", lang, n=_number(n_bytes, lang))
    power = 1 if n_bytes < 1024**2 else 2 if n_bytes < 1024**3 else 3
    return f"{_number(round(n_bytes / 1024**power, 1), lang)} {('kB', 'MB', 'GB')[power - 1]}"


class StorageError(LessonsError):
    """The operating system refused a read or write (disk full, no permission, a folder in the way).

    The message names the path and what to do; the operation left nothing half-written. Made by
    :func:`lessons.files.storage_error`: ``doing`` (what was being done: ``storage_doing_<doing>`` in
    :mod:`lessons.words`), ``reason`` (what the OS said, in our words: ``storage_<reason>``), ``after``
    (what that means for the user's work: ``storage_after_<after>``, or nothing) and ``detail`` (the OS's
    own English, for a reason we have no words for).
    """

    def __init__(self, path: str, doing: str, reason: str, after: str = "", detail: str = "") -> None:
        self.path, self.doing, self.reason, self.after, self.detail = path, doing, reason, after, detail
        super().__init__(self.describe("en"))

    def describe(self, lang: str) -> str:
        """What failed, where, why and what to do, in ``lang``."""
        doing = t(f"storage_doing_{self.doing}", lang)
        reason = t(f"storage_{self.reason}", lang, doing=doing, detail=self.detail)
        after = t(f"storage_after_{self.after}", lang) if self.after else ""
        return t("storage_failed", lang, doing=doing, path=self.path, reason=reason) + (f". {after}" if after else "")

    def problem(self, file: str) -> Problem:
        """The failure as a :class:`Problem` of ``file`` (a corpus folder that cannot be listed), worded as this is."""
        fields = ("path", "doing", "reason", "after", "detail")
        return Problem(
            file=file, message=str(self), code="storage", values=tuple((k, getattr(self, k)) for k in fields)
        )


class DraftsNotSavedError(StorageError, IngestError):
    """The OS refused to save an ingest's drafts; none of them was saved."""


class UnsafeFileError(LessonsError):
    """A file that is not read: a symbolic link, FIFO, device or folder, one outside our folders, or too large.

    ``code`` says which (``not_regular_link``, ``not_regular_fifo``, ``not_regular_other``, ``not_regular_folder``,
    ``not_regular_char``, ``not_regular_block``, ``not_regular_socket``,
    ``outside``, ``unresolvable``, ``file_too_large``, ``grew``); its words are ``problem_<code>`` in
    :mod:`lessons.words`, filled with ``values`` (``size`` and ``limit`` in bytes, ``inside``, ``detail``).
    ``reason`` is the English without the path; :meth:`describe` says path and reason in either language.
    """

    def __init__(self, path: str, code: str, **values: str | int) -> None:
        self.path, self.code, self.values = path, code, values
        size = values.get("size")
        self.size = size if isinstance(size, int) else None  # set when the file was refused for its size
        self.reason = self.problem(path).describe("en")
        super().__init__(f"{path}: {self.reason}")

    def problem(self, file: str) -> Problem:
        """The refusal as a :class:`Problem` of ``file`` (a corpus listing names the file its own way)."""
        english = Problem(file=file, message=self.code, code=self.code, values=tuple(self.values.items()))
        return dataclasses.replace(english, message=english.describe("en"))

    def describe(self, lang: str) -> str:
        """The path and why it is not read, in ``lang``."""
        return f"{self.path}: {self.problem(self.path).describe(lang)}"
