"""An asyncio token bucket for outgoing IRC lines.

Servers kill clients that flood ("Excess Flood"); biboumi paces each connection with a
bucket of 10 tokens refilled at 1/s. jaraco's ``set_rate_limit`` does the same with
``time.sleep`` and would freeze every connection on the loop, so we wait with
``asyncio.sleep`` instead.
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
