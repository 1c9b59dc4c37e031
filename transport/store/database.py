"""One SQLite file, a writer thread with group commit, and a separate reader connection.

Every durable step of the gateway (an inbound SMS, an outbox row, a receipt mapping) is a
small write that must be on disk before we acknowledge it. One fsync per write would cap us
at a few hundred writes a second, so writes submitted while a commit is in progress are
gathered and committed together: one ``BEGIN IMMEDIATE ... COMMIT`` per batch, each write in
its own ``SAVEPOINT`` so one failing write does not take its neighbours down with it.
A caller's ``await db.write(op)`` returns only after the COMMIT that contains it returned,
so "awaited" means "durable".

The writer connection is a plain ``sqlite3`` connection owned by one dedicated thread, and a
whole batch (BEGIN, every op, COMMIT) runs there as a single call. Crossing between the
event loop and a thread costs a queue put, a thread wake-up and a loop turn to come back;
paying that once per batch rather than once per statement is what keeps a write's latency
near the cost of its fsync when the loop is busy. For the same reason there is no writer
task to wake: ``write()`` hands a batch to an idle thread itself, and the loop callback
that settles a finished batch hands over the next one. While one batch runs, new writes
queue up on the loop side and form the next batch.

Reads go through a second (aiosqlite) connection; WAL lets them run while the writer
commits, and they see every write whose ``write()`` has returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar

import aiosqlite

from transport.store.batch import (
    CONNECTION_PRAGMAS,
    BatchResult,
    Job,
    Outcome,
    WriteOp,
    connect_writer,
    run_batch,
)
from transport.store.files import DatabaseUnusable, prepare_database_file

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = Sequence[Any] | Mapping[str, Any]

SYNCHRONOUS_MODES: Final = ("full", "normal")
DEFAULT_BATCH_LIMIT: Final = 500

class DatabaseClosed(RuntimeError):
    """A write was submitted after ``close()`` started, or the writer stopped."""


class Database:
    """The SQLite file: ``write()`` for group-committed changes, ``fetch*`` for reads."""

    def __init__(
        self,
        path: Path,
        executor: ThreadPoolExecutor,
        writer: sqlite3.Connection,
        reader: aiosqlite.Connection,
        batch_limit: int,
    ) -> None:
        self.path = path
        self._executor = executor
        self._writer = writer
        self._reader = reader
        self._batch_limit = batch_limit
        self._loop = asyncio.get_running_loop()
        self._pending: deque[Job] = deque()
        # True from the moment a batch is handed to the thread until its callers are settled
        # and nothing is left to hand over: at most one batch is ever in the thread.
        self._busy = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._closed = False
        self._broken = False
        self._commits = 0
        #: Called on the loop with each committed transaction's duration (seconds).
        self.on_commit: Callable[[float], None] | None = None

    @classmethod
    async def open(
        cls,
        path: Path,
        synchronous: str = "full",
        *,
        batch_limit: int = DEFAULT_BATCH_LIMIT,
    ) -> Database:
        """Open (creating if needed) the file in WAL mode with a writer and a reader.

        The file is created mode 0600 before SQLite sees it (see ``files``). A file SQLite
        cannot use raises ``DatabaseUnusable`` naming the path and the cause.
        """
        mode = synchronous.lower()
        if mode not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {synchronous!r}")
        if batch_limit < 1:
            raise ValueError("batch_limit must be at least 1")
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"sqlite-writer:{path.name}"
        )
        try:
            await loop.run_in_executor(executor, prepare_database_file, path)
            # Created in the writer thread, which is then the only one allowed to use it.
            writer = await loop.run_in_executor(executor, connect_writer, path, mode)
        except sqlite3.DatabaseError as exc:
            executor.shutdown(wait=False)
            raise unusable(path, exc) from exc
        except BaseException:
            executor.shutdown(wait=False)
            raise
        try:
            # The reader must never write: a write there would bypass the group commit.
            reader = await _connect_reader(path)
        except BaseException as exc:
            await loop.run_in_executor(executor, writer.close)
            executor.shutdown(wait=False)
            if isinstance(exc, sqlite3.DatabaseError):
                raise unusable(path, exc) from exc
            raise
        log.debug("opened %s (synchronous=%s)", path, mode)
        return cls(path, executor, writer, reader, batch_limit)

    @property
    def commits(self) -> int:
        """Transactions committed so far; with group commit far fewer than writes."""
        return self._commits

    @property
    def queued(self) -> int:
        """Writes waiting for the writer thread (not counting the batch it is running)."""
        return len(self._pending)

    async def write(self, op: WriteOp[T]) -> T:
        """Run ``op`` in the writer's transaction; return its result once committed.

        ``op`` runs in the writer thread, not on the event loop: it gets the ``sqlite3``
        connection, may execute any statements on it but must not COMMIT, ROLLBACK or use
        ``executescript`` (which commits), must not touch asyncio objects, and should not
        wait on anything but the database: the whole batch waits with it. If it raises, only
        its own changes are rolled back and the exception is re-raised here. A caller
        cancelled before its op started is skipped; one cancelled later may still have been
        committed.
        """
        if self._closing or self._broken:
            raise DatabaseClosed(f"{self.path} is closed")
        future: asyncio.Future[T] = self._loop.create_future()
        job = Job(op, future)
        self._pending.append(job)
        if not self._busy:
            # An idle writer starts at once: a lone write pays no extra loop turn, and what
            # arrives while this batch runs forms the next one.
            self._start_batch()
        try:
            return await future
        except asyncio.CancelledError:
            job.cancelled = True
            raise

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement as a write of its own; returns the number of rows it changed."""

        def op(conn: sqlite3.Connection) -> int:
            return conn.execute(sql, params).rowcount

        return await self.write(op)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """One statement over many parameter rows, as a single write; rows changed."""
        batch = list(rows)

        def op(conn: sqlite3.Connection) -> int:
            return conn.executemany(sql, batch).rowcount

        return await self.write(op) if batch else 0

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a read, or None. Meant for lookups by key (it reads every row)."""
        # execute_fetchall is one round trip and leaves no statement open, so the reader
        # never holds a stale WAL snapshot between calls.
        rows = list(await self._reader.execute_fetchall(sql, params))
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Every row of a read, on the reader connection."""
        return list(await self._reader.execute_fetchall(sql, params))

    async def close(self) -> None:
        """Commit every write already submitted, then close both connections."""
        if self._closed:
            return
        self._closing = True
        await self._idle.wait()
        if self._closed:
            return  # a concurrent close() finished meanwhile
        self._closed = True
        try:
            await self._reader.close()
        finally:
            # Through the thread, which is idle now: the connection belongs to it.
            try:
                await self._loop.run_in_executor(self._executor, self._writer.close)
            finally:
                self._executor.shutdown(wait=False)
        log.debug("closed %s after %d commits", self.path, self._commits)

    def _start_batch(self) -> None:
        """Hand what is queued (up to the limit) to the thread as one call."""
        batch = self._take_batch()
        if not batch:
            self._busy = False
            self._idle.set()
            return
        self._busy = True
        self._idle.clear()
        try:
            running = self._executor.submit(run_batch, self._writer, batch, self.path)
        except RuntimeError as exc:  # the executor is shut down: the interpreter is exiting
            self._stop(batch, DatabaseClosed(f"{self.path}: writer stopped ({exc})"))
            return
        running.add_done_callback(functools.partial(self._post_done, batch))

    def _post_done(self, batch: list[Job], running: Future[BatchResult]) -> None:
        """In the writer thread, as the batch ends: the one hop back to the loop."""
        # RuntimeError: the loop is closed, so nobody is waiting for these writes any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._batch_done, batch, running)

    def _batch_done(self, batch: list[Job], running: Future[BatchResult]) -> None:
        """On the loop: settle the batch's callers and start the next batch if one waits."""
        try:
            result = running.result()
        except BaseException as exc:  # run_batch reports failures; this is a bug in it
            self._stop(batch, exc)
            raise
        if result.committed:
            self._commits += 1
            if self.on_commit is not None:
                self.on_commit(result.seconds)
        _settle(result.outcomes)
        if result.fatal is not None:
            log.error("write transaction on %s failed: %r", self.path, result.fatal)
            self._stop([], DatabaseClosed(f"{self.path}: writer stopped"))
            raise result.fatal
        self._start_batch()

    def _take_batch(self) -> list[Job]:
        batch: list[Job] = []
        while self._pending and len(batch) < self._batch_limit:
            job = self._pending.popleft()
            if not job.future.done():
                batch.append(job)
        return batch

    def _stop(self, batch: list[Job], exc: BaseException) -> None:
        """Fail ``batch`` and everything queued, and refuse further writes."""
        self._broken = True
        _settle([Outcome(job, error=exc) for job in batch])
        failed = DatabaseClosed(f"{self.path}: writer stopped")
        while self._pending:
            job = self._pending.popleft()
            if not job.future.done():
                job.future.set_exception(failed)
        self._busy = False
        self._idle.set()


def unusable(path: Path, exc: sqlite3.DatabaseError) -> DatabaseUnusable:
    """The admin's version of an SQLite error met while opening or checking the file."""
    code = primary_code(exc)
    if code == sqlite3.SQLITE_NOTADB:
        return DatabaseUnusable(f"{path} is not a SQLite database (or is corrupt)")
    if code == sqlite3.SQLITE_CORRUPT:
        return DatabaseUnusable(f"{path} is corrupt ({exc}); restore it from a backup")
    if code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY):
        return DatabaseUnusable(f"{path}: cannot open for reading and writing ({exc})")
    return DatabaseUnusable(f"{path}: {exc}")


def primary_code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code (``SQLITE_IOERR`` for ``SQLITE_IOERR_WRITE``...)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _settle(outcomes: Iterable[Outcome]) -> None:
    for outcome in outcomes:
        future = outcome.job.future
        if future.done():
            continue
        if outcome.error is not None:
            future.set_exception(outcome.error)
        else:
            future.set_result(outcome.value)


async def _connect_reader(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        for pragma in (*CONNECTION_PRAGMAS, "PRAGMA query_only=ON"):
            await conn.execute(pragma)
    except BaseException:
        await conn.close()
        raise
    return conn
