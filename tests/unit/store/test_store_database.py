"""Database: pragmas, group commit, per-op savepoints, draining on close."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import aiosqlite
import pytest

from transport.store import Database, DatabaseClosed


async def _make_table(db: Database) -> None:
    await db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")


def _insert(k: int, v: str = "x"):
    async def op(conn: aiosqlite.Connection) -> int:
        await conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", (k, v))
        return k

    return op


def _rows(path: Path) -> list[tuple[int, str]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT k, v FROM t ORDER BY k").fetchall()


@pytest.fixture
async def db(tmp_path: Path):
    opened = await Database.open(tmp_path / "db.sqlite3")
    await _make_table(opened)
    yield opened
    await opened.close()


async def _pragma(db: Database, name: str) -> object:
    async def op(conn: aiosqlite.Connection) -> object:
        rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
        return rows[0][0]

    return await db.write(op)


@pytest.mark.parametrize(("mode", "level"), [("full", 2), ("normal", 1), ("NORMAL", 1)])
async def test_open_sets_wal_foreign_keys_busy_timeout_and_synchronous(tmp_path, mode, level):
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


async def test_open_rejects_unknown_synchronous_mode(tmp_path):
    with pytest.raises(ValueError, match="synchronous"):
        await Database.open(tmp_path / "db.sqlite3", synchronous="off")
    assert not (tmp_path / "db.sqlite3").exists()


async def test_write_returns_result_and_reads_see_it(db):
    assert await db.write(_insert(1, "one")) == 1
    row = await db.fetchone("SELECT v FROM t WHERE k = ?", (1,))
    assert row is not None and row["v"] == "one"
    assert [tuple(r) for r in await db.fetchall("SELECT k, v FROM t")] == [(1, "one")]
    assert await db.fetchone("SELECT v FROM t WHERE k = 2") is None


async def test_reader_connection_refuses_writes(db):
    with pytest.raises(sqlite3.OperationalError):
        await db.fetchall("INSERT INTO t (k, v) VALUES (9, 'sneaky')")


async def test_concurrent_writes_are_group_committed_and_durable(tmp_path):
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


async def test_batch_size_is_capped(tmp_path):
    db = await Database.open(tmp_path / "db.sqlite3", batch_limit=10)
    await _make_table(db)
    before = db.commits
    await asyncio.gather(*(db.write(_insert(k)) for k in range(100)))
    assert db.commits - before >= 10
    await db.close()


async def test_failing_op_in_a_batch_fails_alone(tmp_path):
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path)
    await _make_table(db)
    await db.write(_insert(0, "existing"))

    async def partly_then_duplicate(conn: aiosqlite.Connection) -> None:
        await conn.execute("INSERT INTO t (k, v) VALUES (1000, 'partial')")
        await conn.execute("INSERT INTO t (k, v) VALUES (0, 'duplicate')")

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


async def test_lone_failing_op_is_rolled_back(db):
    async def op(conn: aiosqlite.Connection) -> None:
        await conn.execute("INSERT INTO t (k, v) VALUES (1, 'x')")
        raise ValueError("backend said no")

    with pytest.raises(ValueError, match="backend said no"):
        await db.write(op)
    assert await db.fetchall("SELECT * FROM t") == []
    assert await db.write(_insert(2)) == 2


async def _hold_writer(db: Database) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """Occupy the writer with an op that waits, so later writes pile up in one batch."""
    started, release = asyncio.Event(), asyncio.Event()

    async def blocker(conn: aiosqlite.Connection) -> None:
        started.set()
        await release.wait()

    task = asyncio.create_task(db.write(blocker))
    await started.wait()
    return release, task


async def test_lost_transaction_fails_the_whole_batch(db):
    """If SQLite drops the transaction, earlier ops in the batch must not report success."""
    release, blocker = await _hold_writer(db)

    async def drops_transaction(conn: aiosqlite.Connection) -> None:
        await conn.execute("ROLLBACK")
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


async def test_cancelled_write_that_has_not_run_is_skipped(db):
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


async def test_close_drains_writes_in_flight(tmp_path):
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


async def test_execute_and_executemany_return_row_counts(db):
    assert await db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [(1, "a"), (2, "b")]) == 2
    assert await db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", []) == 0
    assert await db.execute("UPDATE t SET v = 'z'") == 2
    assert await db.execute("DELETE FROM t WHERE k = 1") == 1
