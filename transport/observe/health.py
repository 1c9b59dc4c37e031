"""``/healthz``: healthy while every component stream is up and the event loop keeps time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class LoopHealth(Protocol):
    """What the health check reads of the loop monitor (``transport.watchdog``)."""

    @property
    def lag(self) -> float: ...

    @property
    def responsive(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """Why the gateway is not healthy: which part, and what is wrong with it."""

    component: str
    problem: str


class HealthCheck:
    """Named component streams (``(jid, online event)``) and the loop monitor."""

    def __init__(self, streams: Sequence[tuple[str, asyncio.Event]],
                 loop: LoopHealth | None) -> None:
        self.streams = streams
        self.loop = loop

    def problems(self) -> list[Problem]:
        found = [Problem(name, "stream to the XMPP server is down")
                 for name, online in self.streams if not online.is_set()]
        if self.loop is not None and not self.loop.responsive:
            found.append(Problem("event loop", f"not responsive: {self.loop.lag:.2f} s late"))
        return found
