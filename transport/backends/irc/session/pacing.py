"""Pacing of new IRC connections, per server host, shared by every user of one component.

Hundreds of users joining at once, or a restart restoring their persistent channels, would
otherwise open connections faster than a server accepts them: its listen queue overflows
(ngIRCd listens with a backlog of 10) and real networks throttle connections per IP. Each
host gets a gate: at most ``max_connecting`` attempts in flight (from the TCP connect to
``001``, or failure) and at most ``connects_per_second`` new attempts per second (a token
bucket holding one second's worth, so a few users still connect at once). Waiters are served
in the order they came.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class HostGate:
    """The pacing of new connections to one host."""

    __slots__ = ("_capacity", "_slots", "_stamp", "_tokens", "in_flight", "max_connecting",
                 "rate", "users")

    def __init__(self, rate: float, max_connecting: int) -> None:
        self.rate = rate
        self.max_connecting = max_connecting
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._stamp = 0.0
        self._slots = asyncio.Semaphore(max_connecting)
        self.in_flight = 0  # attempts holding a slot now
        self.users = 0  # attempts holding or waiting for one

    def _reserve(self, now: float) -> float:
        """Take one token (the bucket may go below zero: later callers queue behind);
        the delay until it is really ours."""
        if self._stamp:
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one in-flight slot, taken once the rate allows a new connection."""
        self.users += 1
        try:
            async with self._slots:
                delay = self._reserve(asyncio.get_running_loop().time())
                if delay > 0:
                    await asyncio.sleep(delay)
                self.in_flight += 1
                try:
                    yield
                finally:
                    self.in_flight -= 1
        finally:
            self.users -= 1


_MAX_IDLE_GATES = 256


class ConnectPacer:
    """One gate per host, made on first use with that host's settings (they are fixed for
    the life of the component). Idle gates are dropped once many hosts were seen, so users
    naming host after host cannot grow the table without bound."""

    def __init__(self) -> None:
        self._gates: dict[str, HostGate] = {}

    def gate(self, host: str, rate: float, max_connecting: int) -> HostGate:
        gate = self._gates.get(host)
        if gate is None:
            if len(self._gates) >= _MAX_IDLE_GATES:
                self._gates = {h: g for h, g in self._gates.items() if g.users}
            gate = self._gates[host] = HostGate(rate, max_connecting)
        return gate
