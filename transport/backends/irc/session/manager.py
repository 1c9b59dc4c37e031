"""All IRC sessions of one component, keyed by (bare JID, server); the ``IrcControl``.

Sessions are created on demand (a join, a message, a LIST) and forgotten when they end.
On start, the channels users were in and that are persistent for them (by the channel's
setting, the user's default or the config's) are joined again so the gateway keeps logging.
Every new connection, a restored one too, waits for its host's gate (:mod:`.pacing`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any

from transport.backends.irc.addressing import check_nick
from transport.backends.irc.context import IrcContext, log
from transport.backends.irc.contracts import ConnectionInfo
from transport.backends.irc.session.channel_state import Channel
from transport.backends.irc.session.interface import Session
from transport.backends.irc.session.irc_session import IrcSession
from transport.backends.irc.session.pacing import ConnectPacer
from transport.core.errors import AddressError, GatewayError
from transport.xmpp.escaping import escape_node


class SessionManager:
    """Creates, finds and ends sessions; implements ``contracts.IrcControl``."""

    def __init__(self, bridge: IrcContext) -> None:
        self.bridge = bridge
        self.sessions: dict[tuple[str, str], IrcSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.pacer = ConnectPacer()  # new connections per host, for every user alike

    def get(self, user: str, host: str) -> IrcSession | None:
        session = self.sessions.get((user, host))
        return None if session is None or session.closing else session

    def ensure(self, user: str, host: str, nick: str = "") -> IrcSession:
        """The user's session on ``host``, started now if there is none."""
        session = self.get(user, host)
        if session is not None:
            return session
        config = self.bridge.settings.server(host)
        if config is None:
            raise GatewayError(f"This gateway does not connect to {host}", "not-allowed",
                               "cancel")
        nick = nick or user.partition("@")[0]
        try:
            check_nick(nick)
        except AddressError:
            nick = "xmpp"
        session = IrcSession(self, self.bridge, user, host, config, nick)
        self.sessions[(user, host)] = session
        log.info("IRC session for %s on %s", user, host)
        session.start()
        return session

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` on its own (a session ending itself cannot await its own end)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def forget(self, session: Session) -> None:
        if self.sessions.get((session.user, session.host)) is session:
            del self.sessions[(session.user, session.host)]
            log.info("IRC session for %s on %s ended", session.user, session.host)

    async def restore(self) -> None:
        """Join again the channels users were in that are persistent for them, by the
        name and with the key they were joined with (a +k channel refuses a bare JOIN).

        The others are forgotten: the user left them when the gateway stopped.
        """
        store = self.bridge.prefs
        for user, host, folded, name, key, joined_nick in await store.joined():
            if self.bridge.settings.server(host) is None:
                continue
            if not await self.bridge.persistent(user, host, folded):
                await store.left(user, host, folded)
                continue
            # The nick the user was in the channel with; then the configured one.
            nick = joined_nick or (await store.server_prefs(user, host)).nick or ""
            try:
                session = self.ensure(user, host, nick)
            except GatewayError:
                continue
            session.keep_trying = True
            local = escape_node(f"{folded}%{host}")
            channel = Channel(name, folded, local, key)
            channel.persistent = True
            channel.recording = await self.bridge.recording(user, host, folded)
            session.channels.setdefault(folded, channel)
        log.info("Restored %d IRC session(s) with persistent channels", len(self.sessions))

    async def stop(self) -> None:
        await asyncio.gather(*(s.quit("Gateway shutdown") for s in list(self.sessions.values())),
                             return_exceptions=True)

    # -- IrcControl -----------------------------------------------------------------------

    def connections(self, user: str) -> Sequence[ConnectionInfo]:
        out = []
        for (owner, host), session in sorted(self.sessions.items()):
            if owner != user:
                continue
            rooms = self.bridge.ctx.rooms
            resources = sorted({r for c in session.channels.values()
                                for r in rooms.resources(user, c.room)})
            out.append(ConnectionInfo(
                server=host, port=session.port, tls=session.tls, nick=session.nick,
                connected_since=session.since if session.ready else None,
                channels=tuple(sorted(c.name for c in session.channels.values() if c.joined)),
                resources=tuple(resources)))
        return out

    def connected_users(self) -> Sequence[str]:
        return sorted({user for user, _ in self.sessions})

    async def disconnect(self, user: str, servers: Sequence[str], reason: str) -> None:
        wanted = {s.lower() for s in servers}
        sessions = [s for (u, h), s in self.sessions.items() if u == user and h in wanted]
        await asyncio.gather(*(s.quit(reason) for s in sessions), return_exceptions=True)

    async def disconnect_user(self, user: str, reason: str) -> None:
        sessions = [s for (u, _), s in self.sessions.items() if u == user]
        await asyncio.gather(*(s.quit(reason) for s in sessions), return_exceptions=True)
