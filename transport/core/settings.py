"""The settings helper backends share: declare keys once (``settings_table``, ``setting``),
read a config section with ``parse_settings``.

Every problem is collected, not just the first, and raised as one ``ExceptionGroup`` of
``SettingsError`` whose keys are dotted paths relative to the section
(``twilio.auth_token: missing``, ``servers."irc.example.org".port: ...``), so that
``check-config`` lists them all at once. Keys nobody declared are refused. A secret's value
never appears in a message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Final, TypeVar, get_args, get_origin

from transport.core.settings_keys import Check as Check
from transport.core.settings_keys import Derive as Derive
from transport.core.settings_keys import (
    Key,
    SettingSpec,
    is_settings_table,
    keys,
    literal_choices,
    map_value_type,
    optional_inner,
    show,
)
from transport.core.settings_keys import SettingsError as SettingsError
from transport.core.settings_keys import setting as setting
from transport.core.settings_keys import settings_table as settings_table

T = TypeVar("T")

_INVALID: Final = object()


def parse_settings(table: type[T], section: Mapping[str, object]) -> T:
    """Read a config section into ``table``; raise every problem as one ``ExceptionGroup``."""
    reader = _Reader()
    parsed = reader.table(table, section, "")
    if reader.problems:
        raise ExceptionGroup(f"{table.__name__}: invalid settings", reader.problems)
    assert isinstance(parsed, table)
    return parsed


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Reader:
    """One pass over a section; a value with a problem becomes ``_INVALID``."""

    def __init__(self) -> None:
        self.problems: list[SettingsError] = []

    def bad(self, key: str, problem: str) -> object:
        self.problems.append(SettingsError(key, problem))
        return _INVALID

    def table(self, table: type, data: Mapping[str, object], path: str) -> object:
        before = len(self.problems)
        values: dict[str, object] = {}
        declared = keys(table)
        # a table's own keys first, then its sub-tables, as TOML writes them
        for key in sorted(declared, key=lambda k: _holds_tables(k.type)):
            where = _join(path, key.name)
            if key.name in data:
                values[key.name] = self.value(key.type, data[key.name], where, key.spec)
            elif is_settings_table(key.type):
                values[key.name] = self.subtable(key.type, {}, where)
            elif key.required:
                values[key.name] = self.bad(where, "missing")
        for key in declared:  # derived defaults see every other key
            if key.name not in values and key.spec.derive is not None:
                values[key.name] = key.spec.derive(values)
        names = {key.name for key in declared}
        for name in data:
            if name not in names:
                self.bad(_join(path, name), "unknown key")
        if len(self.problems) > before:
            return _INVALID
        return table(**values)

    def subtable(self, table: type, raw: object, where: str) -> object:
        if not isinstance(raw, dict):
            self.bad(where, "expected a table")
            raw = {}
        return self.table(table, raw, where)

    def value(self, hint: object, raw: object, where: str, spec: SettingSpec) -> object:
        hint = optional_inner(hint)
        if is_settings_table(hint):
            return self.subtable(hint, raw, where)
        sub = map_value_type(hint)
        if sub is not None:
            return self.tables(sub, raw, where, spec)
        origin = get_origin(hint)
        if origin in (tuple, frozenset):
            return self.items(get_args(hint)[0], origin, raw, where, spec)
        return self.scalar(hint, raw, where, spec)

    def tables(self, table: type, raw: object, where: str, spec: SettingSpec) -> object:
        """A table of sub-tables, such as ``[irc.servers."HOST"]``."""
        if not isinstance(raw, dict):
            return self.bad(where, f"expected {spec.expected or 'a table'}, got {show(raw)}")
        result: dict[str, object] = {}
        for name, entry in raw.items():
            entry_path = f"{where}.{json.dumps(name, ensure_ascii=False)}"
            key = self.checked(name, spec, entry_path) if spec.check else name
            result[str(key)] = self.subtable(table, entry, entry_path)
        return result

    def items(self, item: object, kind: type, raw: object, where: str,
              spec: SettingSpec) -> object:
        """A list, duplicates dropped: a tuple in declared order, or a frozenset."""
        if not isinstance(raw, list):
            what = f"a list of {spec.plural}" if spec.plural else "a list"
            return self.bad(where, f"expected {what}, got {show(raw)}")
        found: list[object] = []
        for index, entry in enumerate(raw):
            value = self.scalar(item, entry, f"{where}[{index}]", spec)
            if value is not _INVALID and value not in found:
                found.append(value)
        return frozenset(found) if kind is frozenset else tuple(found)

    def scalar(self, hint: object, raw: object, where: str, spec: SettingSpec) -> object:
        problem = _type_problem(hint, raw, spec)
        if problem is not None:
            return self.bad(where, self.expected(raw, spec) or problem)
        value = _converted(hint, raw)
        if spec.check is None:
            return value
        return self.checked(value, spec, where)

    def checked(self, value: object, spec: SettingSpec, at: str) -> object:
        """``spec.check`` applied; its refusal is a problem at ``at``."""
        assert spec.check is not None
        try:
            result = spec.check(value)  # type: ignore[arg-type]  # declared for its key's type
        except ValueError as exc:
            return self.bad(at, str(exc))
        if result is None:
            return self.bad(at, self.expected(value, spec) or f"not accepted: {show(value)}")
        return result

    @staticmethod
    def expected(raw: object, spec: SettingSpec) -> str | None:
        if spec.expected is None:
            return None
        return f"expected {spec.expected}" + ("" if spec.secret else f", got {show(raw)}")


def _holds_tables(hint: object) -> bool:
    inner = optional_inner(hint)
    return is_settings_table(inner) or map_value_type(inner) is not None


def _type_problem(hint: object, raw: object, spec: SettingSpec) -> str | None:
    """Why ``raw`` is not a value of ``hint`` (within its bounds), or None."""
    got = "" if spec.secret else f", got {show(raw)}"
    if hint is bool:
        return None if isinstance(raw, bool) else f"expected true or false{got}"
    if hint is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool) and _within(raw, spec)
        if spec.low is None or spec.high is None:
            return None if ok else f"expected an integer{got}"
        return None if ok else f"expected an integer from {spec.low} to {spec.high}{got}"
    if hint is float:
        ok = isinstance(raw, int | float) and not isinstance(raw, bool) and _within(raw, spec)
        ok = ok and (raw >= 0 if spec.allow_zero else raw > 0)  # type: ignore[operator]
        return None if ok else f"expected a number {_least(spec)}{got}"
    if hint is str or hint is Path:
        if not isinstance(raw, str):
            return f"expected a string{got}"
        return None if raw.strip() else "must not be empty"
    choices = literal_choices(hint)
    if choices is not None:
        listed = ", ".join(json.dumps(c) for c in choices)
        return None if _choice(choices, raw) is not None else f"expected one of {listed}{got}"
    raise TypeError(f"settings cannot hold {hint!r}")


def _converted(hint: object, raw: object) -> object:
    """A checked value as the declared type holds it."""
    if hint is float and isinstance(raw, int):
        return float(raw)
    if hint is Path and isinstance(raw, str):
        return Path(raw)
    choices = literal_choices(hint)
    return raw if choices is None else _choice(choices, raw)


def _choice(choices: tuple[object, ...], raw: object) -> object:
    """The choice ``raw`` names (text compared case-insensitively, returned as declared)."""
    for choice in choices:
        same_text = isinstance(choice, str) and isinstance(raw, str) \
            and choice.lower() == raw.lower()
        if same_text or (choice == raw and type(choice) is type(raw)):
            return choice
    return None


def _least(spec: SettingSpec) -> str:
    return "0 or more" if spec.allow_zero else "greater than 0"


def _within(value: object, spec: SettingSpec) -> bool:
    assert isinstance(value, int | float)
    return (spec.low is None or value >= spec.low) and (spec.high is None or value <= spec.high)


__all__ = [
    "Check",
    "Derive",
    "Key",
    "SettingSpec",
    "SettingsError",
    "keys",
    "parse_settings",
    "setting",
    "settings_table",
    "show",
]
