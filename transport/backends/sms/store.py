"""The sms backend's own tables (namespace "sms") and the queries on them.

- ``sms_unrouted``: texts to numbers nobody registered, kept for the admin (never lost,
  never handed to a stranger);
- ``sms_media``: inbound MMS media the gateway serves, with type, size and expiry;
- ``sms_sent``: the SIDs of messages we created, so a status callback for a SID that is not
  ours can be refused;
- ``sms_meta``: small values such as the key that names media files;
- ``sms_pending``: registration requests waiting for an admin (``registrations.py``); each
  reserves its number.
- ``sms_usage``: messages and segments each user had Twilio create per UTC day.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from transport.core.storage import BackendStorage, Transaction

_V1: Final = """
CREATE TABLE sms_unrouted (
    message_sid TEXT PRIMARY KEY,
    to_number TEXT NOT NULL,
    from_number TEXT NOT NULL,
    body TEXT NOT NULL,
    media_urls TEXT NOT NULL DEFAULT '[]',
    received_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX sms_unrouted_received ON sms_unrouted (received_at);

CREATE TABLE sms_media (
    name TEXT PRIMARY KEY,
    message_sid TEXT NOT NULL,
    idx INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX sms_media_expires ON sms_media (expires_at);
CREATE INDEX sms_media_message ON sms_media (message_sid);

CREATE TABLE sms_sent (
    sid TEXT PRIMARY KEY,
    created_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX sms_sent_created ON sms_sent (created_at);

CREATE TABLE sms_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

_PENDING: Final = """
CREATE TABLE sms_pending (
    user TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL DEFAULT '{}',
    requested_at REAL NOT NULL
) WITHOUT ROWID;
"""

# Which of our numbers a media file came to, so that releasing the number deletes it.
_MEDIA_NUMBER: Final = """
ALTER TABLE sms_media ADD COLUMN to_number TEXT NOT NULL DEFAULT '';
CREATE INDEX sms_media_number ON sms_media (to_number);
"""

# What each user had Twilio create per UTC day (``day`` is YYYY-MM-DD), for [sms.limits].
_USAGE: Final = """
CREATE TABLE sms_usage (
    day TEXT NOT NULL,
    user_jid TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    segments INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, user_jid)
) WITHOUT ROWID;
"""

MIGRATIONS: Final[tuple[str, ...]] = (_V1, _PENDING, _MEDIA_NUMBER, _USAGE)


@dataclass(frozen=True, slots=True)
class Unrouted:
    """A text for a number nobody registered."""

    message_sid: str
    to_number: str
    from_number: str
    body: str
    media_urls: tuple[str, ...]
    received_at: float


@dataclass(frozen=True, slots=True)
class MediaRow:
    """One stored media file; ``name`` is both the URL path segment and the file name."""

    name: str
    message_sid: str
    idx: int
    content_type: str
    size: int
    created_at: float
    expires_at: float
    to_number: str = ""


class SmsRepo:
    """Queries on the sms tables, through the shared group-committing ``Database``."""

    def __init__(self, storage: BackendStorage) -> None:
        self.storage = storage

    # -- unrouted texts ---------------------------------------------------------------

    async def keep_unrouted(self, item: Unrouted) -> bool:
        """Store it; False when this MessageSid was kept already (a retried webhook)."""
        return bool(await self.storage.write(
            "INSERT INTO sms_unrouted VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (item.message_sid, item.to_number, item.from_number, item.body,
             json.dumps(list(item.media_urls)), item.received_at),
        ))

    async def unrouted(self, limit: int) -> list[Unrouted]:
        rows = await self.storage.read(
            "SELECT * FROM sms_unrouted ORDER BY received_at DESC LIMIT ?", (limit,)
        )
        return [Unrouted(r["message_sid"], r["to_number"], r["from_number"], r["body"],
                         tuple(json.loads(r["media_urls"])), r["received_at"]) for r in rows]

    async def count_unrouted(self) -> int:
        row = await self.storage.read_one("SELECT count(*) FROM sms_unrouted")
        return int(row[0]) if row is not None else 0

    async def purge_unrouted(self) -> int:
        return int(await self.storage.write("DELETE FROM sms_unrouted"))

    async def purge_unrouted_to(self, number: str) -> int:
        """Forget the kept texts to ``number`` (it is being released)."""
        return int(await self.storage.write("DELETE FROM sms_unrouted WHERE to_number = ?",
                                            (number,)))

    # -- media ------------------------------------------------------------------------

    async def add_media(self, rows: Sequence[MediaRow]) -> None:
        await self.storage.write_many(
            "INSERT INTO sms_media (name, message_sid, idx, content_type, size, created_at,"
            " expires_at, to_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name)"
            " DO UPDATE SET content_type = excluded.content_type, size = excluded.size,"
            " expires_at = excluded.expires_at",
            [(r.name, r.message_sid, r.idx, r.content_type, r.size, r.created_at,
              r.expires_at, r.to_number) for r in rows],
        )

    async def media(self, name: str) -> MediaRow | None:
        row = await self.storage.read_one("SELECT * FROM sms_media WHERE name = ?", (name,))
        return _media_row(row) if row is not None else None

    async def media_of(self, message_sid: str) -> list[MediaRow]:
        rows = await self.storage.read(
            "SELECT * FROM sms_media WHERE message_sid = ? ORDER BY idx", (message_sid,)
        )
        return [_media_row(r) for r in rows]

    async def expired_media(self, now: float) -> list[str]:
        rows = await self.storage.read("SELECT name FROM sms_media WHERE expires_at <= ?", (now,))
        return [str(r[0]) for r in rows]

    async def media_to(self, number: str) -> list[str]:
        """The names of the media files that came to ``number``."""
        rows = await self.storage.read("SELECT name FROM sms_media WHERE to_number = ?",
                                       (number,))
        return [str(r[0]) for r in rows]

    async def delete_media(self, names: Iterable[str]) -> None:
        await self.storage.write_many("DELETE FROM sms_media WHERE name = ?", [(n,) for n in names])

    async def count_media(self) -> int:
        row = await self.storage.read_one("SELECT count(*) FROM sms_media")
        return int(row[0]) if row is not None else 0

    # -- our own message SIDs ---------------------------------------------------------

    async def record_sent(self, sid: str, now: float) -> None:
        await self.storage.write(
            "INSERT INTO sms_sent VALUES (?, ?) ON CONFLICT DO NOTHING", (sid, now)
        )

    async def was_sent(self, sid: str) -> bool:
        found = await self.storage.read_one("SELECT 1 FROM sms_sent WHERE sid = ?", (sid,))
        return found is not None

    async def prune_sent(self, older_than: float) -> int:
        return int(await self.storage.write(
            "DELETE FROM sms_sent WHERE created_at < ?", (older_than,)
        ))

    # -- meta -------------------------------------------------------------------------

    async def secret(self, key: str) -> bytes:
        """A random 32-byte value stored under ``key``, created on first use."""

        def op(conn: Transaction) -> str:
            conn.execute(
                "INSERT INTO sms_meta VALUES (?, ?) ON CONFLICT DO NOTHING",
                (key, secrets.token_hex(32)),
            )
            row = conn.execute("SELECT value FROM sms_meta WHERE key = ?", (key,)).fetchone()
            return str(row[0])

        return bytes.fromhex(await self.storage.transaction(op))


def _media_row(row: Any) -> MediaRow:
    return MediaRow(row["name"], row["message_sid"], row["idx"], row["content_type"],
                    row["size"], row["created_at"], row["expires_at"], row["to_number"])
