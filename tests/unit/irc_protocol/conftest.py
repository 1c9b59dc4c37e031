"""Shared fixtures for the IRC protocol tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from transport.backends.irc.protocol import Event, IrcConnection


class Recorder:
    """Collects a connection's events and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, pred: Callable[[Event], bool], timeout: float = 5.0) -> Event:
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if pred(event):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def commands(self, command: str) -> list:
        return [e for e in self.events if getattr(e, "command", None) == command]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def closing():
    """Connections registered here are closed at the end of the test, whatever happens."""
    conns: list[IrcConnection] = []
    yield conns.append
    for conn in conns:
        conn.close()
