"""What the gateway tells systemd about its component streams.

``READY=1`` is sent once every component stream has come up at least once: from then on the
gateway serves, and a stream that drops later is the gateway's own business (it reconnects
by itself), so it is reported in ``STATUS=`` but never withdraws readiness. Until then
``systemctl start`` waits and ``STATUS=`` says which components are still connecting; if the
XMPP server stays unreachable for longer than the unit's ``TimeoutStartSec=``, systemd marks
the start as failed and ``Restart=on-failure`` tries again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from transport.systemd_notify import SystemdNotifier

POLL_INTERVAL: Final = 0.5
DETAILS_INTERVAL: Final = 10.0

log = logging.getLogger(__name__)


class ServiceStatus:
    """Reports ``READY=1`` and ``STATUS=`` lines for named component streams."""

    def __init__(
        self, notifier: SystemdNotifier, streams: Sequence[tuple[str, asyncio.Event]],
        details: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        """``details`` adds to the line, refreshed every ``DETAILS_INTERVAL`` seconds (users
        online, messages queued: figures that change too often to report each change)."""
        self.notifier = notifier
        self.streams = streams
        self.details = details
        self.ready = False
        self._came_up: set[str] = set()
        self._detail = ""
        self._detail_at = 0.0

    def describe(self) -> str:
        """"2/3 components connected" and, when some are not, which ones."""
        down = [name for name, online in self.streams if not online.is_set()]
        text = f"{len(self.streams) - len(down)}/{len(self.streams)} components connected"
        if down:
            text += ("; connecting: " if self.ready else "; waiting for: ") + ", ".join(down)
        if self._detail:
            text += "; " + self._detail
        return text

    async def run(self) -> None:
        """Report until cancelled: READY once all came up once, STATUS on every change."""
        shown = ""
        while True:
            self._came_up.update(name for name, online in self.streams if online.is_set())
            await self._refresh_details()
            if not self.ready and len(self._came_up) == len(self.streams):
                self.ready = True
                shown = self.describe()
                self.notifier.notify("READY=1", f"STATUS={shown}")
            elif (text := self.describe()) != shown:
                shown = text
                self.notifier.notify(f"STATUS={text}")
            await self._next_change()

    async def _refresh_details(self) -> None:
        now = time.monotonic()
        if self.details is None or now - self._detail_at < DETAILS_INTERVAL:
            return
        self._detail_at = now
        try:
            self._detail = await self.details()
        except Exception:
            log.exception("Could not read the figures for systemd's status line")

    async def _next_change(self) -> None:
        """Wait for a stream that never came up to come up, or for the next poll."""
        waiting = [asyncio.ensure_future(online.wait())
                   for name, online in self.streams if name not in self._came_up]
        if not waiting:
            await asyncio.sleep(POLL_INTERVAL)
            return
        try:
            await asyncio.wait(waiting, timeout=POLL_INTERVAL,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiting:
                task.cancel()

    def stopping(self) -> None:
        self.notifier.notify("STOPPING=1", "STATUS=stopping")
