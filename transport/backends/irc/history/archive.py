"""The IRC channel archive: one copy of each line, read through per-user presence windows.

``record()`` is on the relay's hot path: it buffers the line and returns its uid (XEP-0359
stanza-id); a task writes batches, one transaction each, not one fsync per line (biboumi's
cap). A hard crash loses at most ``flush_interval`` of lines. A user reads a line iff its ts
is in one of their windows (join, or persistent presence, to leave).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from transport.backends.irc.contracts import ArchivedLine, ArchivePage, HistoryRequest, LineKind
from transport.core.ids import new_id_bytes
from transport.core.storage import BackendStorage
from transport.store.rows import insert_values

log = logging.getLogger(__name__)

MAM_MAX: Final = 100
KINDS: Final[tuple[LineKind, ...]] = ("message", "action", "notice")
_INF: Final = float("inf")
_NO_SEQ: Final = 1 << 62
_PRUNE_CHUNK: Final = 5000
_MAX_BUFFER: Final = 200_000

_CHANNELS = """SELECT c.id, c.server, c.channel, a.ts, a.seq FROM irc_archive_channels c
 LEFT JOIN irc_archive a ON a.row_id = (SELECT row_id FROM irc_archive WHERE chan_id = c.id
 ORDER BY ts DESC, seq DESC LIMIT 1) WHERE c.component = ?"""
_ADD_CHANNEL = """INSERT OR IGNORE INTO irc_archive_channels (component, server, channel)
 VALUES (?, ?, ?)"""
_GET_CHANNEL = """SELECT id FROM irc_archive_channels
 WHERE component = ? AND server = ? AND channel = ?"""
# OR IGNORE: a batch written again after an uncertain commit is not stored twice.
_INSERT = "INSERT OR IGNORE INTO irc_archive (chan_id, seq, ts, uid, kind, nick, body)"
_OF_COMPONENT = "chan_id IN (SELECT id FROM irc_archive_channels WHERE component = ?)"
_CLOSE_ALL = f"""UPDATE irc_windows SET closed = max(opened, ?)
 WHERE closed IS NULL AND {_OF_COMPONENT}"""
# Reopen the last window if nothing was said since it closed; never a second open one.
_REOPEN = """UPDATE OR IGNORE irc_windows SET closed = NULL WHERE rowid = (SELECT rowid
 FROM irc_windows WHERE chan_id = ?1 AND user = ?2 ORDER BY opened DESC LIMIT 1)
 AND NOT EXISTS (SELECT 1 FROM irc_archive WHERE chan_id = ?1 AND ts > irc_windows.closed
 AND ts < ?3)"""
_OPEN = "INSERT OR IGNORE INTO irc_windows (chan_id, user, opened) VALUES (?, ?, ?)"
_CLOSE = """UPDATE irc_windows SET closed = max(opened, ?3)
 WHERE chan_id = ?1 AND user = ?2 AND closed IS NULL"""
_WINDOWS = "SELECT opened, closed FROM irc_windows WHERE chan_id = ? AND user = ? ORDER BY opened"
_LINES = """SELECT seq, uid, nick, kind, body, ts FROM irc_archive
 WHERE chan_id = ? AND ts >= ? AND ts <= ?"""
# Per window (they never overlap): seq of its last line - seq of its first line + 1, the
# last bounded by ?3 (for an RSM index: lines before a given one). NULL: no line there.
_COUNT = """SELECT SUM(max(0, min((SELECT seq FROM irc_archive WHERE chan_id = w.chan_id
 AND ts <= min(coalesce(w.closed, ?1), ?2) ORDER BY ts DESC, seq DESC LIMIT 1), ?3)
 - (SELECT seq FROM irc_archive WHERE chan_id = w.chan_id AND ts >= max(w.opened, ?4)
 ORDER BY ts, seq LIMIT 1) + 1)) FROM irc_windows w WHERE w.chan_id = ?5 AND w.user = ?6"""
_BY_UID = "SELECT chan_id, ts, seq FROM irc_archive WHERE uid = ?"
_PRUNE_LINES = """DELETE FROM irc_archive WHERE row_id IN
 (SELECT row_id FROM irc_archive WHERE chan_id = ? AND ts < ? LIMIT ?)"""
_PRUNE_WINDOWS = f"DELETE FROM irc_windows WHERE closed < ? AND {_OF_COMPONENT}"

Key = tuple[str, str]
Span = tuple[float, float]
Cursor = tuple[float, int]
_Entry = tuple[Key, int, float, bytes, int, str, str]


class ChannelArchive:
    """Implements ``ChannelHistory`` on the gateway's SQLite store for one component."""

    def __init__(
        self, storage: BackendStorage, component: str, retention_days: float | None = None,
        flush_interval: float = 0.05, max_batch: int = 1000, *,
        prune_interval: float = 3600.0, clock: Callable[[], float] = time.time,
    ) -> None:
        self._storage, self._component, self._clock = storage, component, clock
        self._retention, self._prune_interval = retention_days, prune_interval
        self._interval, self._max_batch = flush_interval, max(1, max_batch)
        self._buffer: list[_Entry] = []
        self._chan_ids: dict[Key, int] = {}
        self._last: dict[Key, Cursor] = {}  # (ts, seq) of each channel's newest line
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Load the channels, close windows a previous run left open, start the tasks.

        Nobody is in a channel before the gateway rejoins it: call ``opened()`` for each one
        rejoined (a window whose channel stayed quiet meanwhile simply goes on)."""
        rows = await self._storage.read(_CHANNELS, (self._component,))
        for cid, server, channel, ts, seq in rows:
            self._chan_ids[(server, channel)] = cid
            self._last[(server, channel)] = (-_INF if ts is None else ts, seq or 0)
        await self._storage.write(_CLOSE_ALL, (self._clock(), self._component))
        self._tasks.append(asyncio.create_task(self._flusher(), name="irc-archive-flush"))
        if self._retention is not None:
            self._tasks.append(asyncio.create_task(self._pruner(), name="irc-archive-prune"))

    async def stop(self) -> None:
        """Stop the tasks and write every buffered line (record nothing after this)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.flush()

    def record(self, server: str, channel: str, nick: str, kind: LineKind, body: str,
               timestamp: float) -> str:
        """Buffer a line and return its uid at once; it is written within ~flush_interval."""
        raw, key = new_id_bytes(), (server, channel)
        last_ts, last_seq = self._last.get(key, (timestamp, 0))
        # Whole microseconds: a delay stamp sent back as MAM ``start`` matches exactly.
        ts = round(max(timestamp, last_ts) * 1e6) / 1e6
        self._last[key] = (ts, last_seq + 1)
        self._buffer.append((key, last_seq + 1, ts, raw, KINDS.index(kind), _utf8(nick),
                             _utf8(body)))
        if len(self._buffer) == 1:
            self._wake.set()
        return raw.hex()

    async def flush(self) -> bool:
        """Write what is buffered (after any flush under way); False if the disk failed: the
        lines stay buffered for the next flush, and readers still see what is stored."""
        async with self._lock:
            batch, self._buffer = self._buffer, []
            for start in range(0, len(batch), self._max_batch):
                try:
                    await self._write(batch[start : start + self._max_batch])
                except BaseException as exc:
                    self._buffer[:0] = batch[start:]
                    if (excess := len(self._buffer) - _MAX_BUFFER) > 0:
                        del self._buffer[:excess]
                    if not isinstance(exc, Exception):
                        raise
                    log.error("archive write failed (%d lines kept, %d dropped): %s",
                              len(self._buffer), max(0, excess), exc)
                    return False
        return True

    async def opened(self, user: str, server: str, channel: str, timestamp: float) -> None:
        cid = await self._channel(server, channel, create=True)
        await self.flush()  # _REOPEN must see every line recorded before now
        await self._storage.write(_REOPEN, (cid, user, timestamp))
        await self._storage.write(_OPEN, (cid, user, timestamp))

    async def closed(self, user: str, server: str, channel: str, timestamp: float) -> None:
        if (cid := await self._channel(server, channel, create=False)) is not None:
            await self._storage.write(_CLOSE, (cid, user, timestamp))

    async def join_history(self, user: str, server: str, channel: str, request: HistoryRequest,
                           limit: int) -> Sequence[ArchivedLine]:
        """Newest visible lines within the limits, oldest first; ``maxchars`` counts body
        characters (``mam.history_messages`` trims again by stanza size, as XEP-0045 means)."""
        wanted = limit if request.maxstanzas is None else min(limit, request.maxstanzas)
        if wanted <= 0 or request.maxchars == 0:
            return []
        since = max(-_INF if request.since is None else request.since,
                    -_INF if request.seconds is None else self._clock() - request.seconds)
        await self.flush()
        cid = await self._channel(server, channel, create=False)
        if cid is None:
            return []
        rows = await self._lines(cid, _clip(await self._windows(cid, user), since, _INF), wanted,
                                 desc=True)
        budget = _INF if request.maxchars is None else request.maxchars
        sizes = itertools.accumulate(len(row["body"]) for row in rows)
        return [_line(row, server, channel) for row, size in zip(rows, sizes, strict=True)
                if size <= budget][::-1]

    async def query(
        self, user: str, server: str, channel: str, *, start: float | None = None,
        end: float | None = None, with_nick: str | None = None, after: str | None = None,
        before: str | None = None, max_results: int = MAM_MAX,
    ) -> ArchivePage:
        """A MAM page, forward from ``after`` (or the start) or backward from ``before``;
        no ``count``/``first_index`` with ``with_nick`` (they would need a scan)."""
        await self.flush()
        cid = await self._channel(server, channel, create=False)
        backward, cursor_uid = before is not None, after if before is None else before
        cursor = await self._cursor(cid, cursor_uid) if cursor_uid else None
        if cid is None:
            return ArchivePage((), True, 0)
        limit = max(0, min(max_results, MAM_MAX))
        lo, hi = -_INF if start is None else start, _INF if end is None else end
        spans = _clip(await self._windows(cid, user), lo, hi)
        if cursor is not None:
            spans = _clip(spans, -_INF, cursor[0]) if backward else _clip(spans, cursor[0], _INF)
        rows = await self._lines(cid, spans, limit + 1, backward, cursor, with_nick)
        complete = len(rows) <= limit
        rows = rows[:limit][::-1] if backward else rows[:limit]
        lines = tuple(_line(row, server, channel) for row in rows)
        if with_nick is not None:
            return ArchivePage(lines, complete)
        count = await self._count(cid, user, lo, hi)
        first_index = await self._count(cid, user, lo, hi, rows[0]["seq"]) if rows else None
        return ArchivePage(lines, complete, count, first_index)

    async def prune(self) -> int:
        """Delete lines older than the retention, and windows closed before them."""
        if self._retention is None:
            return 0
        cutoff, deleted = self._clock() - self._retention * 86400.0, 0
        for cid in list(self._chan_ids.values()):  # in chunks: other writers wait less
            while removed := await self._storage.write(_PRUNE_LINES, (cid, cutoff, _PRUNE_CHUNK)):
                deleted += removed
        await self._storage.write(_PRUNE_WINDOWS, (cutoff, self._component))
        if deleted:
            log.info("archive retention removed %d lines of %s", deleted, self._component)
        return deleted

    async def _flusher(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._interval)  # let a batch gather
            self._wake.clear()
            # Shielded: stop() cancels this task, and a write cancelled half-way may have
            # committed or not; stop()'s own flush waits for this one instead.
            if not await asyncio.shield(self.flush()):
                await asyncio.sleep(1.0)
                self._wake.set()

    async def _pruner(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception as exc:
                log.error("archive retention failed: %s", exc)
            await asyncio.sleep(self._prune_interval)

    async def _write(self, batch: list[_Entry]) -> None:
        for key in {entry[0] for entry in batch} - self._chan_ids.keys():
            await self._channel(*key, create=True)
        rows = [(self._chan_ids[key], *rest) for key, *rest in batch]
        await self._storage.transaction(lambda conn: insert_values(conn, _INSERT, rows))

    async def _channel(self, server: str, channel: str, *, create: bool) -> int | None:
        key = (server, channel)
        if key not in self._chan_ids:
            params = (self._component, server, channel)
            if create:
                await self._storage.write(_ADD_CHANNEL, params)
            row = await self._storage.read_one(_GET_CHANNEL, params)
            if row is not None:
                self._chan_ids[key] = int(row[0])
        return self._chan_ids.get(key)

    async def _windows(self, cid: int, user: str) -> list[Span]:
        rows = await self._storage.read(_WINDOWS, (cid, user))
        return [(row[0], _INF if row[1] is None else row[1]) for row in rows]

    async def _cursor(self, cid: int | None, uid: str) -> Cursor:
        with contextlib.suppress(ValueError):  # not even hexadecimal
            row = await self._storage.read_one(_BY_UID, (bytes.fromhex(uid),))
            if row is not None and row[0] == cid:
                return (row[1], row[2])
        raise KeyError(uid)

    async def _lines(self, cid: int, spans: list[Span], limit: int, desc: bool,
                     cursor: Cursor | None = None, nick: str | None = None) -> list[sqlite3.Row]:
        """Up to ``limit`` rows inside ``spans``, walking them from the newest if ``desc``."""
        sql, extra = _LINES, list[Any]()
        if nick is not None:
            sql, extra = sql + " AND nick = ? COLLATE NOCASE", [nick]
        if cursor is not None:
            sql, extra = sql + f" AND (ts, seq) {'<' if desc else '>'} (?, ?)", [*extra, *cursor]
        order = "DESC" if desc else "ASC"
        sql += f" ORDER BY ts {order}, seq {order} LIMIT ?"
        rows: list[sqlite3.Row] = []
        for lo, hi in reversed(spans) if desc else spans:
            if len(rows) >= limit:
                break
            rows += await self._storage.read(sql, (cid, lo, hi, *extra, limit - len(rows)))
        return rows

    async def _count(self, cid: int, user: str, lo: float, hi: float, below: int = _NO_SEQ) -> int:
        """Visible lines in [lo, hi] (and with a seq under ``below``)."""
        row = await self._storage.read_one(_COUNT, (_INF, hi, below - 1, lo, cid, user))
        return int(row[0]) if row is not None and row[0] is not None else 0


def _utf8(text: str) -> str:
    """Text SQLite can store: a lone surrogate would fail its whole batch, forever."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


def _clip(spans: Sequence[Span], lo: float, hi: float) -> list[Span]:
    """The parts of ``spans`` inside [lo, hi]."""
    return [(max(a, lo), min(b, hi)) for a, b in spans if max(a, lo) <= min(b, hi)]


def _line(row: sqlite3.Row, server: str, channel: str) -> ArchivedLine:
    return ArchivedLine(row["uid"].hex(), server, channel, row["nick"], KINDS[row["kind"]],
                        row["body"], row["ts"])
