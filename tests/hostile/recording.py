"""Backends that record their lifecycle hooks, slowly enough for presences to outpace them,
and notice a hook of a user that starts while another of the same user still runs."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from transport.backends.echo import EchoBackend
from transport.backends.irc import IrcBackend
from transport.core.events import Registration


class HookRecorder:
    """Every lifecycle hook kept in ``calls`` as (hook, user); mixed in before a backend."""

    #: Seconds each online/offline hook takes (a network login or logout is not instant).
    hook_seconds: ClassVar[float] = 0.02

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, str]] = []
        self.online_now: set[str] = set()
        self.overlaps: list[tuple[str, str]] = []
        self._running: set[str] = set()

    async def _record(self, hook: str, user: str) -> None:
        if user in self._running:
            self.overlaps.append((hook, user))
        self._running.add(user)
        self.calls.append((hook, user))
        try:
            if hook in ("online", "offline"):
                await asyncio.sleep(self.hook_seconds)
        finally:
            self._running.discard(user)

    async def on_registered(self, user: str, registration: Registration,
                            previous: Registration | None) -> None:
        await self._record("registered", user)

    async def on_user_online(self, user: str) -> None:
        self.online_now.add(user)
        await self._record("online", user)

    async def on_user_offline(self, user: str) -> None:
        self.online_now.discard(user)
        await self._record("offline", user)

    async def on_unregistered(self, user: str, registration: Registration) -> None:
        await self._record("unregistered", user)

    def hooks_of(self, user: str) -> list[str]:
        return [hook for hook, who in self.calls if who == user]


class RecordingEcho(HookRecorder, EchoBackend):
    """Echo, recording its lifecycle hooks."""


class RecordingIrc(HookRecorder, IrcBackend):
    """IRC, recording its lifecycle hooks."""
