"""TOML config file -> typed, validated settings.

Admins see every mistake in one go: each problem is one line that starts with its dotted TOML
key path (``sms.twilio.auth_token: missing``), and ``load_settings`` raises ``ConfigError``
only after reading the whole file. Secrets may come from the environment so that a config
file can be committed without them (``TRANSPORT_<NAME>_SECRET`` for a component's secret, and
the variable a backend's key declares with ``setting(..., secret=True, env="VAR")``); their
values never appear in a message or a repr.

Relative paths (``database.path``) are resolved against the directory of the config file,
not the working directory, so the service behaves the same whoever starts it.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from transport.config_sections import (
    DEFAULT_RETENTION_DAYS as DEFAULT_RETENTION_DAYS,
)
from transport.config_sections import LOG_LEVELS as LOG_LEVELS
from transport.config_sections import MAX_RETENTION_DAYS as MAX_RETENTION_DAYS
from transport.config_sections import (
    ComponentKeys,
    DatabaseSettings,
    LoggingSettings,
    MetricsSettings,
    XmppSettings,
)
from transport.config_types import ConfigError, Problems, key_path, read_toml, show, subtable
from transport.core import registry
from transport.core.backend import Backend, SettingsError, SharedSettings
from transport.core.settings import parse_settings
from transport.core.settings_secrets import env_overrides

T = TypeVar("T")

__all__ = [
    "LOG_LEVELS",
    "ComponentSettings",
    "ConfigError",
    "DatabaseSettings",
    "MetricsSettings",
    "Settings",
    "XmppSettings",
    "env_secret_name",
    "load_settings",
]

CORE_SECTIONS = ("xmpp", "database", "logging", "metrics")
GENERIC_KEYS = ("enabled", "jid", "secret")
_MIN_SCRUBBED = 4  # shorter "secrets" would garble messages more than they'd protect


@dataclass(frozen=True, slots=True)
class ComponentSettings:
    """One enabled backend section: its component domain, secret and backend settings.

    ``backend_settings`` is whatever ``backend.parse_settings`` returned; it is kept out of
    the repr because it may hold backend secrets (API tokens).
    """

    name: str
    jid: str
    secret: str = field(repr=False)
    backend: type[Backend[Any]]
    backend_settings: Any = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``transport.app.run`` needs; ``source`` is the config file it came from."""

    xmpp: XmppSettings
    database: DatabaseSettings
    components: tuple[ComponentSettings, ...]
    log_level: str = "INFO"
    source: Path = Path()
    metrics: MetricsSettings | None = None  # no [metrics] section: no HTTP listener


def env_secret_name(backend_name: str) -> str:
    """``TRANSPORT_<NAME>_SECRET``: the variable overriding a component's ``secret``."""
    return f"TRANSPORT_{re.sub(r'[^A-Z0-9]', '_', backend_name.upper())}_SECRET"


def load_settings(
    path: Path,
    env: Mapping[str, str] | None = None,
    backends: Mapping[str, type[Backend[Any]]] | None = None,
) -> Settings:
    """Read and validate ``path``; raise ``ConfigError`` listing every problem.

    ``env`` defaults to ``os.environ`` and ``backends`` to the installed entry points.
    """
    source = Path(os.path.abspath(path))
    data = read_toml(source)
    if backends is None:
        backends = registry.load_backends()
    failures: Mapping[str, str] = getattr(backends, "failures", {})
    reader = _Reader(source, os.environ if env is None else env, backends, failures)
    return reader.read(data)


class _Reader:
    """One pass over a parsed file, collecting problems instead of stopping at the first."""

    def __init__(
        self,
        source: Path,
        env: Mapping[str, str],
        backends: Mapping[str, type[Backend[Any]]],
        failures: Mapping[str, str],
    ) -> None:
        self.source = source
        self.env = env
        self.backends = backends
        self.failures = failures
        self.problems = Problems()
        self.secrets: set[str] = set()
        self.enabled = 0

    def read(self, data: Mapping[str, Any]) -> Settings:
        xmpp = self._section(XmppSettings, data, "xmpp") or XmppSettings()
        database = self._database(self._section(DatabaseSettings, data, "database"))
        logging = self._section(LoggingSettings, data, "logging") or LoggingSettings()
        metrics = self._section(MetricsSettings, data, "metrics") if "metrics" in data else None
        components: list[ComponentSettings] = []
        for name, value in data.items():
            if name in CORE_SECTIONS:
                continue
            component = self._component(name, value)
            if component is not None:
                components.append(component)
        self._check_components(components)
        self._check_shared(components, SharedSettings(xmpp.allowed_domains, database.path))
        if self.problems.lines:
            raise ConfigError([self._scrub(line) for line in self.problems.lines])
        return Settings(xmpp, database, tuple(components), logging.level, self.source, metrics)

    def _section(self, table: type[T], data: Mapping[str, Any], name: str) -> T | None:
        """One of the core's sections; None when it has problems (they are recorded)."""
        return self._parsed(table, subtable(data, name, self.problems), name)

    def _parsed(self, table: type[T], data: Mapping[str, Any] | None, path: str) -> T | None:
        if data is None:
            return None
        try:
            return parse_settings(table, data)
        except ExceptionGroup as group:
            self._backend_problems(path, group)
            return None

    def _database(self, parsed: DatabaseSettings | None) -> DatabaseSettings:
        """``database.path`` made absolute against the config file's directory."""
        relative = parsed.path.expanduser() if parsed else Path()
        path = Path(os.path.normpath(self.source.parent / relative))
        if parsed is None:
            return DatabaseSettings(path=path)
        return dataclasses.replace(parsed, path=path)

    def _component(self, name: str, value: Any) -> ComponentSettings | None:
        """Read one backend section; None when it is disabled or has problems."""
        path = key_path("", name)
        backend = self.backends.get(name)
        if backend is None and name not in self.failures:
            if not isinstance(value, dict):
                self.problems.add(path, "unknown key")
                return None
            installed = ", ".join(sorted(self.backends)) or "none"
            self.problems.add(path, f"unknown section (installed backends: {installed})")
            return None
        if not isinstance(value, dict):
            self.problems.add(path, f"expected a table, got {show(value)}")
            return None
        section = dict(value)
        generic = {k: section.pop(k) for k in GENERIC_KEYS if k in section}
        if generic.get("enabled", True) is False:
            return None
        self.enabled += 1
        if backend is None:
            self.problems.add(path, f"backend failed to load ({self.failures[name]})")
            return None
        if isinstance(generic.get("secret"), str):
            self.secrets.add(generic["secret"])
        env_secret = self.env.get(env_secret_name(name), "")
        if env_secret:  # the environment wins; the file's value is not checked
            generic["secret"] = env_secret
            self.secrets.add(env_secret)
        keys = self._parsed(ComponentKeys, generic, path)
        before = len(self.problems.lines)
        self._apply_env_overrides(path, backend, section)
        if len(self.problems.lines) > before:
            return None
        try:
            parsed = backend.parse_settings(section)
        except Exception as exc:  # a backend's bug must still end as a problem line
            self._backend_problems(path, exc)
            return None
        if keys is None:
            return None
        return ComponentSettings(name, keys.jid, keys.secret, backend, parsed)

    def _apply_env_overrides(
        self, path: str, backend: type[Backend[Any]], section: dict[str, Any]
    ) -> None:
        """Put the values of the variables that ``settings_type``'s keys declare (``env``)
        into the section, creating tables as needed."""
        if backend.settings_type is None:
            return
        try:
            overrides = env_overrides(backend.settings_type)
        except TypeError as exc:  # a backend's bad declaration must still end as a problem
            self._backend_problems(path, exc)
            return
        blocked: set[str] = set()  # a non-table in the way, reported once
        for dotted, variable in overrides.items():
            value = self.env.get(variable, "")
            *parents, leaf = dotted.split(".")
            table, where = section, path
            for part in parents:
                where = key_path(where, part)
                child = table.get(part)
                if child is None and not value:
                    break  # nothing in the file, nothing to put: the table stays absent
                if child is None:
                    child = {}
                if not isinstance(child, dict):
                    if where not in blocked:
                        self.problems.add(where, f"expected a table, got {show(child)}")
                        blocked.add(where)
                    break
                table[part] = child = dict(child)  # never mutate the parsed file
                table = child
            else:
                current = table.get(leaf)
                if isinstance(current, str | int | float) and not isinstance(current, bool):
                    self.secrets.add(str(current))  # a backend's message might quote it
                if value:
                    self.secrets.add(value)
                    table[leaf] = value

    def _backend_problems(self, path: str, exc: BaseException) -> None:
        if isinstance(exc, SettingsError):
            # a backend's key is already a dotted path (``twilio.auth_token``)
            self.problems.add(f"{path}.{exc.key}" if exc.key else path, exc.problem)
        elif isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                self._backend_problems(path, inner)
        else:
            self.problems.add(path, f"invalid settings ({type(exc).__name__}: {exc})")

    def _check_components(self, components: list[ComponentSettings]) -> None:
        if not self.enabled:
            self.problems.add("", "no backend is enabled")
        by_jid: dict[str, str] = {}
        for component in components:
            other = by_jid.setdefault(component.jid, component.name)
            if other != component.name:
                self.problems.add(
                    key_path(component.name, "jid"),
                    f"{show(component.jid)} is already the jid of {other}",
                )

    def _check_shared(
        self, components: list[ComponentSettings], shared: SharedSettings
    ) -> None:
        """Each backend's own check of its settings against ``[xmpp]`` and ``[database]``."""
        for component in components:
            try:
                found = component.backend.check_shared(component.backend_settings, shared)
            except Exception as exc:  # a backend's bug must still end as a problem line
                self._backend_problems(component.name, exc)
                continue
            for problem in found:
                self._backend_problems(component.name, problem)

    def _scrub(self, line: str) -> str:
        """Belt and braces: hide any secret a backend's message might have quoted."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= _MIN_SCRUBBED:
                line = line.replace(secret, "***")
        return line
