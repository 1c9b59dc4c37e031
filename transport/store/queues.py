"""The two durable delivery queues.

``XmppQueueRepo`` holds legacy -> XMPP messages from the moment the legacy side handed them
to us until the XMPP server has processed them. ``LegacyOutboxRepo`` holds XMPP -> legacy
messages from the moment the user sent them, through retries, to sent or failed; its unique
(user, stanza id, content digest) makes a retried stanza a no-op. Both treat a key as seen
only with the same content and within ``DEDUPE_WINDOW`` (see ``dedupe``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from transport.core.events import OutgoingMessage, XmppMessage
from transport.core.ids import new_id
from transport.store.database import Database
from transport.store.dedupe import DEDUPE_WINDOW, outgoing_digest, queued_digest
from transport.store.queue_tail import QueueTail
from transport.store.rows import PRUNE_CHUNK, columns, json_rows, json_value

OutboxState = Literal["pending", "sending", "sent", "failed"]

_ENQUEUE: Final = f"""
INSERT INTO xmpp_queue (component, to_jid, payload, created_at)
SELECT ?1, to_jid, payload, ?2 FROM (SELECT {columns("to_jid", "payload")}, key
    FROM json_each(?3)) ORDER BY key"""
_ADD_DEDUPE: Final = (
    "INSERT INTO dedupe_keys (component, key, digest, created_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
# The key was seen with this content: a duplicate unless that was before the window.
_RENEW_DEDUPE: Final = (
    "UPDATE dedupe_keys SET created_at = ?4"
    " WHERE component = ?1 AND key = ?2 AND digest = ?3 AND created_at < ?5"
)
_PENDING: Final = (
    "SELECT row_id, payload FROM xmpp_queue WHERE component = ? AND row_id > ?"
    " ORDER BY row_id LIMIT ?"
)
_ENQUEUE_ONE: Final = (
    "INSERT INTO xmpp_queue (component, to_jid, payload, created_at) VALUES (?, ?, ?, ?)"
)
# Rows added by a statement are those above the largest row_id before it (AUTOINCREMENT,
# and the writer thread is the only writer).
_QUEUE_LAST: Final = "SELECT coalesce(max(row_id), 0) FROM xmpp_queue"
_QUEUE_ADDED: Final = "SELECT json_group_array(row_id) FROM xmpp_queue WHERE row_id > ?"
_DONE: Final = (
    "DELETE FROM xmpp_queue WHERE component = ? AND row_id IN (SELECT value FROM json_each(?))"
)
_QUEUE_COUNT: Final = "SELECT count(*) FROM xmpp_queue WHERE component = ?"
_PRUNE_DEDUPE: Final = """
DELETE FROM dedupe_keys WHERE (component, key, digest) IN (
    SELECT component, key, digest FROM dedupe_keys WHERE created_at < ? LIMIT ?)"""

_OUTBOX_ADD_ONE: Final = """
INSERT INTO legacy_outbox (component, user, stanza_id, digest, lane, payload,
    next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (component, user, stanza_id, digest) DO NOTHING"""
# Only when an add found its (user, stanza id, digest) taken: a finished row from before the
# window gives way to the new message, which then gets a row of its own.
_OUTBOX_STALE: Final = """
DELETE FROM legacy_outbox WHERE component = ? AND user = ? AND stanza_id = ? AND digest = ?
    AND created_at < ? AND state IN ('sent', 'failed')"""
# Rows added here are those with a row_id above the largest before (AUTOINCREMENT, and the
# writer thread is the only writer); ``WHERE true`` keeps SQLite from reading the upsert's
# ON as a join constraint.
_OUTBOX_LAST: Final = "SELECT coalesce(max(row_id), 0) FROM legacy_outbox"
_OUTBOX_ADD: Final = f"""
INSERT INTO legacy_outbox (component, user, stanza_id, digest, lane, payload,
    next_attempt_at, created_at)
SELECT component, user, stanza_id, digest, lane, payload, ?1, ?1 FROM (SELECT
    {columns("component", "user", "stanza_id", "digest", "lane", "payload")}, key
    FROM json_each(?2))
WHERE true ORDER BY key
ON CONFLICT (component, user, stanza_id, digest) DO NOTHING"""
_OUTBOX_ADDED: Final = """
SELECT json_group_array(json_array(component, user, stanza_id, digest, row_id))
FROM legacy_outbox WHERE row_id > ?"""
_CLAIM: Final = (
    "UPDATE legacy_outbox SET state = 'sending', attempts = attempts + 1 WHERE row_id = ?"
)
_RESCHEDULE: Final = (
    "UPDATE legacy_outbox SET state = 'pending', next_attempt_at = ?, error = ? WHERE row_id = ?"
)
_SENT: Final = (
    "UPDATE legacy_outbox SET state = 'sent', legacy_ids = ?, error = NULL WHERE row_id = ?"
)
_SENT_ROWS: Final = f"""
UPDATE legacy_outbox SET state = 'sent', legacy_ids = sent.ids, error = NULL
FROM (SELECT {columns("row_id", "ids")} FROM json_each(?)) AS sent
WHERE legacy_outbox.row_id = sent.row_id"""
_FAILED: Final = "UPDATE legacy_outbox SET state = 'failed', error = ? WHERE row_id = ?"
_UNFINISHED: Final = """
SELECT row_id, lane, payload, state, attempts, next_attempt_at, error FROM legacy_outbox
WHERE component = ? AND state IN ('pending', 'sending') ORDER BY row_id"""
_BY_STATE: Final = "SELECT state, count(*) FROM legacy_outbox WHERE component = ? GROUP BY state"
_OUTBOX_PRUNE: Final = """
DELETE FROM legacy_outbox WHERE row_id IN (
    SELECT row_id FROM legacy_outbox WHERE created_at < ? AND state IN ('sent', 'failed')
    LIMIT ?)"""


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
    """Legacy -> XMPP queue, with de-duplication of retried legacy events.

    What this process queues is also kept in memory (``QueueTail``) until it is done, so
    ``pending`` reads the table only after a restart or when the memory may be incomplete.
    """

    def __init__(self, db: Database, clock: Callable[[], float] = time.time,
                 dedupe_window: float = DEDUPE_WINDOW) -> None:
        self._db = db
        self._clock = clock
        self._dedupe_window = dedupe_window
        self._tails: dict[str, QueueTail] = {}

    def _tail(self, component: str) -> QueueTail:
        tail = self._tails.get(component)
        if tail is None:
            tail = self._tails[component] = QueueTail()
        return tail

    async def enqueue(
        self,
        component: str,
        messages: Sequence[XmppMessage],
        dedupe_key: str | None = None,
    ) -> bool:
        """Queue ``messages`` in order in one commit; False if ``dedupe_key`` was seen with
        the same messages within the de-duplication window.

        Messages without an id get one now, so that every resend carries the same id.
        """
        now = self._clock()
        key: tuple[tuple[str, str, str, float], tuple[str, str, str, float, float]] | None = None
        if dedupe_key is not None:
            add_key = (component, dedupe_key, queued_digest(messages), now)
            key = (add_key, (*add_key, now - self._dedupe_window))
        stored = [m if m.id else dataclasses.replace(m, id=new_id()) for m in messages]
        rows = json_rows((m.to, m.to_dict()) for m in stored) if len(stored) > 1 else None
        one = (component, stored[0].to, stored[0].to_json(), now) if len(stored) == 1 else None

        def op(conn: sqlite3.Connection) -> list[int] | None:
            if (
                key is not None
                and conn.execute(_ADD_DEDUPE, key[0]).rowcount == 0
                and conn.execute(_RENEW_DEDUPE, key[1]).rowcount == 0
            ):
                return None
            if one is not None:  # one row: its id without the two extra statements
                return [int(conn.execute(_ENQUEUE_ONE, one).lastrowid or 0)]
            if rows is None:
                return []
            last = conn.execute(_QUEUE_LAST).fetchone()[0]
            conn.execute(_ENQUEUE, (component, now, rows))
            return sorted(json.loads(conn.execute(_QUEUE_ADDED, (last,)).fetchone()[0]))

        tail = self._tail(component)
        try:
            row_ids = await self._db.write(op)
        except asyncio.CancelledError:
            tail.forget()  # committed or not, nobody records it: the pump reads the table
            raise
        if row_ids is None:
            return False
        tail.add(row_ids, stored)
        if row_ids:
            tail.newest = max(tail.newest, row_ids[-1])
        return True

    def last_queued(self, component: str) -> int:
        """The highest row id this process queued for ``component`` (0 before the first)."""
        return self._tail(component).newest

    async def pending(
        self, component: str, limit: int, after_row_id: int = 0
    ) -> list[QueuedMessage]:
        """Up to ``limit`` queued messages after ``after_row_id``, oldest first."""
        tail = self._tail(component)
        known = tail.pending(after_row_id, limit)
        if known is not None:
            return [QueuedMessage(row_id, message) for row_id, message in known]
        rows = await self._db.fetchall(_PENDING, (component, after_row_id, limit))
        if len(rows) < limit:
            tail.read_to_end(after_row_id, rows[-1][0] if rows else None)
        return [QueuedMessage(row[0], XmppMessage.from_json(row[1])) for row in rows]

    async def mark_done(self, component: str, row_ids: Iterable[int]) -> None:
        """Drop messages the XMPP server has processed."""
        ids = list(row_ids)
        if ids:
            await self._db.execute(_DONE, (component, json_rows(ids)))
            self._tail(component).done(ids)

    def dropped_recipient(self, component: str, bare_jid: str) -> None:
        """The messages queued for a user were deleted from the table (user removal)."""
        self._tail(component).drop_recipient(bare_jid)

    async def count(self, component: str) -> int:
        row = await self._db.fetchone(_QUEUE_COUNT, (component,))
        return int(row[0]) if row is not None else 0

    async def prune_dedupe(self, older_than: float, limit: int = PRUNE_CHUNK) -> int:
        """Forget up to ``limit`` dedupe keys recorded before ``older_than``."""
        return await self._db.execute(_PRUNE_DEDUPE, (older_than, limit))


class LegacyOutboxRepo:
    """XMPP -> legacy outbox: one row per (user, stanza id, content), with its send state."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time,
                 dedupe_window: float = DEDUPE_WINDOW) -> None:
        self._db = db
        self._clock = clock
        self._dedupe_window = dedupe_window
        self._adding: list[tuple[tuple[str, str, str, str, str, dict[str, Any]],
                                 asyncio.Future[int | None]]] = []

    async def add(self, component: str, message: OutgoingMessage, lane: str) -> int | None:
        """Store a message to send; None if this user sent this stanza id with the same
        content within the de-duplication window (a resent stanza).

        The adds of one event-loop turn are written together, in call order, by one
        statement: a busy gateway adds many per turn, and each write of its own would cost
        the writer thread three SQLite steps (savepoint, insert, release; see ``rows``).
        """
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._adding.append(((component, message.user, message.stanza_id,
                              outgoing_digest(message), lane, message.to_dict()), future))
        if len(self._adding) == 1:
            asyncio.get_running_loop().call_soon(self._write_adds)
        return await future

    def _write_adds(self) -> None:
        adding, self._adding = self._adding, []
        rows = [row for row, _ in adding]
        now = self._clock()
        window_start = now - self._dedupe_window
        params = (now, json_rows(rows))
        one = (*rows[0][:5], json_value(rows[0][5]), now, now) if len(rows) == 1 else None

        def op(conn: sqlite3.Connection) -> list[int | None]:
            if one is not None:  # one row: its id without the two extra statements
                cursor = conn.execute(_OUTBOX_ADD_ONE, one)
                if cursor.rowcount == 1:
                    return [cursor.lastrowid]
                return [_replace_stale(conn, one, window_start)]
            last = conn.execute(_OUTBOX_LAST).fetchone()[0]
            conn.execute(_OUTBOX_ADD, params)
            added = json.loads(conn.execute(_OUTBOX_ADDED, (last,)).fetchone()[0])
            ids: dict[tuple[str, ...], int] = {
                (c, u, s, d): row_id for c, u, s, d, row_id in added}
            # The same stanza and content twice in one group: the first is added, the second
            # is a duplicate.
            found = [ids.pop(tuple(row[:4]), None) for row in rows]
            return [row_id if row_id is not None else _replace_stale(
                conn, (*row[:5], json_value(row[5]), now, now), window_start)
                for row_id, row in zip(found, rows, strict=True)]

        def settle(write: asyncio.Future[list[int | None]]) -> None:
            error = None if write.cancelled() else write.exception()
            for index, (_row, future) in enumerate(adding):
                if future.done():
                    continue
                if write.cancelled():
                    future.cancel()
                elif error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(write.result()[index])

        asyncio.ensure_future(self._db.write(op)).add_done_callback(settle)

    async def claim(self, row_id: int) -> None:
        """About to hand the message to the network: a crash now leaves it 'sending'."""
        await self._db.execute(_CLAIM, (row_id,))

    async def reschedule(self, row_id: int, next_attempt_at: float, error: str) -> None:
        await self._db.execute(_RESCHEDULE, (next_attempt_at, error, row_id))

    async def mark_sent(self, row_id: int, legacy_ids: Sequence[str]) -> None:
        await self._db.execute(_SENT, (json.dumps(list(legacy_ids)), row_id))

    async def mark_sent_many(self, rows: Sequence[tuple[int, Sequence[str]]]) -> None:
        """Several ``mark_sent`` in one statement (one writer hand-off)."""
        if rows:
            await self._db.execute(_SENT_ROWS, (json_rows(
                (row_id, json.dumps(list(legacy_ids))) for row_id, legacy_ids in rows),))

    async def mark_failed(self, row_id: int, error: str) -> None:
        await self._db.execute(_FAILED, (error, row_id))

    async def unfinished(self, component: str) -> list[OutboxRow]:
        """Pending and sending rows in order: what to resume after a restart."""
        rows = await self._db.fetchall(_UNFINISHED, (component,))
        return [_to_outbox_row(row) for row in rows]

    async def count_by_state(self, component: str) -> dict[str, int]:
        rows = await self._db.fetchall(_BY_STATE, (component,))
        return {row[0]: int(row[1]) for row in rows}

    async def prune(self, older_than: float, limit: int = PRUNE_CHUNK) -> int:
        """Delete up to ``limit`` sent and failed rows created before ``older_than``."""
        return await self._db.execute(_OUTBOX_PRUNE, (older_than, limit))


def _replace_stale(conn: sqlite3.Connection, row: tuple[Any, ...],
                   window_start: float) -> int | None:
    """In the writer: the row's key was taken. If by a finished row older than the window,
    that row makes way and this one is added; else this is a duplicate (None)."""
    if conn.execute(_OUTBOX_STALE, (*row[:4], window_start)).rowcount == 0:
        return None
    return conn.execute(_OUTBOX_ADD_ONE, row).lastrowid


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
