"""Per-user settings (ad-hoc command values), stored as JSON so any backend can use them."""

from __future__ import annotations

import json
from typing import Any, Final

from transport.store.database import Database

_GET_ALL: Final = "SELECT key, value FROM user_settings WHERE component = ? AND user = ?"
_SET: Final = """
INSERT INTO user_settings (component, user, key, value) VALUES (?, ?, ?, ?)
ON CONFLICT (component, user, key) DO UPDATE SET value = excluded.value"""
_DELETE: Final = "DELETE FROM user_settings WHERE component = ? AND user = ? AND key = ?"


class UserSettingsRepo:
    """Key/value settings per (component, user); values are any JSON-serialisable data."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_all(self, component: str, user: str) -> dict[str, Any]:
        rows = await self._db.fetchall(_GET_ALL, (component, user))
        return {row[0]: json.loads(row[1]) for row in rows}

    async def set(self, component: str, user: str, key: str, value: Any) -> None:
        """Store ``value``; raises TypeError before writing if it is not JSON-serialisable."""
        await self._db.execute(_SET, (component, user, key, json.dumps(value)))

    async def delete(self, component: str, user: str, key: str) -> bool:
        """Remove the key; whether it was set."""
        return await self._db.execute(_DELETE, (component, user, key)) > 0
