"""One connection attempt of a session: options from the user's prefs, then each endpoint.

TLS ports from the user's server settings are tried first, then plain ones (biboumi's
order); without any, the config's port and TLS choice. The first connection of a session
refuses a nick in use (the join answers ``conflict``); reconnects take ``nick_`` instead.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from transport.backends.irc.protocol import (
    ConnectionOptions,
    IrcConnection,
    IrcConnectionError,
    append_underscore,
)
from transport.backends.irc.text import PASSTHROUGH

if TYPE_CHECKING:
    from transport.backends.irc.session import IrcSession


def _never(_nick: str) -> str | None:
    return None


@functools.lru_cache(maxsize=64)
def _options(rate: float, burst: int, reconnecting: bool) -> ConnectionOptions:
    """Shared by the connections made with the same settings (they are immutable)."""
    return ConnectionOptions(rate=rate, burst=burst,
                             nick_in_use=append_underscore if reconnecting else _never)


def endpoints(
    session: IrcSession, ports: tuple[int, ...], tls_ports: tuple[int, ...]
) -> list[tuple[int, bool]]:
    if ports or tls_ports:
        return [(p, True) for p in tls_ports] + [(p, False) for p in ports]
    return [(session.config.port, session.config.tls)]


async def connect(session: IrcSession) -> bool:
    """Connect and register on the first endpoint that works; False when none did."""
    prefs = await session.bridge.prefs.server_prefs(session.user, session.host)
    limit = prefs.throttle_limit
    if limit is None:
        limit = session.bridge.settings.throttle_limit
    options = _options(0 if limit < 0 else 1.0, max(limit, 1), session.was_registered)
    nick = prefs.nick or session.nick
    verify = prefs.verify_cert if prefs.verify_cert is not None else session.config.verify_cert
    session.state = "connecting"
    for port, tls in endpoints(session, prefs.ports, prefs.tls_ports):
        # Events go straight into the session's inbox, in order, from the protocol's
        # callbacks: no reader task and no second queue per connection.
        conn = IrcConnection(session.take, options)
        session.conn = conn
        secure = " (encrypted)" if tls else ""
        session.submit(functools.partial(
            session.status, f"Connecting to {session.host}:{port}{secure}"))
        try:
            await conn.connect(
                session.host, port, nick,
                username=prefs.username, realname=prefs.realname, password=prefs.password,
                tls=tls, verify_cert=verify,
                sasl_plain=(nick, prefs.sasl_password) if prefs.sasl_password else None,
                fallback_encoding=PASSTHROUGH,
            )
        except IrcConnectionError as exc:  # its Disconnected event is in the inbox
            session.connect_error = str(exc)
            continue
        except ValueError as exc:  # a nick or password that cannot be sent
            session.connect_error = str(exc)
            conn.close(str(exc))
            break
        session.port, session.tls = port, tls
        return True
    session.submit(functools.partial(
        session.status, f"Connection failed: {session.connect_error}"))
    return False

