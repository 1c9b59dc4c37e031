"""What handlers may use of a user's IRC session, so that none imports ``IrcSession``.

``session.irc_session`` imports the handlers (the command table calls them with itself);
the handlers type against these Protocols instead, which keeps the import graph acyclic and
says in one place what the rest of the backend relies on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from transport.backends.irc.config.settings import ServerConfig
from transport.backends.irc.context import IrcContext
from transport.backends.irc.protocol import Event, IrcConnection, ISupport
from transport.backends.irc.protocol.lite import Flag
from transport.backends.irc.protocol.ratelimit import PerKeyLimit
from transport.backends.irc.session.channel_state import Channel, Pending
from transport.backends.irc.session.pacing import ConnectPacer
from transport.core.errors import DeliveryRefused
from transport.core.events import XmppMessage

T = TypeVar("T")


class SessionOwner(Protocol):
    """What a session needs of the manager that made it."""

    pacer: ConnectPacer

    def background(self, work: Coroutine[Any, Any, None]) -> None: ...

    def forget(self, session: Session) -> None: ...


class SessionLookup(Protocol):
    """What the XMPP side needs of the manager to find a user's session on a server."""

    bridge: IrcContext

    def get(self, user: str, host: str) -> Session | None: ...


class Session(Protocol):
    """One user's presence on one IRC server: its state, and its ways to XMPP and to IRC."""

    manager: SessionOwner
    bridge: IrcContext
    user: str
    host: str
    config: ServerConfig
    nick: str
    conn: IrcConnection | None
    channels: dict[str, Channel]
    state: str
    was_registered: bool
    keep_trying: bool
    port: int
    tls: bool
    registered: Flag
    motd: list[str]
    listing: list[tuple[str, int, str]]
    list_done: asyncio.Future[list[tuple[str, int, str]]] | None
    pending: list[Pending]
    nick_requests: dict[str, str]
    pm_nicks: set[str]
    connect_error: str
    retryable: bool
    auto_replies: PerKeyLimit | None

    @property
    def isupport(self) -> ISupport: ...

    @property
    def ready(self) -> bool: ...

    async def quit(self, reason: str = "", *, send_quit: bool = True) -> None: ...

    def take(self, event: Event) -> None: ...

    def submit(self, action: Callable[[], Awaitable[Any]]) -> None: ...

    async def run(self, action: Callable[[], Awaitable[T]]) -> T: ...

    def emit(self, message: XmppMessage) -> None: ...

    async def flush(self) -> None: ...

    async def server_presence(self, *, available: bool) -> None: ...

    async def status(self, text: str) -> None: ...

    def server_message(self, text: str) -> None: ...

    def write(self, line: str | bytes, *, throttle: bool = True) -> asyncio.Future[None]: ...

    def write_soon(self, line: str | bytes, *, throttle: bool = True) -> None: ...

    async def wait_until(self, ready: Callable[[], bool], event: asyncio.Event,
                         deadline: float | None = None) -> None: ...

    def timed_out(self) -> DeliveryRefused: ...

    async def settle(self, conn: IrcConnection | None, pause: float, deadline: float) -> None: ...
