"""The ``[irc]`` config section: which IRC servers users may reach, and how.

Hosts listed under ``[irc.servers."HOST"]`` are always allowed, on the admin's port and TLS
choice; any other host only with ``allow_any_server`` (then TLS on 6697 with certificate
checks, biboumi's first choice), on public addresses only unless ``allow_private_addresses``,
and on ports a user picks only from ``user_ports`` (see :mod:`.hosts`).
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from transport.core.backend import SettingsError

_TOP_KEYS = (
    "allow_any_server",
    "allow_private_addresses",
    "user_ports",
    "throttle_limit",
    "queue_limit",
    "queue_timeout",
    "reconnect_max_delay",
    "persistent_by_default",
    "retention_days",
    "connects_per_second",
    "max_connecting",
    "servers",
)
_SERVER_KEYS = ("port", "tls", "verify_cert", "encoding", "connects_per_second",
                "max_connecting")
#: New connections to one host: at most this many per second, and this many registering at
#: once (500 users join in about 50 s; below real networks' per-IP throttles).
DEFAULT_CONNECTS_PER_SECOND = 10.0
DEFAULT_MAX_CONNECTING = 8


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to reach one IRC host; users may still override ports and TLS in their prefs."""

    port: int = 6697
    tls: bool = True
    verify_cert: bool = True
    encoding: str = "latin-1"
    connects_per_second: float | None = None  # None: the [irc] default
    max_connecting: int | None = None


@dataclass(frozen=True, slots=True)
class IrcSettings:
    """The IRC backend's own settings (the generic jid/secret are the core's)."""

    allow_any_server: bool = False
    allow_private_addresses: bool = False
    user_ports: tuple[int, ...] = (6667, 6697)
    servers: Mapping[str, ServerConfig] = field(default_factory=dict)
    throttle_limit: int = 10
    queue_limit: int = 100
    queue_timeout: float = 300.0
    reconnect_max_delay: float = 60.0
    persistent_by_default: bool = False
    retention_days: int = 0
    connects_per_second: float = DEFAULT_CONNECTS_PER_SECOND
    max_connecting: int = DEFAULT_MAX_CONNECTING

    def server(self, host: str) -> ServerConfig | None:
        """The config for ``host`` (lower-case), or None when users may not reach it."""
        found = self.servers.get(host.lower())
        if found is not None:
            return found
        return ServerConfig() if self.allow_any_server else None

    def listed(self, host: str) -> bool:
        """Whether the admin named ``host`` under ``[irc.servers]`` (its endpoint is fixed)."""
        return host.lower() in self.servers

    def pacing(self, config: ServerConfig) -> tuple[float, int]:
        """New connections per second and attempts in flight for a host with ``config``."""
        rate = config.connects_per_second
        limit = config.max_connecting
        return (self.connects_per_second if rate is None else rate,
                self.max_connecting if limit is None else limit)


class _Checker:
    """Collects problems so one check-config run reports all of them."""

    def __init__(self) -> None:
        self.errors: list[SettingsError] = []

    def boolean(self, table: Mapping[str, Any], key: str, default: bool, path: str) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.errors.append(SettingsError(path + key, "expected true or false"))
            return default
        return value

    def integer(
        self, table: Mapping[str, Any], key: str, default: int, low: int, high: int, path: str
    ) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.errors.append(
                SettingsError(path + key, f"expected an integer from {low} to {high}"))
            return default
        return value

    def number(self, table: Mapping[str, Any], key: str, default: float, path: str) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.errors.append(SettingsError(path + key, "expected a positive number"))
            return default
        return float(value)

    def ports(self, table: Mapping[str, Any], key: str, default: tuple[int, ...],
              path: str) -> tuple[int, ...]:
        value = table.get(key, list(default))
        if not isinstance(value, list):
            self.errors.append(SettingsError(path + key, "expected a list of port numbers"))
            return default
        out: list[int] = []
        for index, port in enumerate(value):
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                self.errors.append(SettingsError(
                    f"{path}{key}[{index}]", "expected a port number from 1 to 65535"))
                continue
            out.append(port)
        return tuple(dict.fromkeys(out))

    def unknown(self, table: Mapping[str, Any], known: tuple[str, ...], path: str) -> None:
        for key in sorted(set(table) - set(known)):
            self.errors.append(SettingsError(path + key, "unknown key"))


def _server(check: _Checker, host: str, table: Any) -> ServerConfig:
    path = f'servers."{host}".'
    if not isinstance(table, dict):
        check.errors.append(SettingsError(path.rstrip("."), "expected a table"))
        return ServerConfig()
    check.unknown(table, _SERVER_KEYS, path)
    tls = check.boolean(table, "tls", True, path)
    encoding = table.get("encoding", "latin-1")
    try:
        codecs.lookup(str(encoding))
    except LookupError:
        check.errors.append(SettingsError(path + "encoding", "unknown encoding"))
        encoding = "latin-1"
    return ServerConfig(
        port=check.integer(table, "port", 6697 if tls else 6667, 1, 65535, path),
        tls=tls,
        verify_cert=check.boolean(table, "verify_cert", True, path),
        encoding=str(encoding),
        connects_per_second=(check.number(table, "connects_per_second", 1.0, path)
                             if "connects_per_second" in table else None),
        max_connecting=(check.integer(table, "max_connecting", 1, 1, 10_000, path)
                        if "max_connecting" in table else None),
    )


def parse_settings(section: Mapping[str, Any]) -> IrcSettings:
    """``[irc]`` -> ``IrcSettings``; raises an ExceptionGroup of ``SettingsError``s."""
    check = _Checker()
    check.unknown(section, _TOP_KEYS, "")
    servers: dict[str, ServerConfig] = {}
    raw_servers = section.get("servers", {})
    if not isinstance(raw_servers, dict):
        check.errors.append(SettingsError("servers", "expected a table of hosts"))
        raw_servers = {}
    for host, table in raw_servers.items():
        servers[host.lower()] = _server(check, host, table)
    settings = IrcSettings(
        allow_any_server=check.boolean(section, "allow_any_server", False, ""),
        allow_private_addresses=check.boolean(section, "allow_private_addresses", False, ""),
        user_ports=check.ports(section, "user_ports", (6667, 6697), ""),
        servers=servers,
        throttle_limit=check.integer(section, "throttle_limit", 10, -1, 10_000, ""),
        queue_limit=check.integer(section, "queue_limit", 100, 1, 100_000, ""),
        queue_timeout=check.number(section, "queue_timeout", 300.0, ""),
        reconnect_max_delay=check.number(section, "reconnect_max_delay", 60.0, ""),
        persistent_by_default=check.boolean(section, "persistent_by_default", False, ""),
        retention_days=check.integer(section, "retention_days", 0, 0, 100_000, ""),
        connects_per_second=check.number(section, "connects_per_second",
                                         DEFAULT_CONNECTS_PER_SECOND, ""),
        max_connecting=check.integer(section, "max_connecting", DEFAULT_MAX_CONNECTING, 1,
                                     10_000, ""),
    )
    if check.errors:
        raise ExceptionGroup("irc settings", check.errors)
    return settings


EXAMPLE = """\
# true: users may name any IRC host in a JID (TLS on 6697, certificate checked);
# false: only the hosts listed under [irc.servers."HOST"].
allow_any_server = false
# Hosts that resolve to loopback, private, link-local or ULA addresses are refused
# unless named in [irc.servers].
allow_private_addresses = false
# Ports a user may pick for a host not in [irc.servers].
user_ports = [6667, 6697]
"""
