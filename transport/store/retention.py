"""Deleting what has served its purpose, after ``[database] retention_days``.

Finished outbox rows (sent or failed, with their bodies), de-duplication keys and legacy id
maps are kept only for the retention period; the XMPP queue deletes a row as soon as the
server has it, and nothing unsent is ever deleted. The IRC archive and the backends keep
their own limits.

The prune runs at start and then every ``interval`` seconds, in chunks of ``chunk`` rows,
each chunk a write of its own: a large backlog (the first run after an upgrade, or after a
long retention was shortened) then takes turns with the gateway's own writes instead of
holding the single writer (see ``rows.PRUNE_CHUNK`` for the measured cost of a chunk).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from transport.store.database import DatabaseClosed
from transport.store.rows import PRUNE_CHUNK

if TYPE_CHECKING:
    from transport.store import Store

log = logging.getLogger(__name__)

DAY: Final = 86400.0
PRUNE_INTERVAL: Final = 3600.0

Prune = Callable[[float, int], Awaitable[int]]


class Retention:
    """Prunes one store at start and then periodically, until stopped."""

    def __init__(
        self,
        store: Store,
        retention_days: int,
        *,
        interval: float = PRUNE_INTERVAL,
        chunk: int = PRUNE_CHUNK,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if retention_days < 1 or chunk < 1:
            raise ValueError("retention_days and chunk must be at least 1")
        self.retention = retention_days * DAY
        self.interval = interval
        self.chunk = chunk
        self._clock = clock
        self._tables: tuple[tuple[str, Prune], ...] = (
            ("outbox rows", store.outbox.prune),
            ("de-duplication keys", store.xmpp_queue.prune_dedupe),
            ("id maps", store.id_maps.prune),
        )
        self._task: asyncio.Task[None] | None = None

    async def prune(self) -> dict[str, int]:
        """Delete everything past the retention now; how many rows of each kind went."""
        cutoff = self._clock() - self.retention
        counts: dict[str, int] = {}
        for name, prune in self._tables:
            total = 0
            while True:
                deleted = await prune(cutoff, self.chunk)
                total += deleted
                if deleted < self.chunk:
                    break
            counts[name] = total
        if any(counts.values()):
            log.info("pruned %s older than %d days",
                     ", ".join(f"{n} {name}" for name, n in counts.items()),
                     round(self.retention / DAY))
        return counts

    def start(self) -> None:
        """Prune now (in the background) and then every ``interval`` seconds."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="store-retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.prune()
            except DatabaseClosed:
                return
            except Exception:
                # The next round tries again; a prune that fails must not end the gateway.
                log.exception("pruning the database failed")
            await asyncio.sleep(self.interval)
