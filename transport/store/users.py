"""Registered users: a bare JID per component, bound to at most one legacy account.

The legacy key (an SMS number, say) is unique per component so that inbound traffic for it
has exactly one owner; the check and the write happen in one transaction.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from transport.store.database import Database

_COLUMNS: Final = "component, jid, legacy_key, data, registered_at"
_GET: Final = f"SELECT {_COLUMNS} FROM users WHERE component = ? AND jid = ?"
_BY_KEY: Final = f"SELECT {_COLUMNS} FROM users WHERE component = ? AND legacy_key = ?"
_KEY_OWNER: Final = "SELECT jid FROM users WHERE component = ? AND legacy_key = ?"
_UPSERT: Final = """
INSERT INTO users (component, jid, legacy_key, data, registered_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (component, jid) DO UPDATE SET legacy_key = excluded.legacy_key,
    data = excluded.data"""
_LIST: Final = f"SELECT {_COLUMNS} FROM users WHERE component = ? ORDER BY jid"
_COUNT: Final = "SELECT count(*) FROM users WHERE component = ?"

# A full JID is "bare/resource": the range [bare + "/", bare + "0") holds exactly those,
# and unlike LIKE it neither folds case nor treats "_" or "%" in a JID as wildcards.
_REMOVE: Final = (
    "DELETE FROM users WHERE component = ? AND jid = ?",
    "DELETE FROM subscriptions WHERE component = ? AND user = ?",
    "DELETE FROM user_settings WHERE component = ? AND user = ?",
    "DELETE FROM legacy_outbox WHERE component = ? AND user = ?",
    "DELETE FROM id_map WHERE component = ? AND user = ?",
    "DELETE FROM online_users WHERE component = ? AND user = ?",
    "DELETE FROM xmpp_queue WHERE component = ?1 AND (to_jid = ?2"
    " OR (to_jid >= ?2 || '/' AND to_jid < ?2 || '0'))",
)


class LegacyKeyTaken(Exception):
    """The legacy key is registered to another JID on this component."""

    def __init__(self, owner_jid: str) -> None:
        super().__init__(f"already registered to {owner_jid}")
        self.owner_jid = owner_jid


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One registration. ``data`` is what the backend validated (legacy form values)."""

    component: str
    jid: str
    legacy_key: str | None
    data: dict[str, str]
    registered_at: float


class UsersRepo:
    """Registrations per component.

    Every stanza a user sends asks whether they are registered, so ``get`` answers from a
    bounded cache. This process is the database's only writer, and every write below
    drops the cache; a read that raced a write is simply not cached.
    """

    CACHE_SIZE: Final = 20_000

    def __init__(
        self,
        db: Database,
        clock: Callable[[], float] = time.time,
        on_remove: Callable[[str, str], None] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        # Told (component, jid) when a user's rows are deleted, for copies kept in memory.
        self._on_remove = on_remove
        self._cache: OrderedDict[tuple[str, str], UserRecord | None] = OrderedDict()
        self._generation = 0

    async def get(self, component: str, jid: str) -> UserRecord | None:
        key = (component, jid)
        try:
            record = self._cache[key]
        except KeyError:
            pass
        else:
            self._cache.move_to_end(key)
            return record
        generation = self._generation
        record = _record(await self._db.fetchone(_GET, key))
        if generation == self._generation:
            self._cache[key] = record
            if len(self._cache) > self.CACHE_SIZE:
                self._cache.popitem(last=False)
        return record

    def _invalidate(self) -> None:
        self._generation += 1
        self._cache.clear()

    async def by_legacy_key(self, component: str, key: str) -> UserRecord | None:
        return _record(await self._db.fetchone(_BY_KEY, (component, key)))

    async def upsert(
        self, component: str, jid: str, legacy_key: str | None, data: Mapping[str, str]
    ) -> None:
        """Register ``jid`` or replace its key and data (keeping when it first registered).

        Raises ``LegacyKeyTaken`` if another JID holds ``legacy_key``.
        """
        params = (component, jid, legacy_key, json.dumps(dict(data)), self._clock())

        def op(conn: sqlite3.Connection) -> None:
            if legacy_key is not None:
                owner = conn.execute(_KEY_OWNER, (component, legacy_key)).fetchone()
                if owner is not None and owner[0] != jid:
                    raise LegacyKeyTaken(owner[0])
            conn.execute(_UPSERT, params)

        self._invalidate()
        try:
            await self._db.write(op)
        finally:
            self._invalidate()

    async def remove(self, component: str, jid: str) -> bool:
        """Delete the registration and everything the core keeps for that user.

        Returns whether a registration existed; the other rows go either way, so this also
        cleans up after users who never registered.
        """

        def op(conn: sqlite3.Connection) -> bool:
            existed = conn.execute(_REMOVE[0], (component, jid)).rowcount > 0
            for sql in _REMOVE[1:]:
                conn.execute(sql, (component, jid))
            return existed

        self._invalidate()
        if self._on_remove is not None:
            self._on_remove(component, jid)
        try:
            return await self._db.write(op)
        finally:
            self._invalidate()
            if self._on_remove is not None:
                self._on_remove(component, jid)

    async def list(self, component: str) -> builtins.list[UserRecord]:
        rows = await self._db.fetchall(_LIST, (component,))
        return [_to_record(row) for row in rows]

    async def count(self, component: str) -> int:
        row = await self._db.fetchone(_COUNT, (component,))
        return int(row[0]) if row is not None else 0


def _record(row: sqlite3.Row | None) -> UserRecord | None:
    return _to_record(row) if row is not None else None


def _to_record(row: sqlite3.Row) -> UserRecord:
    return UserRecord(
        component=row["component"],
        jid=row["jid"],
        legacy_key=row["legacy_key"],
        data=json.loads(row["data"]),
        registered_at=row["registered_at"],
    )
