"""Documented TOML for a settings table, so ``config.example.toml`` follows the declarations.

Every key is shown with its default (or its declared example) under its ``doc``. A section
that is shown disabled has its TOML lines behind ``# `` and its explanations behind ``## ``,
so that removing the leading ``# `` from every line that has one enables it.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import PurePath
from typing import Final

from transport.core.settings_keys import (
    Key,
    is_settings_table,
    keys,
    map_value_type,
    optional_inner,
)

WIDTH: Final = 95


def toml_value(value: object) -> str:
    """``value`` as a TOML literal (sets sorted, so the output is stable)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | PurePath):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, frozenset | set):
        return toml_value(sorted(value, key=str))
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML literal for {value!r}")


def table_doc(table: type) -> str:
    """The settings table's docstring, which introduces its section in the example."""
    return inspect.cleandoc(table.__doc__ or "")


class ExampleWriter:
    """Lines of one example section; ``enabled`` False comments out the TOML."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.lines: list[str] = []

    def doc(self, text: str) -> None:
        """Explanations, reflowed; lines that start with a space are kept as they are."""
        mark = "#" if self.enabled else "##"
        for line in _reflow(inspect.cleandoc(text), WIDTH - len(mark) - 1):
            self.lines.append(f"{mark} {line}".rstrip())

    def verbatim(self, text: str) -> None:
        """Explanations laid out by hand (tables, command lines): not reflowed."""
        mark = "#" if self.enabled else "##"
        self.lines.extend(f"{mark} {line}".rstrip() for line in text.splitlines())

    def toml(self, line: str) -> None:
        self.lines.append(line if self.enabled else f"# {line}")

    def gap(self) -> None:
        self.lines.append("" if self.enabled else "#")

    def key(self, name: str, value: object, doc: str) -> None:
        self.doc(doc)
        self.toml(f"{name} = {toml_value(value)}")

    def table(self, table: type, path: str) -> None:
        """The keys of ``table``, then its sub-tables (TOML wants them in that order)."""
        declared = keys(table)
        for key in declared:
            if not _is_table(key):
                self.key(key.name, _shown(key), _documented(key))
        for key in declared:
            if _is_table(key):
                self.subtable(key, f"{path}.{key.name}")

    def subtable(self, key: Key, path: str) -> None:
        self.gap()
        hint = optional_inner(key.type)
        entries = map_value_type(hint)
        if entries is not None:
            self.doc(key.spec.doc)
            entry = f"{path}.{json.dumps(str(key.spec.example), ensure_ascii=False)}"
            self.toml(f"[{entry}]")
            self.table(entries, entry)
            return
        self.toml(f"[{path}]")
        self.doc(key.spec.doc)
        assert is_settings_table(hint)
        self.table(hint, path)

    def extend(self, lines: Iterable[str]) -> None:
        self.lines.extend(lines)


def _is_table(key: Key) -> bool:
    hint = optional_inner(key.type)
    return is_settings_table(hint) or map_value_type(hint) is not None


def _documented(key: Key) -> str:
    """The key's doc, and the variable that overrides it if it declares one."""
    if key.spec.env is None:
        return key.spec.doc
    return f"{inspect.cleandoc(key.spec.doc)}\nA non-empty {key.spec.env} in the environment " \
        "overrides it."


def _shown(key: Key) -> object:
    if key.spec.example is not None:
        return key.spec.example
    if key.required:
        raise TypeError(f"required key {key.name} declares no example")
    return key.default


def _reflow(text: str, width: int) -> Iterator[str]:
    """Paragraphs filled to ``width``; blank and indented lines kept as written."""
    paragraph: list[str] = []
    for line in [*text.splitlines(), None]:
        if line and not line[0].isspace():
            paragraph.append(line)
            continue
        if paragraph:
            yield from textwrap.wrap(" ".join(paragraph), width, break_on_hyphens=False)
            paragraph = []
        if line is not None:
            yield line
