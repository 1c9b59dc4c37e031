"""Keep a connection alive: PING when it went quiet, drop it when nothing answers.

A loop timer rather than a task: a sleeping task costs about 1 KiB (task, coroutine
frame, sleep future) for every connection, all the time; a timer handle a tenth of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from .errors import IrcNotConnected


class Link(Protocol):
    """What the keepalive watches: whether the link is closed and when data last came."""

    @property
    def closed(self) -> bool: ...

    @property
    def last_rx(self) -> float: ...


class Keepalive:
    """PING after ``interval`` s without incoming traffic; declare the link dead after
    ``timeout`` s (biboumi pings every 240 s but never checks for an answer).

    ``last_rx`` must be a ``time.monotonic()`` stamp (the loop's clock).
    """

    __slots__ = ("_interval", "_link", "_on_timeout", "_pinged_at", "_send_ping", "_timeout",
                 "_timer")

    def __init__(
        self,
        link: Link,
        interval: float,
        timeout: float,
        send_ping: Callable[[], None],
        on_timeout: Callable[[float], None],
    ) -> None:
        self._link = link
        self._interval = interval
        self._timeout = timeout
        self._send_ping = send_ping
        self._on_timeout = on_timeout
        self._pinged_at = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._check()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        self._timer = None
        link = self._link
        if link.closed:
            return
        now = time.monotonic()
        idle = now - link.last_rx
        if idle >= self._timeout:
            self._on_timeout(idle)
            return
        wait = link.last_rx + self._timeout - now
        if idle < self._interval:
            wait = min(wait, link.last_rx + self._interval - now)
        elif self._pinged_at <= link.last_rx:
            self._pinged_at = now
            try:
                self._send_ping()
            except IrcNotConnected:
                return
        self._timer = asyncio.get_running_loop().call_later(max(wait, 0.01), self._check)
