"""Per-number send pacing: a burst is queued and spaced out, never refused.

A US long code sends about one segment a second; Twilio queues the excess itself but fails
messages that wait longer than their validity period (error 21611/30001). Spacing our own
API calls keeps that queue short. Each sending number has its own schedule (virtual
scheduling, i.e. a token bucket of depth one): a caller reserves the next free slot at once,
synchronously, so waiters are served in the order they asked, whichever lane they are in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """At most ``rate`` sends per second per key (a sending number); 0 turns pacing off."""

    def __init__(
        self, rate: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}
        self.waiting = 0

    async def wait_turn(self, key: str) -> None:
        """Return when ``key`` may send its next message."""
        if not self.interval:
            return
        now = self._clock()
        slot = max(now, self._next_slot.get(key, now))
        self._next_slot[key] = slot + self.interval
        if len(self._next_slot) > 1000:
            self._forget_idle(now)
        delay = slot - now
        if delay <= 0:
            return
        self.waiting += 1
        try:
            await self._sleep(delay)
        finally:
            self.waiting -= 1

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, slot in self._next_slot.items() if slot < now]:
            del self._next_slot[key]
