"""The ``[irc]`` config section: which IRC servers users may reach, and how.

Hosts listed under ``[irc.servers."HOST"]`` are always allowed, on the admin's port and TLS
choice; any other host only with ``allow_any_server`` (then TLS on 6697 with certificate
checks, biboumi's first choice), on public addresses only unless ``allow_private_addresses``,
and on ports a user picks only from ``user_ports`` (see :mod:`.hosts`).
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import Final

from transport.core.settings import parse_settings as parse_declared
from transport.core.settings import setting, settings_table

#: New connections to one host: at most this many per second, and this many registering at
#: once (500 users join in about 50 s; below real networks' per-IP throttles).
DEFAULT_CONNECTS_PER_SECOND = 10.0
DEFAULT_MAX_CONNECTING = 8
_PORT: Final = "a port number from 1 to 65535"


def _encoding(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError("unknown encoding") from None
    return value


def _host(name: str) -> str:
    return name.lower()


def _tls_port(values: Mapping[str, object]) -> int:
    """6697 for TLS (the default), 6667 for plain text."""
    return 6667 if values.get("tls") is False else 6697


@settings_table
class ServerConfig:
    """How to reach one IRC host; users may still override ports and TLS in their prefs."""

    port: int = setting(default=6697, low=1, high=65535, derive=_tls_port,
                        doc="Default: 6697 with TLS, 6667 without.")
    tls: bool = setting(default=True, doc="Whether the connection is TLS.")
    verify_cert: bool = setting(default=True, doc="Whether the server's certificate is checked.")
    encoding: str = setting(default="latin-1", check=_encoding,
                            doc="How lines that are not UTF-8 are read.")
    connects_per_second: float | None = setting(
        default=None, example=DEFAULT_CONNECTS_PER_SECOND,
        doc="This host's own pacing (default: the [irc] values).")  # None: the [irc] default
    max_connecting: int | None = setting(default=None, low=1, high=10_000,
                                         example=DEFAULT_MAX_CONNECTING, doc="")


@settings_table
class IrcSettings:
    """The irc backend: IRC channels as MUC rooms, documented in docs/irc.md.

    No registration is needed: users join #chan%host@irc.example.org.
    """

    allow_any_server: bool = setting(
        default=False,
        doc="""true: users may name any IRC host in a JID (then TLS on 6697, certificate
        checked); false: only the hosts listed under [irc.servers."HOST"].""")
    allow_private_addresses: bool = setting(
        default=False,
        doc="""Hosts that resolve to loopback, private, link-local or ULA addresses (also
        unspecified, multicast, reserved, and IPv4 ones inside IPv6) are refused unless
        named in [irc.servers]; true allows them (only for a gateway on a network with
        nothing to hide).""")
    user_ports: tuple[int, ...] = setting(
        default=(6667, 6697), low=1, high=65535, expected=_PORT, plural="port numbers",
        doc="""Ports a user may pick (configure form: "Ports", "TLS ports") for a host not
        in [irc.servers]; a listed host is always reached on its own port and TLS
        setting.""")
    servers: Mapping[str, ServerConfig] = setting(
        default_factory=dict, check=_host, expected="a table of hosts",
        example="irc.libera.chat",
        doc="""A listed host is reached only on this port, with this TLS choice: users
        cannot change them, and a tls = true server is never reached in plain text.""")
    throttle_limit: int = setting(
        default=10, low=-1, high=10_000,
        doc="""Lines a connection may send at once before pacing to 1 line/s (biboumi's
        throttle); 0 paces every line, -1 turns pacing off. Users may override it per
        server.""")
    queue_limit: int = setting(
        default=100, low=1, high=100_000,
        doc="""While an IRC connection is down, at most queue_limit messages per connection
        wait (each at most queue_timeout seconds) to be sent after the reconnect; others
        are answered with an error. A message whose lines the link keeps losing gets the
        same error once queue_timeout has passed since the first loss.""")
    queue_timeout: float = setting(default=300.0, doc="")
    reconnect_max_delay: float = setting(
        default=60.0,
        doc="Upper bound, in seconds, of the backoff between IRC reconnection attempts.")
    connects_per_second: float = setting(
        default=DEFAULT_CONNECTS_PER_SECOND,
        doc="""New connections to one IRC host, shared by all users (a join storm or a
        restart restoring many channels): at most connects_per_second new ones per second,
        and at most max_connecting still registering at once. Each host under
        [irc.servers] may set its own.""")
    max_connecting: int = setting(default=DEFAULT_MAX_CONNECTING, low=1, high=10_000, doc="")
    persistent_by_default: bool = setting(
        default=False,
        doc='Default of the users\' "persistent" setting: stay in channels they leave.')
    retention_days: int = setting(
        default=0, low=0, high=100_000,
        doc="Channel archive retention in days; 0 keeps everything.")

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


def parse_settings(section: Mapping[str, object]) -> IrcSettings:
    """``[irc]`` -> ``IrcSettings``; raises an ExceptionGroup of ``SettingsError``s."""
    return parse_declared(IrcSettings, section)
