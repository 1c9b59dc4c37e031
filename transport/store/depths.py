"""How much waits in the durable queues, and since when: read for metrics, not hot."""

from __future__ import annotations

import time
from typing import Final

from transport.store.database import Database

_XMPP: Final = "SELECT count(*), min(created_at) FROM xmpp_queue WHERE component = ?"
_OUTBOX: Final = ("SELECT count(*), min(created_at) FROM legacy_outbox "
                  "WHERE component = ? AND state NOT IN ('sent', 'failed')")


class QueueDepths:
    """Rows waiting in each queue of a component, and the age of the oldest one."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def xmpp(self, component: str) -> tuple[int, float]:
        """Messages for users not yet confirmed by the XMPP server: (count, oldest age s)."""
        return await self._read(_XMPP, component)

    async def outbox(self, component: str) -> tuple[int, float]:
        """Users' messages not yet sent or failed: (count, oldest age in seconds)."""
        return await self._read(_OUTBOX, component)

    async def _read(self, sql: str, component: str) -> tuple[int, float]:
        row = await self._db.fetchone(sql, (component,))
        if row is None or not row[0]:
            return 0, 0.0
        return int(row[0]), max(0.0, time.time() - float(row[1]))
