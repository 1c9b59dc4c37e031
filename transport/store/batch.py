"""What runs in the store's writer thread: one batch of write ops as one transaction.

Kept apart from ``database.py`` (the event-loop side) because nothing here may touch the
loop: these functions get a plain ``sqlite3`` connection and report every outcome back as
data, for the loop side to hand to the waiting callers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteOp = Callable[[sqlite3.Connection], T]

BUSY_TIMEOUT_MS: Final = 5000
_BEGIN: Final = "BEGIN IMMEDIATE"
_COMMIT: Final = "COMMIT"
_ROLLBACK: Final = "ROLLBACK"
# Each op's savepoint is released as soon as the op is done. Leaving them open until COMMIT
# would save a statement, but SQLite then journals every page an op touches once per open
# savepoint level: measured, that quadruples the cost of a small write in a large batch.
_SAVEPOINT: Final = "SAVEPOINT group_commit_op"
_RELEASE: Final = "RELEASE group_commit_op"
_ROLLBACK_TO: Final = "ROLLBACK TO group_commit_op"
CONNECTION_PRAGMAS: Final = (f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}", "PRAGMA foreign_keys=ON")
_WAL: Final = "PRAGMA journal_mode=WAL"



@dataclass(slots=True)
class Job:
    op: WriteOp[Any]
    future: asyncio.Future[Any]
    # Set on the loop when the caller is cancelled; the writer thread reads it (a plain
    # attribute, so no lock) to skip the op if it has not started yet.
    cancelled: bool = False


@dataclass(slots=True)
class Outcome:
    job: Job
    value: Any = None
    error: BaseException | None = None


@dataclass(slots=True)
class BatchResult:
    """What the writer thread did with a batch, for the loop to hand to the callers."""

    outcomes: list[Outcome] = field(default_factory=list)
    committed: bool = False
    seconds: float = 0.0  # BEGIN to COMMIT, for the commit-latency figure
    # A BaseException that is not an Exception (SystemExit...): after settling the batch it
    # stops the writer and is re-raised on the loop, as it would have been without a thread.
    fatal: BaseException | None = None


def run_batch(conn: sqlite3.Connection, batch: Sequence[Job], path: Path) -> BatchResult:
    """In the writer thread: BEGIN, each op under its own savepoint, COMMIT.

    Never raises: every failure is reported per op in the result, so the loop side has a
    single place to settle the callers.
    """
    result = BatchResult()
    started = time.perf_counter()
    try:
        conn.execute(_BEGIN)
    except Exception as exc:
        log.error("cannot begin a write transaction on %s: %s", path, exc)
        result.outcomes = [Outcome(job, error=exc) for job in batch]
        return result
    outcomes = result.outcomes
    try:
        _run_ops(conn, batch, outcomes)
        if conn.in_transaction:
            conn.execute(_COMMIT)
            result.committed = True
            result.seconds = time.perf_counter() - started
    except BaseException as exc:
        _abort(conn, path)
        failed = [Outcome(o.job, error=o.error or exc) for o in outcomes]
        done = {id(o.job) for o in outcomes}
        failed += [Outcome(job, error=exc) for job in batch if id(job) not in done]
        result.outcomes = failed
        if isinstance(exc, Exception):
            log.error("write transaction on %s failed: %s", path, exc)
        else:
            result.fatal = exc
    return result


def _run_ops(conn: sqlite3.Connection, batch: Sequence[Job], outcomes: list[Outcome]) -> None:
    """Run each op under its own savepoint; a lone op needs none (ROLLBACK undoes it)."""
    alone = len(batch) == 1
    execute = conn.execute
    for job in batch:
        if job.cancelled:
            continue
        if not alone:
            execute(_SAVEPOINT)
        try:
            value = job.op(conn)
            if inspect.iscoroutine(value):
                value.close()
                raise TypeError(f"write op {job.op!r} is async; write ops are synchronous")
        except Exception as exc:
            if not conn.in_transaction:
                # SQLite rolled the whole transaction back (disk full, I/O error...):
                # the earlier ops of the batch are gone too.
                raise
            if alone:
                execute(_ROLLBACK)
            else:
                execute(_ROLLBACK_TO)  # undoes the op but leaves its savepoint open
                execute(_RELEASE)
            outcomes.append(Outcome(job, error=exc))
        else:
            if not alone:
                execute(_RELEASE)
            outcomes.append(Outcome(job, value=value))


def _abort(conn: sqlite3.Connection, path: Path) -> None:
    if not conn.in_transaction:
        return
    try:
        conn.execute(_ROLLBACK)
    except Exception as exc:
        log.error("rollback on %s failed: %s", path, exc)


def connect_writer(path: Path, mode: str) -> sqlite3.Connection:
    """In the writer thread: autocommit mode, since we issue BEGIN/COMMIT ourselves."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        for pragma in (*CONNECTION_PRAGMAS, f"PRAGMA synchronous={mode.upper()}"):
            conn.execute(pragma)
        row = conn.execute(_WAL).fetchone()
        if row is None or str(row[0]).lower() != "wal":
            raise sqlite3.OperationalError(f"{path}: cannot switch to WAL mode")
    except BaseException:
        conn.close()
        raise
    return conn
