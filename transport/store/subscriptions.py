"""Presence subscriptions between users and contact JIDs, kept so probes survive restarts.

The two directions are separate facts: ``user_subscribed`` means the user receives the
contact's presence, ``contact_subscribed`` that the contact receives the user's. A pair with
neither is the same as no row at all, so such rows are deleted.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from transport.store.database import Database

_COLUMNS: Final = "component, user, contact, user_subscribed, contact_subscribed, updated_at"
_GET: Final = (
    f"SELECT {_COLUMNS} FROM subscriptions WHERE component = ? AND user = ? AND contact = ?"
)
_UPSERT: Final = f"""
INSERT INTO subscriptions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (component, user, contact) DO UPDATE SET
    user_subscribed = excluded.user_subscribed,
    contact_subscribed = excluded.contact_subscribed,
    updated_at = excluded.updated_at"""
_DELETE: Final = "DELETE FROM subscriptions WHERE component = ? AND user = ? AND contact = ?"
_FOR_USER: Final = (
    f"SELECT {_COLUMNS} FROM subscriptions WHERE component = ? AND user = ? ORDER BY contact"
)
_USERS: Final = "SELECT DISTINCT user FROM subscriptions WHERE component = ? ORDER BY user"
_REMOVE_USER: Final = "DELETE FROM subscriptions WHERE component = ? AND user = ?"
_COUNT: Final = "SELECT count(*) FROM subscriptions WHERE component = ?"
_REGISTERED: Final = "SELECT 1 FROM users WHERE component = ? AND jid = ?"


@dataclass(frozen=True, slots=True)
class Subscription:
    """The state between ``user`` (bare JID) and ``contact`` (localpart, '' = the domain)."""

    component: str
    user: str
    contact: str
    user_subscribed: bool = False
    contact_subscribed: bool = False
    updated_at: float = 0.0


class SubscriptionsRepo:
    """Subscriptions per component."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def get(self, component: str, user: str, contact: str) -> Subscription | None:
        row = await self._db.fetchone(_GET, (component, user, contact))
        return _to_sub(row) if row is not None else None

    async def set(
        self,
        component: str,
        user: str,
        contact: str,
        *,
        user_subscribed: bool | None = None,
        contact_subscribed: bool | None = None,
        registered_only: bool = False,
    ) -> Subscription:
        """Change the given directions, leave the others; return the resulting state.

        ``registered_only``: change nothing unless ``user`` is registered, checked in the
        same transaction, so that a presence handled while the user unregisters can never
        leave a row behind the removal."""
        now = self._clock()

        def op(conn: sqlite3.Connection) -> Subscription:
            row = conn.execute(_GET, (component, user, contact)).fetchone()
            old = _to_sub(row) if row is not None else Subscription(component, user, contact)
            if registered_only and conn.execute(_REGISTERED, (component, user)).fetchone() \
                    is None:
                return old
            new = Subscription(
                component,
                user,
                contact,
                old.user_subscribed if user_subscribed is None else user_subscribed,
                old.contact_subscribed if contact_subscribed is None else contact_subscribed,
                now,
            )
            if new.user_subscribed or new.contact_subscribed:
                conn.execute(
                    _UPSERT,
                    (
                        component,
                        user,
                        contact,
                        int(new.user_subscribed),
                        int(new.contact_subscribed),
                        now,
                    ),
                )
            elif row is not None:
                conn.execute(_DELETE, (component, user, contact))
            return new

        return await self._db.write(op)

    async def for_user(self, component: str, user: str) -> list[Subscription]:
        rows = await self._db.fetchall(_FOR_USER, (component, user))
        return [_to_sub(row) for row in rows]

    async def users(self, component: str) -> list[str]:
        """Users with at least one subscription: whom to send presence on start/stop."""
        rows = await self._db.fetchall(_USERS, (component,))
        return [row[0] for row in rows]

    async def remove_user(self, component: str, user: str) -> int:
        return await self._db.execute(_REMOVE_USER, (component, user))

    async def count(self, component: str) -> int:
        row = await self._db.fetchone(_COUNT, (component,))
        return int(row[0]) if row is not None else 0


def _to_sub(row: sqlite3.Row) -> Subscription:
    return Subscription(
        component=row["component"],
        user=row["user"],
        contact=row["contact"],
        user_subscribed=bool(row["user_subscribed"]),
        contact_subscribed=bool(row["contact_subscribed"]),
        updated_at=row["updated_at"],
    )
