"""Who the backend was told is online, per component: the lifecycle's memory across restarts.

A row exists from the moment ``on_user_online`` is about to be called until
``on_user_offline`` is, so after a restart the core knows whom to ask about (a presence
probe) and whom it must not announce a second time.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from typing import Final

from transport.store.database import Database

_LIST: Final = "SELECT user FROM online_users WHERE component = ? ORDER BY user"
_ADD: Final = """
INSERT INTO online_users (component, user, since) VALUES (?, ?, ?)
ON CONFLICT (component, user) DO NOTHING"""
_REMOVE: Final = "DELETE FROM online_users WHERE component = ? AND user = ?"


class OnlineUsersRepo:
    """Bare JIDs reported online to a component's backend."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def list(self, component: str) -> builtins.list[str]:
        rows = await self._db.fetchall(_LIST, (component,))
        return [str(row[0]) for row in rows]

    async def add(self, component: str, user: str) -> None:
        """Record ``user`` as online (keeping the first ``since`` if already recorded)."""
        await self._db.execute(_ADD, (component, user, self._clock()))

    async def remove(self, component: str, user: str) -> bool:
        """Forget ``user``; whether they were recorded."""
        return await self._db.execute(_REMOVE, (component, user)) > 0
