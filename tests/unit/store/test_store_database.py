"""Database: pragmas, group commit, per-op savepoints, draining on close, the writer thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from transport.store import Database, DatabaseClosed
from transport.store import database as database_module


async def _make_table(db: Database) -> None:
    await db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")


def _insert(k: int, v: str = "x") -> Callable[[sqlite3.Connection], int]:
    def op(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", (k, v))
        return k

    return op


def _rows(path: Path) -> list[tuple[int, str]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT k, v FROM t ORDER BY k").fetchall()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    opened = await Database.open(tmp_path / "db.sqlite3")
    await _make_table(opened)
    yield opened
    await opened.close()


async def _pragma(db: Database, name: str) -> object:
    def op(conn: sqlite3.Connection) -> object:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]

    return await db.write(op)


@pytest.mark.parametrize(("mode", "level"), [("full", 2), ("normal", 1), ("NORMAL", 1)])
async def test_open_sets_wal_foreign_keys_busy_timeout_and_synchronous(
    tmp_path: Path, mode: str, level: int
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3", synchronous=mode)
    try:
        assert await _pragma(db, "journal_mode") == "wal"
        assert await _pragma(db, "foreign_keys") == 1
        assert await _pragma(db, "synchronous") == level
        assert await _pragma(db, "busy_timeout") == 5000
        row = await db.fetchone("PRAGMA foreign_keys")
        assert row is not None and row[0] == 1
    finally:
        await db.close()


async def test_open_rejects_unknown_synchronous_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        await Database.open(tmp_path / "db.sqlite3", synchronous="off")
    assert not (tmp_path / "db.sqlite3").exists()


async def test_write_returns_result_and_reads_see_it(db: Database) -> None:
    assert await db.write(_insert(1, "one")) == 1
    row = await db.fetchone("SELECT v FROM t WHERE k = ?", (1,))
    assert row is not None and row["v"] == "one"
    assert [tuple(r) for r in await db.fetchall("SELECT k, v FROM t")] == [(1, "one")]
    assert await db.fetchone("SELECT v FROM t WHERE k = 2") is None


async def test_reader_connection_refuses_writes(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await db.fetchall("INSERT INTO t (k, v) VALUES (9, 'sneaky')")


async def test_concurrent_writes_are_group_committed_and_durable(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path)
    await _make_table(db)
    before = db.commits
    results = await asyncio.gather(*(db.write(_insert(k)) for k in range(200)))
    commits = db.commits - before
    await db.close()
    assert results == list(range(200))
    assert commits < 20, f"{commits} commits for 200 writes: no group commit"
    assert [k for k, _ in _rows(path)] == list(range(200))


async def test_batch_size_is_capped(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "db.sqlite3", batch_limit=10)
    await _make_table(db)
    before = db.commits
    await asyncio.gather(*(db.write(_insert(k)) for k in range(100)))
    assert db.commits - before >= 10
    await db.close()


async def test_failing_op_in_a_batch_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path)
    await _make_table(db)
    await db.write(_insert(0, "existing"))

    def partly_then_duplicate(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t (k, v) VALUES (1000, 'partial')")
        conn.execute("INSERT INTO t (k, v) VALUES (0, 'duplicate')")
        return -1

    ops = [_insert(k) for k in range(1, 50)]
    ops.insert(25, partly_then_duplicate)
    before = db.commits
    results = await asyncio.gather(*(db.write(op) for op in ops), return_exceptions=True)
    assert db.commits - before < len(ops)
    assert isinstance(results[25], sqlite3.IntegrityError)
    assert [r for i, r in enumerate(results) if i != 25] == list(range(1, 50))
    await db.close()
    rows = dict(_rows(path))
    assert rows[0] == "existing"
    assert 1000 not in rows
    assert sorted(rows) == list(range(50))


async def test_lone_failing_op_is_rolled_back(db: Database) -> None:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t (k, v) VALUES (1, 'x')")
        raise ValueError("backend said no")

    with pytest.raises(ValueError, match="backend said no"):
        await db.write(op)
    assert await db.fetchall("SELECT * FROM t") == []
    assert await db.write(_insert(2)) == 2


async def _hold_writer(db: Database) -> tuple[threading.Event, asyncio.Task[None]]:
    """Occupy the writer thread with an op that waits, so later writes pile up in one batch."""
    loop = asyncio.get_running_loop()
    started, release = asyncio.Event(), threading.Event()

    def blocker(conn: sqlite3.Connection) -> None:
        loop.call_soon_threadsafe(started.set)
        assert release.wait(30), "the test never released the writer"

    task = asyncio.create_task(db.write(blocker))
    await asyncio.wait_for(started.wait(), 10)
    return release, task


async def test_lost_transaction_fails_the_whole_batch(db: Database) -> None:
    """If SQLite drops the transaction, earlier ops in the batch must not report success."""
    release, blocker = await _hold_writer(db)

    def drops_transaction(conn: sqlite3.Connection) -> int:
        conn.execute("ROLLBACK")
        raise sqlite3.OperationalError("disk I/O error")

    first = asyncio.create_task(db.write(_insert(1)))
    second = asyncio.create_task(db.write(drops_transaction))
    await asyncio.sleep(0)
    release.set()
    await blocker
    with pytest.raises(sqlite3.OperationalError):
        await first
    with pytest.raises(sqlite3.OperationalError):
        await second
    assert await db.fetchall("SELECT * FROM t") == []
    assert await db.write(_insert(3)) == 3


async def test_cancelled_write_that_has_not_run_is_skipped(db: Database) -> None:
    release, blocker = await _hold_writer(db)
    doomed = asyncio.create_task(db.write(_insert(1)))
    kept = asyncio.create_task(db.write(_insert(2)))
    await asyncio.sleep(0)
    doomed.cancel()
    release.set()
    await blocker
    assert await kept == 2
    assert doomed.cancelled()
    assert [r["k"] for r in await db.fetchall("SELECT k FROM t")] == [2]


async def test_close_drains_writes_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path)
    await _make_table(db)
    tasks = [asyncio.create_task(db.write(_insert(k))) for k in range(300)]
    await asyncio.sleep(0)
    await db.close()
    assert [t.result() for t in tasks] == list(range(300))
    assert len(_rows(path)) == 300
    with pytest.raises(DatabaseClosed):
        await db.write(_insert(999))
    await db.close()  # idempotent


async def test_execute_and_executemany_return_row_counts(db: Database) -> None:
    assert await db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [(1, "a"), (2, "b")]) == 2
    assert await db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", []) == 0
    assert await db.execute("UPDATE t SET v = 'z'") == 2
    assert await db.execute("DELETE FROM t WHERE k = 1") == 1


class _BatchSpy:
    """Wraps the function the writer runs in its thread: counts calls, records threads."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.calls = 0
        self.sizes: list[int] = []
        self.threads: set[int] = set()

    def __call__(self, conn: sqlite3.Connection, batch: Sequence[Any], path: Path) -> Any:
        self.calls += 1
        self.sizes.append(len(batch))
        self.threads.add(threading.get_ident())
        return self.real(conn, batch, path)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> _BatchSpy:
    batch_spy = _BatchSpy(database_module.run_batch)
    monkeypatch.setattr(database_module, "run_batch", batch_spy)
    return batch_spy


async def test_one_thread_hand_off_per_batch(
    db: Database, spy: _BatchSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    submitted, called_back = [], []
    real_submit, real_call_back = db._executor.submit, loop.call_soon_threadsafe

    def submit(fn: Callable[..., Any], /, *args: Any) -> Any:
        submitted.append(fn)
        return real_submit(fn, *args)

    def call_back(callback: Callable[..., Any], *args: Any) -> Any:
        called_back.append(callback)
        return real_call_back(callback, *args)

    monkeypatch.setattr(db._executor, "submit", submit)
    monkeypatch.setattr(loop, "call_soon_threadsafe", call_back)
    before = db.commits
    results = await asyncio.gather(*(db.write(_insert(k)) for k in range(100)))
    assert results == list(range(100))
    assert sum(spy.sizes) == 100
    assert spy.calls == db.commits - before, "one call into the thread per committed batch"
    assert spy.calls <= 5, f"{spy.calls} hand-offs for 100 concurrent writes"
    assert len(submitted) == spy.calls, "nothing but the batch function goes to the thread"
    assert len(called_back) == spy.calls, "and it comes back to the loop once per batch"


async def test_ops_run_in_one_writer_thread_never_on_the_loop(db: Database, spy: _BatchSpy) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def where(conn: sqlite3.Connection) -> int:
        seen.append(threading.get_ident())
        return len(seen)

    await db.write(where)
    await asyncio.gather(*(db.write(where) for _ in range(20)))
    assert len(set(seen)) == 1 and loop_thread not in seen
    assert spy.threads == set(seen)


async def test_writes_queued_during_a_batch_form_the_next_one(db: Database, spy: _BatchSpy) -> None:
    release, blocker = await _hold_writer(db)
    waiting = [asyncio.create_task(db.write(_insert(k))) for k in range(50)]
    await asyncio.sleep(0)
    assert db.queued == 50
    release.set()
    await blocker
    assert await asyncio.gather(*waiting) == list(range(50))
    assert spy.sizes == [1, 50]
    assert db.queued == 0


async def test_op_raising_in_the_thread_fails_alone_and_the_writer_goes_on(
    db: Database,
) -> None:
    release, blocker = await _hold_writer(db)

    def boom(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t (k, v) VALUES (500, 'doomed')")
        raise LookupError("raised in the writer thread")

    tasks = [asyncio.create_task(db.write(op)) for op in (_insert(1), boom, _insert(2))]
    await asyncio.sleep(0)
    release.set()
    await blocker
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], LookupError)
    assert [r["k"] for r in await db.fetchall("SELECT k FROM t ORDER BY k")] == [1, 2]
    assert await db.write(_insert(3)) == 3


class _Fatal(BaseException):
    """Like SystemExit, but the loop only logs it instead of stopping the test."""


async def test_a_fatal_error_in_an_op_stops_the_writer(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "db.sqlite3", batch_limit=2)
    await _make_table(db)
    release, blocker = await _hold_writer(db)

    def fatal(conn: sqlite3.Connection) -> int:
        raise _Fatal

    tasks = [asyncio.create_task(db.write(op)) for op in (_insert(1), fatal, _insert(2))]
    await asyncio.sleep(0)
    release.set()
    await blocker
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[0], _Fatal) and isinstance(results[1], _Fatal)
    assert isinstance(results[2], DatabaseClosed), "queued behind the fatal batch"
    with pytest.raises(DatabaseClosed):
        await db.write(_insert(3))
    assert await db.fetchall("SELECT k FROM t") == []
    await db.close()


async def test_an_async_op_is_refused_not_silently_skipped(db: Database) -> None:
    async def stale_async_op(conn: Any) -> None:
        raise AssertionError("never awaited")

    op: Callable[[sqlite3.Connection], Any] = stale_async_op  # as an untyped caller would
    with pytest.raises(TypeError, match="synchronous"):
        await db.write(op)
    assert await db.write(_insert(1)) == 1


def _gated() -> tuple[Callable[[sqlite3.Connection], int], asyncio.Event, threading.Event]:
    """An op that signals when it starts in the thread and then waits to be released."""
    loop = asyncio.get_running_loop()
    started, release = asyncio.Event(), threading.Event()

    def gate(conn: sqlite3.Connection) -> int:
        loop.call_soon_threadsafe(started.set)
        assert release.wait(30), "the test never released the writer"
        return 0

    return gate, started, release


async def test_cancelled_after_its_batch_started_but_before_its_op_is_skipped(
    db: Database, spy: _BatchSpy
) -> None:
    release, blocker = await _hold_writer(db)
    gate, started, release_gate = _gated()
    gated = asyncio.create_task(db.write(gate))
    doomed = asyncio.create_task(db.write(_insert(1)))
    await asyncio.sleep(0)
    release.set()
    await blocker
    await asyncio.wait_for(started.wait(), 10)
    assert spy.sizes == [1, 2], "both writes must be in the batch now running"
    doomed.cancel()
    await asyncio.sleep(0)
    release_gate.set()
    assert await gated == 0
    assert doomed.cancelled()
    assert await db.fetchall("SELECT k FROM t") == []


async def test_close_waits_for_the_batch_in_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path)
    await _make_table(db)
    gate, started, release = _gated()
    gated = asyncio.create_task(db.write(gate))
    await asyncio.wait_for(started.wait(), 10)
    queued = asyncio.create_task(db.write(_insert(1)))
    await asyncio.sleep(0)
    closing_ = asyncio.create_task(db.close())
    await asyncio.sleep(0.05)
    assert not closing_.done(), "close() must wait for the writes submitted before it"
    with pytest.raises(DatabaseClosed):
        await db.write(_insert(2))
    release.set()
    await closing_
    assert (await gated, await queued) == (0, 1)
    assert _rows(path) == [(1, "x")]


async def test_writer_thread_ends_on_close(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "thread-ends.sqlite3")
    await _make_table(db)
    name = "sqlite-writer:thread-ends.sqlite3"
    assert any(t.name.startswith(name) for t in threading.enumerate())
    await db.close()
    for _ in range(100):
        if not any(t.name.startswith(name) for t in threading.enumerate()):
            break
        await asyncio.sleep(0.01)
    assert not any(t.name.startswith(name) for t in threading.enumerate())
