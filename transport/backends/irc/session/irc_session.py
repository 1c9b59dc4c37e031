"""One IRC connection per (bare JID, IRC server), shared by all of the user's resources.

The session outlives its connections: when one drops it reconnects with backoff and
rejoins, and meanwhile senders wait (bounded) instead of failing. Everything that touches
its state — IRC events and actions coming from XMPP — runs one at a time in a single task,
so the order of what users see follows the order things happened. Messages for XMPP are
collected and committed together (one transaction per burst); a presence first flushes the
messages before it so it never overtakes them in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from transport.backends.irc.addressing import valid_resource
from transport.backends.irc.config.settings import ServerConfig
from transport.backends.irc.context import IrcContext, log
from transport.backends.irc.from_irc import dispatch, inbound
from transport.backends.irc.protocol import (
    Disconnected,
    Event,
    IrcConnection,
    IrcEvent,
    IrcNotConnected,
    ISupport,
    Registered,
)
from transport.backends.irc.protocol.lite import Flag, Inbox
from transport.backends.irc.protocol.ratelimit import PerKeyLimit
from transport.backends.irc.session import connecting
from transport.backends.irc.session.channel_state import Channel, Pending
from transport.backends.irc.session.interface import SessionOwner
from transport.backends.irc.text import clean
from transport.core.errors import DeliveryRefused
from transport.core.events import XmppMessage

T = TypeVar("T")
Action = Callable[[], Awaitable[Any]]
_BATCH = 512
_POLL_FIRST = 0.05
_POLL_MAX = 1.0
#: Attempts a session that never registered makes before its joins get an error (a refused,
#: reset or throttled connect is often a storm passing; 0.5 + 1 + 2 + 4 s of backoff).
FRESH_ATTEMPTS = 5


class IrcSession:
    """State and life cycle of one user's presence on one IRC server."""

    # One per user and server, for hours: slots keep it small (with 30 attributes or
    # more an instance would get a full dict of its own, about 1.6 KiB).
    __slots__ = ("_closing", "_life", "_outgoing", "_queue", "_stopped", "_worker",
                 "auto_replies", "bridge", "channels", "closed", "config", "conn",
                 "connect_error", "host",
                 "keep_trying", "list_done", "listing", "manager", "motd", "nick",
                 "nick_requests", "pending", "pm_nicks", "port", "registered", "retryable",
                 "since", "state", "tls", "user", "waiters", "was_registered")

    def __init__(
        self, manager: SessionOwner, bridge: IrcContext, user: str, host: str, config: ServerConfig,
        nick: str,
    ) -> None:
        self.manager = manager
        self.bridge = bridge
        self.user = user
        self.host = host
        self.config = config
        self.nick = nick
        self.conn: IrcConnection | None = None
        self.channels: dict[str, Channel] = {}
        self.state = "idle"
        self.was_registered = False
        self.keep_trying = False
        self.since: float | None = None
        self.port, self.tls = config.port, config.tls
        self.registered = Flag()
        self.closed = Flag()
        self.waiters = 0
        self.motd: list[str] = []
        self.listing: list[tuple[str, int, str]] = []
        self.list_done: asyncio.Future[list[tuple[str, int, str]]] | None = None
        self.pending: list[Pending] = []
        self.nick_requests: dict[str, str] = {}
        self.pm_nicks: set[str] = set()
        self.connect_error = ""
        self.retryable = True  # false once a connect failed in a way retrying cannot fix
        self._closing = False
        self._queue: Inbox[Event | Action] = Inbox()
        self._outgoing: list[XmppMessage] = []
        self._worker: asyncio.Task[None] | None = None  # only while there is work
        self._stopped = False
        self._life: asyncio.Task[None] | None = None
        self.auto_replies: PerKeyLimit | None = None  # made by the first one (autoreply)

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._life = asyncio.ensure_future(self._run())  # only while (re)connecting

    @property
    def isupport(self) -> ISupport:
        return self.conn.isupport if self.conn is not None else ISupport(
            {"CHANTYPES": self.bridge.info.chantypes(self.host)})

    @property
    def closing(self) -> bool:
        """Ending for good: new work goes to a new session."""
        return self._closing

    @property
    def ready(self) -> bool:
        return self.registered.is_set()

    async def quit(self, reason: str = "", *, send_quit: bool = True) -> None:
        """End the session for good (QUIT unless ``send_quit`` is false)."""
        self._closing = True
        conn = self.conn
        if conn is not None:
            if send_quit:
                await conn.quit(reason)
            else:
                conn.close(reason or "disconnected")
        if self._life is not None:
            self._life.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._life
        await self.run(self._closed_for_good)
        self._stopped = True  # from now on, run() runs actions at once
        self._queue = Inbox()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def _closed_for_good(self) -> None:
        await inbound.session_over(self)
        self.state = "closed"
        self.closed.set()
        self.manager.forget(self)

    async def _run(self, failures: int = 0) -> None:
        """Connect, retrying with backoff, until a connection is up; then end.

        A live connection needs no task here (one would cost about 1.5 KiB per user for
        as long as it lasts): its ``Disconnected`` starts ``_reconnect`` (see ``take``).
        """
        try:
            while not self._closing:
                if failures:
                    delay = min(self.bridge.settings.reconnect_max_delay,
                                0.5 * 2 ** (failures - 1))
                    self.state = "reconnecting"
                    self.submit(functools.partial(self.status, f"Reconnecting in {delay:.1f} s"))
                    await asyncio.sleep(delay)
                    if self._closing:
                        return
                connected = await connecting.connect(self)
                if self._closing:
                    return
                if connected:
                    assert self.conn is not None
                    if self.conn.state != "closed":
                        return
                    # It closed before this task got to run again: nobody else saw that.
                    await self.run(self.flush)  # the Disconnected event has been handled
                    failures = 1
                elif not self.was_registered and not self.keep_trying and (
                        not self.retryable or failures + 1 >= FRESH_ATTEMPTS):
                    self._closing = True
                    await self.run(self._give_up)
                    return
                else:
                    failures += 1
        finally:
            if self._life is asyncio.current_task():
                self._life = None

    async def _reconnect(self) -> None:
        self.bridge.totals.reconnects += 1
        await self.run(self.flush)  # the Disconnected event has been handled
        await self._run(failures=1)

    async def _give_up(self) -> None:
        await inbound.connection_failed(self, self.connect_error)
        await self._closed_for_good()

    # -- the serial worker -----------------------------------------------------------------

    def take(self, event: Event) -> None:
        """An event from the connection (its ``on_event``), handled in turn.

        The end of a connection that ``_run`` had handed over restarts it.
        """
        self._put(event)
        if isinstance(event, Disconnected) and self._life is None and not self._closing:
            self._life = asyncio.ensure_future(self._reconnect())

    def submit(self, action: Action) -> None:
        """Run ``action`` in turn with IRC events (fire and forget)."""
        self._put(action)

    def _put(self, item: Event | Action) -> None:
        self._queue.put_nowait(item)
        if self._worker is None and not self._stopped:
            self._worker = asyncio.ensure_future(self._work())

    async def run(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run ``action`` in turn with IRC events and return its result."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        async def wrapped() -> None:
            try:
                result = await action()
            except BaseException as exc:
                if not done.done():
                    done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                if not done.done():
                    done.set_result(result)

        if self._stopped:
            await wrapped()
        else:
            self._put(wrapped)
        return await done

    async def _work(self) -> None:
        """Handle what is queued, in order, then end: an idle session keeps no task (about
        1.5 KiB with its frames), and the next item starts another. Only one runs at a time.
        """
        try:
            while not self._queue.empty():
                batch = self._queue.take(_BATCH)
                for item in batch:
                    try:
                        if callable(item):
                            await item()
                        else:
                            await self._event(item)
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("IRC session %s on %s failed handling %s", self.user,
                                      self.host, type(item).__name__)
                # Let go of what was handled before the flush (it may wait).
                del batch, item
                try:
                    await self.flush()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("Could not queue messages for %s", self.user)
        finally:
            if self._worker is asyncio.current_task():
                self._worker = None

    async def _event(self, event: Event) -> None:
        if isinstance(event, Registered):
            self.state = "registered"
            self.was_registered = True
            self.since = time.time()
            self.nick = event.nick
            self.bridge.info.learn(self.host, event.isupport)
            self.registered.set()
            await inbound.registered(self)
        elif isinstance(event, Disconnected):
            was = self.registered.is_set()
            self.registered.clear()
            if was:
                await inbound.disconnected(self, event.reason, self._closing)
        elif isinstance(event, IrcEvent):
            await dispatch.dispatch(self, event)

    # -- output to XMPP -------------------------------------------------------------------

    def emit(self, message: XmppMessage) -> None:
        """Queue a message; text from IRC is made XML-safe here, whatever built it."""
        room, _, nick = message.sender.partition("/")
        if nick and not valid_resource(room, nick):
            message = dataclasses.replace(message, sender=room)
        body = clean(message.body) if message.body is not None else None
        subject = clean(message.subject) if message.subject is not None else None
        if body is not message.body or subject is not message.subject:  # clean() changed it
            message = dataclasses.replace(message, body=body, subject=subject)
        self._outgoing.append(message)

    async def flush(self) -> None:
        if self._outgoing:
            messages, self._outgoing = self._outgoing, []
            await self.bridge.ctx.deliver_many(messages)

    async def server_presence(self, *, available: bool) -> None:
        """The server JID goes available or unavailable, after the messages queued before."""
        await self.flush()
        await self.bridge.ctx.contact_presence(self.user, self.host, available=available)

    async def status(self, text: str) -> None:
        """A status line from the server JID, in turn with everything else."""
        self.server_message(text)

    def server_message(self, text: str) -> None:
        self.emit(XmppMessage(to=self.user, sender=self.bridge.jids.server(self.host),
                              type="chat", body=text))

    # -- output to IRC --------------------------------------------------------------------

    def write(self, line: str | bytes, *, throttle: bool = True) -> asyncio.Future[None]:
        """Queue a line on the live connection (IrcNotConnected when there is none)."""
        if self.conn is None or not self.registered.is_set():
            raise IrcNotConnected("not connected")
        return self.conn.enqueue(line, throttle=throttle)

    def write_soon(self, line: str | bytes, *, throttle: bool = True) -> None:
        """Fire and forget: lines for a connection that just went away are moot."""
        with contextlib.suppress(IrcNotConnected, ValueError):
            self.write(line, throttle=throttle)

    async def wait_until(self, ready: Callable[[], bool], event: asyncio.Event,
                         deadline: float | None = None) -> None:
        """Wait (bounded in count and time) for ``event``; DeliveryRefused when it won't come.

        ``deadline`` (a ``time.monotonic()`` instant) can only shorten ``queue_timeout``.
        """
        if ready():
            return
        settings = self.bridge.settings
        if self.waiters >= settings.queue_limit:
            raise DeliveryRefused("Too many messages are waiting for the IRC connection",
                                  "resource-constraint", "wait")
        self.waiters += 1
        try:
            limit = time.monotonic() + settings.queue_timeout
            if deadline is not None:
                limit = min(limit, deadline)
            pause = _POLL_FIRST
            while not ready():
                if self.closed.is_set():
                    why = f": {self.connect_error}" if self.connect_error else ""
                    raise DeliveryRefused(
                        f"Not connected to {self.host}{why}", "remote-server-not-found", "cancel")
                remaining = limit - time.monotonic()
                if remaining <= 0:
                    raise self.timed_out()
                if event.is_set():
                    # Set, yet not ready: what is missing has no signal of its own. Poll
                    # with a growing pause; waiting on a set event would return at once.
                    await asyncio.sleep(min(pause, remaining))
                    pause = min(pause * 2, _POLL_MAX)
                    continue
                waits = [asyncio.ensure_future(e.wait()) for e in (event, self.closed)]
                try:
                    await asyncio.wait(waits, timeout=min(remaining, 1.0),
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waits:
                        waiter.cancel()
        finally:
            self.waiters -= 1

    def timed_out(self) -> DeliveryRefused:
        return DeliveryRefused(f"{self.host} did not come back in time",
                               "remote-server-timeout", "wait")

    async def settle(self, conn: IrcConnection | None, pause: float, deadline: float) -> None:
        """After a write failed on ``conn``: return once the session has taken its end in
        (or at ``deadline``, a ``time.monotonic()`` instant).

        A closed connection's ``Disconnected`` may still wait in the inbox, and until the
        worker handles it the session looks ready: a writer retrying at once would find it
        ready again and fail again, forever, without ever letting the worker run. Passing
        behind everything queued (the worker runs in turn) is the state change to wait for;
        if the session still runs on the very same connection, ``pause`` is the backoff.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.run(_nothing), max(0.0, deadline - time.monotonic()))
        if self.conn is conn and self.ready:
            await asyncio.sleep(pause)


async def _nothing() -> None:
    """An action that only marks a place in the session's queue."""
