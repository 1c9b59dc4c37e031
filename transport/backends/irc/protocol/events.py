"""What an :class:`~.connection.IrcConnection` reports, as plain typed data."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

from .casemap import ISupport
from .lite import Inbox
from .nickmask import NickMask

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IrcEvent:
    """One line received from the server.

    ``command`` is upper-case (numerics stay 3-digit strings); ``params`` has the trailing
    parameter last, without its colon; ``tags`` is empty unless a tag-carrying capability was
    negotiated; ``time`` is the ``server-time`` tag as a POSIX timestamp; ``truncated`` marks a
    line cut at the connection's ``max_line_bytes``.
    """

    command: str
    source: NickMask | None
    params: list[str]
    tags: dict[str, str] = field(default_factory=dict)
    time: float | None = None
    raw: str = ""
    truncated: bool = False

    def param(self, index: int, default: str = "") -> str:
        """A parameter, or ``default`` when the server left it out (never IndexError)."""
        return self.params[index] if -len(self.params) <= index < len(self.params) else default

    @property
    def nick(self) -> str | None:
        """The sender's nick (or server name), if the line had a prefix."""
        return str(self.source.nick) if self.source is not None else None

    @property
    def is_numeric(self) -> bool:
        return len(self.command) == 3 and self.command.isdigit()


@dataclass(frozen=True, slots=True)
class Connected:
    """The TCP (and TLS) link is up; registration is starting."""

    host: str
    port: int
    tls: bool


@dataclass(frozen=True, slots=True)
class Registered:
    """``001`` arrived and ISUPPORT is complete: JOINs and messages may flow now."""

    nick: str
    server: str
    isupport: ISupport
    caps: frozenset[str]
    account: str | None = None


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection is over (always the last event of a connection)."""

    reason: str
    registered: bool
    error: BaseException | None = None


Event = IrcEvent | Connected | Registered | Disconnected


class EventSink:
    """Delivers events in order to a callback, or else to a queue read by :meth:`stream`.

    While :meth:`holding`, a ``Disconnected`` is held back so it stays the last event even
    when the line being handled (or the callback itself) closes the connection. With a queue,
    ``backlog(True)`` is called past ``high`` waiting events (pause reading) and
    ``backlog(False)`` once the reader is below ``low`` again.
    """

    def __init__(
        self,
        callback: Callable[[Event], None] | None,
        backlog: Callable[[bool], None],
        high: int = 10_000,
        low: int = 1_000,
    ) -> None:
        self._callback = callback
        self._backlog = backlog
        self._high, self._low = high, low
        self._queue: Inbox[Event] = Inbox()
        self._holding = False
        self._held: Disconnected | None = None
        self._paused = False

    def emit(self, event: Event) -> None:
        if self._holding and isinstance(event, Disconnected):
            self._held = event
            return
        if self._callback is not None:
            try:
                self._callback(event)
            except Exception:
                log.exception("IRC event callback failed on %s", type(event).__name__)
            return
        self._queue.put_nowait(event)
        if not self._paused and self._queue.qsize() > self._high:
            self._paused = True
            self._backlog(True)

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            if self._held is not None:
                held, self._held = self._held, None
                self.emit(held)

    async def stream(self) -> AsyncIterator[Event]:
        if self._callback is not None:
            raise RuntimeError("events are delivered to the on_event callback")
        while True:
            event = await self._queue.get()
            if self._paused and self._queue.qsize() < self._low:
                self._paused = False
                self._backlog(False)
            yield event
            if isinstance(event, Disconnected):
                return
