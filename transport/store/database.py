"""One SQLite file, one writer task with group commit, and a separate reader connection.

Every durable step of the gateway (an inbound SMS, an outbox row, a receipt mapping) is a
small write that must be on disk before we acknowledge it. One fsync per write would cap us
at a few hundred writes a second, so writes submitted while a commit is in progress are
gathered and committed together: one ``BEGIN IMMEDIATE ... COMMIT`` per batch, each write in
its own ``SAVEPOINT`` so one failing write does not take its neighbours down with it.
A caller's ``await db.write(op)`` returns only after the COMMIT that contains it returned,
so "awaited" means "durable".

Reads go through a second connection; WAL lets them run while the writer commits, and they
see every write whose ``write()`` has returned.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteOp = Callable[[aiosqlite.Connection], Awaitable[T]]
Params = Sequence[Any]

SYNCHRONOUS_MODES: Final = ("full", "normal")
BUSY_TIMEOUT_MS: Final = 5000
DEFAULT_BATCH_LIMIT: Final = 500

_BEGIN: Final = "BEGIN IMMEDIATE"
_COMMIT: Final = "COMMIT"
_ROLLBACK: Final = "ROLLBACK"
# Savepoints are never released one by one: COMMIT releases them all, and ROLLBACK TO the
# latest one undoes exactly the op that just failed. That saves a round trip per op.
_SAVEPOINT: Final = "SAVEPOINT group_commit_op"
_ROLLBACK_TO: Final = "ROLLBACK TO group_commit_op"
_CONNECTION_PRAGMAS: Final = (f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}", "PRAGMA foreign_keys=ON")


class DatabaseClosed(RuntimeError):
    """A write was submitted after ``close()`` started, or the writer task stopped."""


@dataclass(slots=True)
class _Job:
    op: WriteOp[Any]
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Outcome:
    job: _Job
    value: Any = None
    error: BaseException | None = None


class Database:
    """The SQLite file: ``write()`` for group-committed changes, ``fetch*`` for reads."""

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        batch_limit: int,
    ) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._batch_limit = batch_limit
        self._pending: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._closed = False
        self._commits = 0
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"sqlite-writer:{path.name}"
        )

    @classmethod
    async def open(
        cls,
        path: Path,
        synchronous: str = "full",
        *,
        batch_limit: int = DEFAULT_BATCH_LIMIT,
    ) -> Database:
        """Open (creating if needed) the file in WAL mode with a writer and a reader."""
        mode = synchronous.lower()
        if mode not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {synchronous!r}")
        if batch_limit < 1:
            raise ValueError("batch_limit must be at least 1")
        writer = await _connect(path, f"PRAGMA synchronous={mode.upper()}")
        try:
            row = await _fetchone(writer, "PRAGMA journal_mode=WAL", ())
            if row is None or str(row[0]).lower() != "wal":
                raise sqlite3.OperationalError(f"{path}: cannot switch to WAL mode")
            # The reader must never write: a write there would bypass the group commit.
            reader = await _connect(path, "PRAGMA query_only=ON")
        except BaseException:
            await writer.close()
            raise
        log.debug("opened %s (synchronous=%s)", path, mode)
        return cls(path, writer, reader, batch_limit)

    @property
    def commits(self) -> int:
        """Transactions committed so far; with group commit far fewer than writes."""
        return self._commits

    @property
    def queued(self) -> int:
        """Writes waiting for the writer task."""
        return len(self._pending)

    async def write(self, op: WriteOp[T]) -> T:
        """Run ``op`` in the writer's transaction; return its result once committed.

        ``op`` may execute any statements on the connection it gets but must not COMMIT,
        ROLLBACK or use ``executescript`` (which commits), and should not wait on anything
        but the database: the whole batch waits with it. If it raises, only its own changes
        are rolled back and the exception is re-raised here. A caller cancelled before its op
        ran is skipped; one cancelled later may still have been committed.
        """
        if self._closing or self._task.done():
            raise DatabaseClosed(f"{self.path} is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(op, future))
        self._wakeup.set()
        return await future

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement as a write of its own; returns the number of rows it changed."""

        async def op(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

        return await self.write(op)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """One statement over many parameter rows, as a single write; rows changed."""
        batch = list(rows)

        async def op(conn: aiosqlite.Connection) -> int:
            cursor = await conn.executemany(sql, batch)
            return cursor.rowcount

        return await self.write(op) if batch else 0

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a read, or None. Meant for lookups by key (it reads every row)."""
        return await _fetchone(self._reader, sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Every row of a read, on the reader connection."""
        return list(await self._reader.execute_fetchall(sql, params))

    async def close(self) -> None:
        """Commit every write already submitted, then close both connections."""
        if self._closed:
            return
        self._closing = True
        self._wakeup.set()
        try:
            await self._task
        finally:
            self._closed = True
            try:
                await self._reader.close()
            finally:
                await self._writer.close()
            log.debug("closed %s after %d commits", self.path, self._commits)

    async def _run(self) -> None:
        """The writer task: take what is queued, commit it as one batch, repeat."""
        try:
            while self._pending or not self._closing:
                if not self._pending:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                batch = self._take_batch()
                if batch:
                    await self._commit_batch(batch)
        finally:
            self._fail_pending(DatabaseClosed(f"{self.path}: writer stopped"))

    def _take_batch(self) -> list[_Job]:
        batch: list[_Job] = []
        while self._pending and len(batch) < self._batch_limit:
            job = self._pending.popleft()
            if not job.future.done():
                batch.append(job)
        return batch

    async def _commit_batch(self, batch: list[_Job]) -> None:
        conn = self._writer
        try:
            await conn.execute(_BEGIN)
        except Exception as exc:
            log.error("cannot begin a write transaction on %s: %s", self.path, exc)
            _settle([_Outcome(job, error=exc) for job in batch])
            return
        outcomes: list[_Outcome] = []
        try:
            await self._run_ops(conn, batch, outcomes)
            if conn.in_transaction:
                await conn.execute(_COMMIT)
                self._commits += 1
        except BaseException as exc:
            await self._abort(conn)
            outcomes = [_Outcome(o.job, error=o.error or exc) for o in outcomes]
            done = {id(o.job) for o in outcomes}
            outcomes += [_Outcome(job, error=exc) for job in batch if id(job) not in done]
            _settle(outcomes)
            if not isinstance(exc, Exception):
                raise
            log.error("write transaction on %s failed: %s", self.path, exc)
            return
        _settle(outcomes)

    async def _run_ops(
        self, conn: aiosqlite.Connection, batch: list[_Job], outcomes: list[_Outcome]
    ) -> None:
        """Run each op under its own savepoint; a lone op needs none (ROLLBACK undoes it)."""
        alone = len(batch) == 1
        for job in batch:
            if job.future.done():
                continue
            if not alone:
                await conn.execute(_SAVEPOINT)
            try:
                value = await job.op(conn)
            except Exception as exc:
                if not conn.in_transaction:
                    # SQLite rolled the whole transaction back (disk full, I/O error...):
                    # the earlier ops of the batch are gone too.
                    raise
                await conn.execute(_ROLLBACK if alone else _ROLLBACK_TO)
                outcomes.append(_Outcome(job, error=exc))
            else:
                outcomes.append(_Outcome(job, value=value))

    async def _abort(self, conn: aiosqlite.Connection) -> None:
        if not conn.in_transaction:
            return
        try:
            await conn.execute(_ROLLBACK)
        except Exception as exc:
            log.error("rollback on %s failed: %s", self.path, exc)

    def _fail_pending(self, exc: BaseException) -> None:
        while self._pending:
            job = self._pending.popleft()
            if not job.future.done():
                job.future.set_exception(exc)


def _settle(outcomes: Iterable[_Outcome]) -> None:
    for outcome in outcomes:
        future = outcome.job.future
        if future.done():
            continue
        if outcome.error is not None:
            future.set_exception(outcome.error)
        else:
            future.set_result(outcome.value)


async def _connect(path: Path, *pragmas: str) -> aiosqlite.Connection:
    """A connection in autocommit mode: we issue BEGIN/COMMIT ourselves."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        for pragma in (*_CONNECTION_PRAGMAS, *pragmas):
            await conn.execute(pragma)
    except BaseException:
        await conn.close()
        raise
    return conn


async def _fetchone(conn: aiosqlite.Connection, sql: str, params: Params) -> sqlite3.Row | None:
    # execute_fetchall is one round trip and leaves no statement open, so the reader never
    # holds a stale WAL snapshot between calls.
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0] if rows else None
