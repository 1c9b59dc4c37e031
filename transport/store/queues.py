"""The two durable delivery queues.

``XmppQueueRepo`` holds legacy -> XMPP messages from the moment the legacy side handed them
to us until the XMPP server has processed them. ``LegacyOutboxRepo`` holds XMPP -> legacy
messages from the moment the user sent them, through retries, to sent or failed; its unique
(user, stanza id) makes a retried stanza a no-op.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from transport.core.events import OutgoingMessage, XmppMessage
from transport.store.database import Database

OutboxState = Literal["pending", "sending", "sent", "failed"]

_ENQUEUE: Final = (
    "INSERT INTO xmpp_queue (component, to_jid, payload, created_at) VALUES (?, ?, ?, ?)"
)
_ADD_DEDUPE: Final = (
    "INSERT INTO dedupe_keys (component, key, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)
_PENDING: Final = (
    "SELECT row_id, payload FROM xmpp_queue WHERE component = ? AND row_id > ?"
    " ORDER BY row_id LIMIT ?"
)
_DONE: Final = "DELETE FROM xmpp_queue WHERE component = ? AND row_id = ?"
_QUEUE_COUNT: Final = "SELECT count(*) FROM xmpp_queue WHERE component = ?"
_PRUNE_DEDUPE: Final = "DELETE FROM dedupe_keys WHERE created_at < ?"

_OUTBOX_ADD: Final = """
INSERT INTO legacy_outbox (component, user, stanza_id, lane, payload, next_attempt_at,
    created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (component, user, stanza_id) DO NOTHING"""
_CLAIM: Final = (
    "UPDATE legacy_outbox SET state = 'sending', attempts = attempts + 1 WHERE row_id = ?"
)
_RESCHEDULE: Final = (
    "UPDATE legacy_outbox SET state = 'pending', next_attempt_at = ?, error = ? WHERE row_id = ?"
)
_SENT: Final = (
    "UPDATE legacy_outbox SET state = 'sent', legacy_ids = ?, error = NULL WHERE row_id = ?"
)
_FAILED: Final = "UPDATE legacy_outbox SET state = 'failed', error = ? WHERE row_id = ?"
_UNFINISHED: Final = """
SELECT row_id, lane, payload, state, attempts, next_attempt_at, error FROM legacy_outbox
WHERE component = ? AND state IN ('pending', 'sending') ORDER BY row_id"""
_BY_STATE: Final = "SELECT state, count(*) FROM legacy_outbox WHERE component = ? GROUP BY state"
_OUTBOX_PRUNE: Final = (
    "DELETE FROM legacy_outbox WHERE state IN ('sent', 'failed') AND created_at < ?"
)


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A queued legacy -> XMPP message; ``row_id`` is its place in the queue."""

    row_id: int
    message: XmppMessage


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An XMPP -> legacy message not yet sent or failed for good."""

    row_id: int
    lane: str
    message: OutgoingMessage
    state: OutboxState
    attempts: int
    next_attempt_at: float
    error: str | None = None


class XmppQueueRepo:
    """Legacy -> XMPP queue, with de-duplication of retried legacy events."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def enqueue(
        self,
        component: str,
        messages: Sequence[XmppMessage],
        dedupe_key: str | None = None,
    ) -> bool:
        """Queue ``messages`` in order in one commit; False if ``dedupe_key`` was seen.

        Messages without an id get one now, so that every resend carries the same id.
        """
        now = self._clock()
        rows = [
            (component, m.to, (m if m.id else dataclasses.replace(m, id=_new_id())).to_json(), now)
            for m in messages
        ]

        def op(conn: sqlite3.Connection) -> bool:
            if (
                dedupe_key is not None
                and conn.execute(_ADD_DEDUPE, (component, dedupe_key, now)).rowcount == 0
            ):
                return False
            if rows:
                conn.executemany(_ENQUEUE, rows)
            return True

        return await self._db.write(op)

    async def pending(
        self, component: str, limit: int, after_row_id: int = 0
    ) -> list[QueuedMessage]:
        """Up to ``limit`` queued messages after ``after_row_id``, oldest first."""
        rows = await self._db.fetchall(_PENDING, (component, after_row_id, limit))
        return [QueuedMessage(row[0], XmppMessage.from_json(row[1])) for row in rows]

    async def mark_done(self, component: str, row_ids: Iterable[int]) -> None:
        """Drop messages the XMPP server has processed."""
        await self._db.executemany(_DONE, [(component, row_id) for row_id in row_ids])

    async def count(self, component: str) -> int:
        row = await self._db.fetchone(_QUEUE_COUNT, (component,))
        return int(row[0]) if row is not None else 0

    async def prune_dedupe(self, older_than: float) -> int:
        """Forget dedupe keys recorded before ``older_than`` (past any retry window)."""
        return await self._db.execute(_PRUNE_DEDUPE, (older_than,))


class LegacyOutboxRepo:
    """XMPP -> legacy outbox: one row per (user, stanza id), with its send state."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def add(self, component: str, message: OutgoingMessage, lane: str) -> int | None:
        """Store a message to send; None if this user's stanza id is already there."""
        now = self._clock()
        params = (
            component,
            message.user,
            message.stanza_id,
            lane,
            message.to_json(),
            now,
            now,
        )

        def op(conn: sqlite3.Connection) -> int | None:
            cursor = conn.execute(_OUTBOX_ADD, params)
            return cursor.lastrowid if cursor.rowcount == 1 else None

        return await self._db.write(op)

    async def claim(self, row_id: int) -> None:
        """About to hand the message to the network: a crash now leaves it 'sending'."""
        await self._db.execute(_CLAIM, (row_id,))

    async def reschedule(self, row_id: int, next_attempt_at: float, error: str) -> None:
        await self._db.execute(_RESCHEDULE, (next_attempt_at, error, row_id))

    async def mark_sent(self, row_id: int, legacy_ids: Sequence[str]) -> None:
        await self._db.execute(_SENT, (json.dumps(list(legacy_ids)), row_id))

    async def mark_sent_many(self, rows: Sequence[tuple[int, Sequence[str]]]) -> None:
        """Several ``mark_sent`` in one statement (one writer hand-off)."""
        await self._db.executemany(
            _SENT, [(json.dumps(list(legacy_ids)), row_id) for row_id, legacy_ids in rows])

    async def mark_failed(self, row_id: int, error: str) -> None:
        await self._db.execute(_FAILED, (error, row_id))

    async def unfinished(self, component: str) -> list[OutboxRow]:
        """Pending and sending rows in order: what to resume after a restart."""
        rows = await self._db.fetchall(_UNFINISHED, (component,))
        return [_to_outbox_row(row) for row in rows]

    async def count_by_state(self, component: str) -> dict[str, int]:
        rows = await self._db.fetchall(_BY_STATE, (component,))
        return {row[0]: int(row[1]) for row in rows}

    async def prune(self, older_than: float) -> int:
        """Delete sent and failed rows created before ``older_than``."""
        return await self._db.execute(_OUTBOX_PRUNE, (older_than,))


def _new_id() -> str:
    return uuid.uuid4().hex


def _to_outbox_row(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        row_id=row["row_id"],
        lane=row["lane"],
        message=OutgoingMessage.from_json(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        error=row["error"],
    )
