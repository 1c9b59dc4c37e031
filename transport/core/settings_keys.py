"""Declaring settings: a backend lists its config keys once, as a frozen dataclass.

A settings table is a class decorated with ``settings_table`` whose fields are declared
with ``setting(...)``: the annotation is the key's type (``bool``, ``int``, ``float``,
``str``, ``Path``, a ``Literal``, ``X | None``, ``tuple[X, ...]``, ``frozenset[X]``,
another settings table for a sub-table such as ``[sms.limits]``, or ``Mapping[str, Table]``
for a table of sub-tables such as ``[irc.servers."HOST"]``), and the metadata says what
the key means.
``transport.core.settings.parse_settings`` reads a config section into such a class and
``transport.core.settings_example`` renders its documented TOML for ``config.example.toml``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import types
from collections.abc import Callable, Mapping
from typing import (
    Any,
    Final,
    Literal,
    Never,
    TypeGuard,
    TypeVar,
    Union,
    dataclass_transform,
    get_args,
    get_origin,
    get_type_hints,
    overload,
)

T = TypeVar("T")

Check = Callable[[Never], object]
"""Normalises one value of the declared type (one item of a list, one key of a table of
tables): returns the value to keep, None when it is not acceptable (the problem is then
"expected EXPECTED, got VALUE"), or raises ``ValueError(problem)``."""

Derive = Callable[[Mapping[str, object]], object]
"""The default of an absent key, computed from the values read for the table's other keys."""

_SPEC: Final = "transport.setting"
_TABLE: Final = "__settings_table__"
_MAX_SHOWN: Final = 60
_ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SettingsError(ValueError):
    """A problem in a backend's config section; ``key`` is relative to the section."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclasses.dataclass(frozen=True, slots=True)
class SettingSpec:
    """What ``setting(...)`` declared about one key, beyond its type and default."""

    doc: str
    expected: str | None = None
    plural: str | None = None
    low: float | None = None
    high: float | None = None
    allow_zero: bool = False
    check: Check | None = None
    derive: Derive | None = None
    secret: bool = False
    example: object = None
    env: str | None = None


@overload
def setting(
    *, default: T, doc: str, expected: str | None = None, plural: str | None = None,
    low: float | None = None, high: float | None = None, allow_zero: bool = False,
    check: Check | None = None, derive: Derive | None = None, secret: bool = False,
    example: object = None, env: str | None = None,
) -> T: ...


@overload
def setting(
    *, default_factory: Callable[[], T], doc: str, expected: str | None = None,
    plural: str | None = None, low: float | None = None, high: float | None = None,
    allow_zero: bool = False, check: Check | None = None, example: object = None,
) -> T: ...


@overload
def setting(  # a required key: like dataclasses.field(), its type is the annotation's
    *, doc: str, expected: str | None = None, plural: str | None = None,
    low: float | None = None, high: float | None = None, allow_zero: bool = False,
    check: Check | None = None, secret: bool = False, example: object = None,
    env: str | None = None,
) -> Any: ...


def setting(
    *, default: object = dataclasses.MISSING,
    default_factory: Callable[[], object] | None = None, doc: str,
    expected: str | None = None, plural: str | None = None, low: float | None = None,
    high: float | None = None, allow_zero: bool = False, check: Check | None = None,
    derive: Derive | None = None, secret: bool = False, example: object = None,
    env: str | None = None,
) -> Any:
    """Declare one key of a settings table.

    ``doc`` explains the key in ``config.example.toml`` (several lines are fine). A key
    without a default is required; a sub-table needs none (an absent one is read as empty).
    ``expected`` describes an acceptable value (of one item, for lists) and ``plural`` the
    list as a whole; ``low``/``high`` bound numbers; floats must be greater than 0 unless
    ``allow_zero``. ``check`` normalises a value after its type was checked, ``derive``
    computes the default from the table's other keys. A ``secret`` is never quoted in a
    message, a repr or a log. ``env`` names the environment variable that, when set and not
    empty, replaces a secret string key's value (so the config file can be committed
    without it; a required key is then satisfied by the variable alone). ``example`` is
    what the example config shows instead of the default (required for a required key; the
    host name of a table of sub-tables).
    """
    if env is not None and not (secret and _ENV_NAME.fullmatch(env)):
        raise TypeError(f"setting(env={env!r}): a variable name (letters, digits, _), "
                        "for a secret=True key")
    spec = SettingSpec(doc, expected, plural, low, high, allow_zero, check, derive, secret,
                       example, env)
    metadata = {_SPEC: spec}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata,
                                 repr=not secret)
    return dataclasses.field(default=default, metadata=metadata, repr=not secret)


@dataclass_transform(frozen_default=True, field_specifiers=(setting,))
def settings_table(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass that ``parse_settings`` can read."""
    made = dataclasses.dataclass(frozen=True, slots=True)(cls)
    setattr(made, _TABLE, True)
    return made


def is_settings_table(value: object) -> TypeGuard[type]:
    """Whether ``value`` is a class decorated with ``settings_table``."""
    return isinstance(value, type) and getattr(value, _TABLE, False) is True


@dataclasses.dataclass(frozen=True, slots=True)
class Key:
    """One declared key: its name, resolved type, declaration and default."""

    name: str
    type: object
    spec: SettingSpec
    default: object  # dataclasses.MISSING: required

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING and not is_settings_table(self.type)


@functools.cache
def keys(table: type) -> tuple[Key, ...]:
    """The declared keys of a settings table, in declaration order."""
    hints = get_type_hints(table)
    found: list[Key] = []
    for item in dataclasses.fields(table):
        spec = item.metadata.get(_SPEC)
        if not isinstance(spec, SettingSpec):
            raise TypeError(f"{table.__name__}.{item.name} is not declared with setting()")
        default: object = item.default
        if item.default_factory is not dataclasses.MISSING:
            default = item.default_factory()
        found.append(Key(item.name, hints[item.name], spec, default))
    return tuple(found)


def optional_inner(hint: object) -> object:
    """``X`` for ``X | None``; ``hint`` itself otherwise."""
    if get_origin(hint) in (Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return hint


def map_value_type(hint: object) -> type | None:
    """The sub-table type of ``Mapping[str, Table]`` (or ``dict``), else None."""
    if get_origin(hint) in (Mapping, dict):
        value = get_args(hint)[1]
        return value if is_settings_table(value) else None
    return None


def literal_choices(hint: object) -> tuple[object, ...] | None:
    """The choices of a ``Literal[...]`` type, else None."""
    return get_args(hint) if get_origin(hint) is Literal else None


def show(value: object) -> str:
    """A short TOML-like rendering of a (non-secret) value for an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) > _MAX_SHOWN:
            value = value[:_MAX_SHOWN] + "..."
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)

