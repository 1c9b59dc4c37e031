"""An asyncio token bucket for outgoing IRC lines.

Servers kill clients that flood ("Excess Flood"); biboumi paces each connection with a
bucket of 10 tokens refilled at 1/s. jaraco's ``set_rate_limit`` does the same with
``time.sleep`` and would freeze every connection on the loop, so we wait with
``asyncio.sleep`` instead. ``PerKeyLimit`` bounds what one remote nick can make us send.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """``burst`` tokens, refilled continuously at ``rate`` per second; ``rate <= 0`` = no limit.

    Waiters are served first come, first served.
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate > 0 and burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = max(burst, 1)
        self._clock = clock
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._lock = asyncio.Lock()

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)

    @property
    def tokens(self) -> float:
        """Tokens available right now (fractional while refilling)."""
        if self.unlimited:
            return float("inf")
        self._refill()
        return self._tokens

    def try_acquire(self) -> bool:
        """Take a token if one is free, without waiting (and without jumping waiters)."""
        if self.unlimited:
            return True
        if self._lock.locked():
            return False
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def give_back(self) -> None:
        """Return a token taken for a line that was not sent after all."""
        if not self.unlimited:
            self._refill()
            self._tokens = min(float(self.burst), self._tokens + 1)

    async def acquire(self) -> None:
        """Wait (cooperatively) until a token is available, then take it."""
        if self.unlimited:
            return
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


class PerKeyLimit:
    """At most ``burst`` events per key at once, refilled at ``rate`` per second.

    For what a remote party can make us do (answer its CTCP requests): each key costs a
    small tuple, and past ``keys`` keys the least recently seen is forgotten, so a flood
    from many names costs bounded memory (what bounds it overall is the caller's backlog).
    """

    __slots__ = ("_burst", "_clock", "_keys", "_rate", "_seen")

    def __init__(self, rate: float, burst: int, keys: int = 256,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._keys = keys
        self._clock = clock
        self._seen: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        """Take one event for ``key``; False when its allowance is used up."""
        now = self._clock()
        tokens, stamp = self._seen.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + max(0.0, now - stamp) * self._rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._seen[key] = (tokens, now)  # re-inserted: the most recently seen is last
        if len(self._seen) > self._keys:
            del self._seen[next(iter(self._seen))]
        return allowed
