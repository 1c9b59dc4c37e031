"""Which XMPP message a legacy message id belongs to, for receipts and error replies.

One XMPP message may become several legacy messages (a long SMS is split), so several
legacy ids can map to one ``xmpp_id``. ``resolved`` makes a receipt or an error go out once
even when the legacy network reports the same id twice.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from transport.store.database import Database
from transport.store.rows import PRUNE_CHUNK

_COLUMNS: Final = (
    "component, legacy_id, user, full_jid, contact, xmpp_id, receipt_requested, resolved,"
    " created_at"
)
_ADD: Final = f"""
INSERT INTO id_map ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
ON CONFLICT (component, legacy_id) DO NOTHING"""
_BY_LEGACY: Final = f"SELECT {_COLUMNS} FROM id_map WHERE component = ? AND legacy_id = ?"
_BY_XMPP: Final = (
    f"SELECT {_COLUMNS} FROM id_map WHERE component = ? AND user = ? AND xmpp_id = ?"
    " ORDER BY created_at, legacy_id"
)
_RESOLVE: Final = (
    "UPDATE id_map SET resolved = 1 WHERE component = ? AND legacy_id = ? AND resolved = 0"
)
_PRUNE: Final = """
DELETE FROM id_map WHERE (component, legacy_id) IN (
    SELECT component, legacy_id FROM id_map WHERE created_at < ? LIMIT ?)"""


@dataclass(frozen=True, slots=True)
class IdMapping:
    """A legacy message id and the XMPP message (and sender's full JID) it came from."""

    component: str
    legacy_id: str
    user: str
    full_jid: str
    contact: str
    xmpp_id: str
    receipt_requested: bool
    resolved: bool
    created_at: float


class IdMapRepo:
    """Legacy id -> XMPP message mappings per component."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def add(
        self,
        component: str,
        legacy_ids: Sequence[str],
        user: str,
        full_jid: str,
        contact: str,
        xmpp_id: str,
        receipt_requested: bool,
    ) -> None:
        """Map each legacy id to the message; an id already mapped keeps its first mapping."""
        now = self._clock()
        flag = int(receipt_requested)
        await self._db.executemany(
            _ADD,
            [
                (component, legacy_id, user, full_jid, contact, xmpp_id, flag, now)
                for legacy_id in legacy_ids
            ],
        )

    async def by_legacy_id(self, component: str, legacy_id: str) -> IdMapping | None:
        row = await self._db.fetchone(_BY_LEGACY, (component, legacy_id))
        return _to_mapping(row) if row is not None else None

    async def by_xmpp_id(self, component: str, user: str, xmpp_id: str) -> list[IdMapping]:
        rows = await self._db.fetchall(_BY_XMPP, (component, user, xmpp_id))
        return [_to_mapping(row) for row in rows]

    async def resolve(self, component: str, legacy_id: str) -> bool:
        """Mark the id as answered; True only for the first call on a known id."""
        return await self._db.execute(_RESOLVE, (component, legacy_id)) == 1

    async def prune(self, older_than: float, limit: int = PRUNE_CHUNK) -> int:
        """Forget up to ``limit`` mappings created before ``older_than``; late reports for
        them then go unanswered."""
        return await self._db.execute(_PRUNE, (older_than, limit))


def _to_mapping(row: sqlite3.Row) -> IdMapping:
    return IdMapping(
        component=row["component"],
        legacy_id=row["legacy_id"],
        user=row["user"],
        full_jid=row["full_jid"],
        contact=row["contact"],
        xmpp_id=row["xmpp_id"],
        receipt_requested=bool(row["receipt_requested"]),
        resolved=bool(row["resolved"]),
        created_at=row["created_at"],
    )
