"""Safe, bounded YAML reading and writing for corpus files.

Only plain YAML is accepted: no aliases (the "billion laughs" bomb), no custom
tags, no binary. Files are size-limited before parsing, and nesting is limited
while parsing (a deeply nested document would otherwise exhaust the recursion).
"""

from __future__ import annotations

from typing import Any

import yaml

from lessons.errors import Problem

__all__ = ["MAX_YAML_BYTES", "MAX_YAML_DEPTH", "YamlError", "dump_yaml", "key_lines", "load_yaml", "path_lines"]

MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 32  # corpus entries nest three levels deep; a bomb nests thousands


class YamlError(Exception):
    """A YAML text that cannot be read; carries the line when known."""

    def __init__(self, message: str, line: int | None = None, *, code: str, **values: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.code = code  # its words: problem_yaml_<code> in lessons.words, filled with ``values``
        self.values = values

    def problem(self, file: str) -> Problem:
        """The error as a problem of ``file``, with its line."""
        return Problem(
            file=file, message=self.message, line=self.line, code=f"yaml_{self.code}", values=tuple(self.values.items())
        )


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (so an alias bomb cannot expand), deep nesting and binary values."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise YamlError(
                "YAML aliases (*name) are not allowed in corpus files", event.start_mark.line + 1, code="alias"
            )
        if self._depth >= MAX_YAML_DEPTH:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise YamlError(
                f"YAML nested more than {MAX_YAML_DEPTH} levels deep",
                event.start_mark.line + 1,
                code="too_deep",
                depth=MAX_YAML_DEPTH,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping, refusing a key given twice: YAML would silently keep only the last value."""
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class refuses it with its own message
                continue
            line = key_node.start_mark.line + 1
            if first is not None:
                raise YamlError(
                    f"key {key!r} is given twice (first on line {first}); keep one of them",
                    line,
                    code="duplicate_key",
                    given=repr(key)[:200],
                    first=first,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _refuse_binary(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise YamlError("binary values (!!binary) are not allowed in corpus files", node.start_mark.line + 1, code="binary")


_StrictLoader.add_constructor("tag:yaml.org,2002:binary", _refuse_binary)


def _as_text(data: bytes | str) -> str:
    if isinstance(data, bytes):
        if len(data) > MAX_YAML_BYTES:
            raise YamlError(
                f"file is {len(data):,} bytes; the limit is {MAX_YAML_BYTES:,}",
                code="too_large",
                size=len(data),
                limit=MAX_YAML_BYTES,
            )
        if b"\x00" in data:
            raise YamlError("file contains NUL bytes; it looks binary, not YAML text", code="nul")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlError(f"file is not UTF-8 text (byte {exc.start})", code="not_utf8", byte=exc.start) from None
    if len(data) > MAX_YAML_BYTES:
        raise YamlError(
            f"text is {len(data):,} characters; the limit is {MAX_YAML_BYTES:,}",
            code="too_long",
            size=len(data),
            limit=MAX_YAML_BYTES,
        )
    return data


def load_yaml(data: bytes | str) -> Any:
    """Parse one YAML document safely; raise :class:`YamlError` with a line number."""
    text = _as_text(data)
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = str(exc.problem or exc.context)
        raise YamlError(f"malformed YAML: {detail}", line, code="malformed", detail=detail[:300]) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"malformed YAML: {exc}", code="malformed", detail=str(exc)[:300]) from None


def key_lines(data: bytes | str) -> dict[str, int]:
    """Line number of each top-level key, for pointing errors at a line. Empty if unreadable."""
    try:
        node = yaml.compose(_as_text(data), Loader=_StrictLoader)
    except (YamlError, yaml.YAMLError):
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


class _Dumper(yaml.SafeDumper):
    """Block style, long strings folded readably, keys in model order."""


# Characters YAML reads as line breaks besides "\n": the emitter writes them raw in plain, quoted and
# block scalars, and the reader then folds them, so a value holding one is written double-quoted (escaped).
_OTHER_BREAKS = frozenset("\r\x85\u2028\u2029")


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _OTHER_BREAKS.intersection(value):
        style: str | None = '"'
    else:
        style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(data: dict[str, Any]) -> str:
    """Serialise a mapping to YAML that a curator can read and edit."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def path_lines(data: bytes | str) -> dict[tuple[str | int, ...], int]:
    """Line number of every key and list item, by its path (e.g. ``("rules", 3, "when")``). Empty if unreadable.

    Lets a validation error deep inside a nested file point at its line. The walk is
    bounded by the loader's nesting limit and by the size of the text.
    """
    try:
        root = yaml.compose(_as_text(data), Loader=_StrictLoader)
    except (YamlError, yaml.YAMLError):
        return {}
    out: dict[tuple[str | int, ...], int] = {}
    stack: list[tuple[tuple[str | int, ...], yaml.Node]] = [((), root)] if root is not None else []
    while stack:
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    child = (*path, str(key.value))
                    out[child] = key.start_mark.line + 1
                    stack.append((child, value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                out[child] = item.start_mark.line + 1
                stack.append((child, item))
    return out
