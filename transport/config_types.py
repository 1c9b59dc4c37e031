"""Reading the config file and checking its values, for ``transport.config``.

Every check records a problem line that starts with the dotted TOML key path and returns a
placeholder instead of raising, so that one run of ``check-config`` lists every mistake in
the file rather than the first one.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from transport.core.settings import show as show

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
_LABEL: Final = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# RFC 7622 localpart: no spaces, controls or the characters below.
_BAD_LOCALPART: Final = re.compile(r"[\s\x00-\x1f\x7f\"&'/:<>@]")

Check = Callable[[str], str | None]
"""Normalises a string, or returns None when it is not acceptable."""


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_toml(source: Path) -> dict[str, Any]:
    """Parse the file; an unreadable file or bad TOML is a single problem naming the line."""
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read: {exc.strerror or exc}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([f"{source}:{line}: not UTF-8 text"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if where:
            message = message[: where.start()]
            location = f"{source}:{where[1]}:{where[2]}"
        else:
            message = re.sub(r"\s*\(at end of document\)$", "", message)
            location = f"{source}:{text.count(chr(10)) + 1}"
        raise ConfigError([f"{location}: invalid TOML: {message}"]) from None


def key_path(parent: str, key: str) -> str:
    """The dotted TOML path of ``key`` inside ``parent``, quoting keys TOML must quote."""
    part = key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
    return f"{parent}.{part}" if parent else part


def domain_name(value: str) -> str | None:
    """A lower-cased DNS name (IDNs allowed), or None. One label ("localhost") is fine."""
    if not value or value.endswith(".") or len(value) > 253:
        return None
    try:
        ascii_form = value.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    if not all(_LABEL.fullmatch(label) for label in ascii_form.split(".")):
        return None
    return value.lower()


def bare_jid(value: str) -> str | None:
    """A lower-cased ``local@domain`` (as slixmpp compares them), or None."""
    local, at, domain = value.partition("@")
    if not at or not local or len(local.encode()) > 1023 or _BAD_LOCALPART.search(local):
        return None
    checked = domain_name(domain)
    return None if checked is None else f"{local.lower()}@{checked}"


class Problems:
    """Collects problem lines in file order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, path: str, problem: str) -> None:
        self.lines.append(f"{path or '(root)'}: {problem}")


class Table:
    """A TOML table being read; keys never asked for are reported as unknown by ``finish``."""

    def __init__(self, data: Mapping[str, Any], path: str, problems: Problems) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self._used: set[str] = set()

    def _get(self, key: str) -> Any:
        self._used.add(key)
        return self.data.get(key)

    def ignore(self, key: str) -> None:
        """Accept ``key`` without checking it (its value is overridden elsewhere)."""
        self._used.add(key)

    def _bad(self, key: str, problem: str) -> None:
        self.problems.add(key_path(self.path, key), problem)

    def text(self, key: str, default: str | None = None, *, secret: bool = False) -> str:
        """A non-empty string; ``default=None`` makes the key required."""
        value = self._get(key)
        if value is None:
            if default is None:
                self._bad(key, "missing")
            return default or ""
        if not isinstance(value, str):
            got = "" if secret else f", got {show(value)}"
            self._bad(key, f"expected a string{got}")
            return ""
        if not value.strip():
            self._bad(key, "must not be empty")
        return value

    def checked(self, key: str, check: Check, expected: str, default: str | None = None) -> str:
        """A string normalised by ``check``; ``expected`` describes what it should be."""
        value = self._get(key)
        if value is None:
            if default is None:
                self._bad(key, "missing")
            return default or ""
        result = check(value) if isinstance(value, str) else None
        if result is None:
            self._bad(key, f"expected {expected}, got {show(value)}")
            return ""
        return result

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self._bad(key, f"expected an integer from {low} to {high}, got {show(value)}")
            return default
        return value

    def positive(self, key: str, default: float) -> float:
        """A number of seconds greater than zero (an integer is fine too)."""
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            self._bad(key, f"expected a number greater than 0, got {show(value)}")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._bad(key, f"expected true or false, got {show(value)}")
            return default
        return value

    def choice(self, key: str, default: str, choices: Iterable[str]) -> str:
        """One of ``choices``, compared case-insensitively and returned as listed."""
        value = self._get(key)
        if value is None:
            return default
        options = list(choices)
        found = [c for c in options if isinstance(value, str) and value.lower() == c.lower()]
        if not found:
            listed = ", ".join(json.dumps(c) for c in options)
            self._bad(key, f"expected one of {listed}, got {show(value)}")
            return default
        return found[0]

    def checked_list(self, key: str, check: Check, expected: str) -> tuple[str, ...]:
        """A list of strings each normalised by ``check``; duplicates are dropped."""
        value = self._get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self._bad(key, f"expected a list of strings, got {show(value)}")
            return ()
        result: list[str] = []
        for index, item in enumerate(value):
            checked = check(item) if isinstance(item, str) else None
            if checked is None:
                where = f"{key_path(self.path, key)}[{index}]"
                self.problems.add(where, f"expected {expected}, got {show(item)}")
            elif checked not in result:
                result.append(checked)
        return tuple(result)

    def finish(self) -> None:
        """Report every key that no reader asked for."""
        for key in self.data:
            if key not in self._used:
                self._bad(key, "unknown key")


def subtable(root: Mapping[str, Any], name: str, problems: Problems) -> Mapping[str, Any] | None:
    """``root[name]`` if it is a table, ``{}`` if absent; None (and a problem) otherwise."""
    value = root.get(name, {})
    if not isinstance(value, dict):
        problems.add(key_path("", name), f"expected a table, got {show(value)}")
        return None
    return value
