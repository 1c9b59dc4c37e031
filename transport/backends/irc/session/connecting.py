"""One connection attempt of a session: where to connect, then each endpoint in turn.

A host the admin lists under ``[irc.servers]`` is reached only on the admin's port, with the
admin's TLS choice: a user's port settings cannot turn an admin's TLS server into a plain
one, nor point the gateway at another service on that host. Any other host is reached on the
ports the user set (each one from ``user_ports``), else TLS on 6697, and only on addresses
vetted by :mod:`.hosts`, connected to directly (no second lookup).

TLS is never downgraded: when the user set TLS ports, only those are tried, so a failed
handshake or certificate is never followed by plain text carrying the server password. Plain
ports are used only when no TLS port is set. A pinned certificate fingerprint is enforced by
the connection (:mod:`.protocol.pinning`). The first connection of a session refuses a nick
in use (the join answers ``conflict``); reconnects take ``nick_`` instead.

Every attempt first takes a slot of the host's gate (:mod:`.pacing`), shared by all users of
the component, so a join storm or a restart restoring many channels opens connections no
faster than the server accepts them. A failure retrying cannot fix (a refused host, a nick
in use, a value that cannot be sent) clears ``session.retryable``.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from transport.backends.irc.config.prefs import ServerPrefs
from transport.backends.irc.config.settings import IrcSettings, ServerConfig
from transport.backends.irc.context import log
from transport.backends.irc.protocol import (
    ConnectionOptions,
    IrcConnection,
    IrcConnectionError,
    append_underscore,
)
from transport.backends.irc.session import hosts
from transport.backends.irc.text import PASSTHROUGH

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session


def _never(_nick: str) -> str | None:
    return None


@functools.lru_cache(maxsize=64)
def _options(rate: float, burst: int, reconnecting: bool) -> ConnectionOptions:
    """Shared by the connections made with the same settings (they are immutable)."""
    return ConnectionOptions(rate=rate, burst=burst,
                             nick_in_use=append_underscore if reconnecting else _never)


@dataclass(frozen=True, slots=True)
class Route:
    """Where one attempt may go: (port, TLS) endpoints in order, and the addresses to use
    (``None``: connect by name, for hosts the admin listed)."""

    endpoints: tuple[tuple[int, bool], ...]
    addresses: tuple[str, ...] | None = None


def endpoints(
    config: ServerConfig, listed: bool, ports: tuple[int, ...], tls_ports: tuple[int, ...]
) -> tuple[tuple[int, bool], ...]:
    """The endpoints of one attempt: TLS ports only when there are any (never a plain one
    after them), plain ports only when the user set no TLS port, else the config's."""
    if listed:
        return ((config.port, config.tls),)
    if tls_ports:
        return tuple((p, True) for p in tls_ports)
    if ports:
        return tuple((p, False) for p in ports)
    return ((config.port, config.tls),)


async def route(settings: IrcSettings, host: str, config: ServerConfig,
                prefs: ServerPrefs) -> Route:
    """Where to connect; ``hosts.HostRefused`` when the user may not reach this host."""
    if settings.listed(host):
        return Route(endpoints(config, True, (), ()))
    chosen = endpoints(config, False, prefs.ports, prefs.tls_ports)
    if prefs.ports or prefs.tls_ports:
        hosts.check_ports(host, [port for port, _ in chosen], settings.user_ports)
    addresses = await hosts.checked_addresses(host, chosen[0][0],
                                              settings.allow_private_addresses)
    return Route(chosen, tuple(addresses))


async def connect(session: Session) -> bool:
    """Connect and register on the first endpoint that works; False when none did."""
    prefs = await session.bridge.prefs.server_prefs(session.user, session.host)
    settings = session.bridge.settings
    session.state = "connecting"
    try:
        where = await route(settings, session.host, session.config, prefs)
    except hosts.HostRefused as exc:
        log.info("Refused to connect %s to %s: %s", session.user, session.host, exc)
        session.connect_error = str(exc)
        session.retryable = False
        if not isinstance(exc, hosts.LookupFailed):
            session.keep_trying = False  # a refused host is not worth retrying in a loop
        session.submit(functools.partial(session.status, f"Connection failed: {exc}"))
        return False
    limit = prefs.throttle_limit
    if limit is None:
        limit = settings.throttle_limit
    options = _options(0 if limit < 0 else 1.0, max(limit, 1), session.was_registered)
    nick = prefs.nick or session.nick
    verify = prefs.verify_cert if prefs.verify_cert is not None else session.config.verify_cert
    gate = session.manager.pacer.gate(session.host, *settings.pacing(session.config))
    for port, tls in where.endpoints:
        secure = " (encrypted)" if tls else ""
        session.submit(functools.partial(
            session.status, f"Connecting to {session.host}:{port}{secure}"))
        for address in where.addresses or (None,):
            # Events go straight into the session's inbox, in order, from the protocol's
            # callbacks: no reader task and no second queue per connection.
            conn = IrcConnection(session.take, options)
            session.conn = conn
            try:
                async with gate.slot():
                    await conn.connect(
                        session.host, port, nick,
                        username=prefs.username, realname=prefs.realname,
                        password=prefs.password, tls=tls, verify_cert=verify, address=address,
                        fingerprint=prefs.fingerprint if tls else None,
                        sasl_plain=(nick, prefs.sasl_password) if prefs.sasl_password else None,
                        fallback_encoding=PASSTHROUGH,
                    )
            except IrcConnectionError as exc:  # its Disconnected event is in the inbox
                session.connect_error = str(exc)
                session.retryable = worth_retrying(exc)
                log.debug("Connecting %s to %s:%d failed: %s", session.user, session.host,
                          port, exc)
                continue
            except ValueError as exc:  # a nick, password or pin that cannot be used
                session.connect_error = str(exc)
                session.retryable = False
                conn.close(str(exc))
                return _failed(session)
            session.port, session.tls = port, tls
            session.retryable = True
            return True
    return _failed(session)


def worth_retrying(exc: IrcConnectionError) -> bool:
    """Whether another attempt may succeed: a refused, reset, timed-out or throttled connect
    may, a refused certificate, pin or nick (only the user or admin can change them) not."""
    cause = exc.__cause__
    if isinstance(cause, ssl.SSLError) and not isinstance(
            cause, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return False
    text = str(exc)
    return "fingerprint mismatch" not in text and "in use" not in text


def _failed(session: Session) -> bool:
    session.submit(functools.partial(
        session.status, f"Connection failed: {session.connect_error}"))
    return False
