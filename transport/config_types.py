"""Reading the config file, and the checks and renderings ``transport.config`` shares
with the declared sections: problem lines that start with the dotted TOML key path, collected
so that one run of ``check-config`` lists every mistake in the file."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from transport.core.settings import show as show

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
_LABEL: Final = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# RFC 7622 localpart: no spaces, controls or the characters below.
_BAD_LOCALPART: Final = re.compile(r"[\s\x00-\x1f\x7f\"&'/:<>@]")

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


def subtable(root: Mapping[str, Any], name: str, problems: Problems) -> Mapping[str, Any] | None:
    """``root[name]`` if it is a table, ``{}`` if absent; None (and a problem) otherwise."""
    value = root.get(name, {})
    if not isinstance(value, dict):
        problems.add(key_path("", name), f"expected a table, got {show(value)}")
        return None
    return value
