"""``BackendStorage``: a backend's own tables through the core's single writer."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from transport.core.storage import BackendStorage, ForeignTable, Transaction
from transport.store import DatabaseClosed, Store

SCHEMA = """
CREATE TABLE mynet_contacts (user TEXT NOT NULL, name TEXT NOT NULL, seen REAL,
                             PRIMARY KEY (user, name));
CREATE TABLE mynet_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(db_path, extra_migrations={"mynet": [SCHEMA], "other": [
        "CREATE TABLE other_secrets (x TEXT);"]})
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def storage(store: Store) -> BackendStorage:
    return store.backend_storage("mynet")


async def test_round_trip_through_every_call(storage: BackendStorage, db_path: Path) -> None:
    assert storage.prefix == "mynet_" and storage.path == db_path
    assert await storage.write("INSERT INTO mynet_contacts VALUES (?, ?, ?)",
                               ("a@x", "ann", 1.5)) == 1
    assert await storage.write_many("INSERT INTO mynet_contacts VALUES (:u, :n, NULL)",
                                    [{"u": "a@x", "n": "bob"}, {"u": "b@x", "n": "cy"}]) == 2
    assert await storage.write_many("INSERT INTO mynet_contacts VALUES (?, ?, ?)", []) == 0
    rows = await storage.read("SELECT name, seen FROM mynet_contacts WHERE user = ? "
                              "ORDER BY name", ("a@x",))
    assert [tuple(r) for r in rows] == [("ann", 1.5), ("bob", None)]
    row = await storage.read_one("SELECT user FROM mynet_contacts WHERE name = :n", {"n": "cy"})
    assert row is not None and row["user"] == "b@x"
    assert await storage.read_one("SELECT 1 FROM mynet_contacts WHERE name = 'zed'") is None

    def bump(tx: Transaction) -> int:
        tx.execute("INSERT INTO mynet_counters VALUES ('n', 0) ON CONFLICT DO NOTHING")
        tx.executemany("UPDATE mynet_counters SET value = value + ? WHERE name = 'n'",
                       [(1,), (2,)])
        found = tx.execute("SELECT value FROM mynet_counters WHERE name = 'n'").fetchone()
        return int(found[0])

    assert await storage.transaction(bump) == 3
    assert await storage.transaction(bump) == 6
    with sqlite3.connect(db_path) as conn:  # durable: another connection sees it
        assert conn.execute("SELECT count(*) FROM mynet_contacts").fetchone()[0] == 3


@pytest.mark.parametrize("sql", [
    "SELECT jid FROM users",
    "SELECT c.name FROM mynet_contacts c JOIN users u ON u.jid = c.user",
    "SELECT x FROM other_secrets",
    "SELECT count(*) FROM xmpp_queue",
])
async def test_reads_outside_the_prefix_are_refused(storage: BackendStorage, sql: str) -> None:
    with pytest.raises(ForeignTable) as info:
        await storage.read(sql)
    assert info.value.prefix == "mynet_"
    assert "mynet_" in str(info.value)
    with pytest.raises(ForeignTable):
        await storage.read_one(sql)


@pytest.mark.parametrize(("sql", "name"), [
    ("DELETE FROM users", "users"),
    ("UPDATE legacy_outbox SET state = 'failed'", "legacy_outbox"),
    ("INSERT INTO other_secrets VALUES ('x')", "other_secrets"),
    ("INSERT INTO mynet_contacts SELECT jid, jid, NULL FROM users", "users"),
    ("DROP TABLE mynet_counters", None),
    ("CREATE TABLE stray (x)", "stray"),
    ("PRAGMA foreign_keys = OFF", "PRAGMA"),
    ("BEGIN", "BEGIN/COMMIT"),
    ("SAVEPOINT mine", "SAVEPOINT"),
])
async def test_writes_outside_the_prefix_are_refused(
    store: Store, storage: BackendStorage, sql: str, name: str | None
) -> None:
    await store.users.upsert("comp", "a@x", None, {})
    if name is None:  # its own table: allowed
        await storage.write(sql)
        return
    with pytest.raises(ForeignTable) as info:
        await storage.write(sql)
    assert info.value.name == name
    with pytest.raises(ForeignTable):
        await storage.write_many(sql, [()])
    assert await store.users.get("comp", "a@x") is not None


async def test_a_refused_statement_rolls_its_transaction_back(
    store: Store, storage: BackendStorage
) -> None:
    def sneaky(tx: Transaction) -> None:
        tx.execute("INSERT INTO mynet_counters VALUES ('before', 1)")
        tx.execute("DELETE FROM users")

    await store.users.upsert("comp", "a@x", None, {})
    with pytest.raises(ForeignTable, match="'users'"):
        await storage.transaction(sneaky)
    assert await storage.read_one("SELECT 1 FROM mynet_counters") is None
    assert await store.users.get("comp", "a@x") is not None


async def test_a_failing_op_rolls_back_only_itself(storage: BackendStorage) -> None:
    def failing(tx: Transaction) -> None:
        tx.execute("INSERT INTO mynet_counters VALUES ('lost', 1)")
        raise RuntimeError("changed my mind")

    results = await asyncio.gather(
        storage.transaction(failing),
        storage.write("INSERT INTO mynet_counters VALUES ('kept', 2)"),
        return_exceptions=True,
    )
    assert isinstance(results[0], RuntimeError) and results[1] == 1
    rows = await storage.read("SELECT name FROM mynet_counters")
    assert [r[0] for r in rows] == ["kept"]


async def test_backend_writes_share_the_cores_group_commit(
    store: Store, storage: BackendStorage
) -> None:
    commits_before = store.db.commits
    count = 150
    backend = [storage.write("INSERT INTO mynet_contacts VALUES (?, ?, NULL)", ("u", f"c{i}"))
               for i in range(count)]
    core = [store.users.upsert("comp", f"user{i}@x", f"key{i}", {}) for i in range(count)]
    interleaved = [step for pair in zip(backend, core, strict=True) for step in pair]
    await asyncio.gather(*interleaved)
    assert store.db.commits - commits_before < count  # batched together, not one each
    assert len(await storage.read("SELECT name FROM mynet_contacts")) == count
    assert len(await store.users.list("comp")) == count


async def test_writes_on_a_closed_store_fail_as_the_cores_do(db_path: Path) -> None:
    opened = await Store.open(db_path, extra_migrations={"mynet": [SCHEMA]})
    storage = opened.backend_storage("mynet")
    await storage.write("DELETE FROM mynet_counters")
    await opened.close()
    for sql in ("DELETE FROM mynet_counters", "DELETE FROM mynet_contacts"):
        with pytest.raises(DatabaseClosed):
            await storage.write(sql)


def test_the_core_namespace_has_no_backend_storage(store: Store) -> None:
    with pytest.raises(ValueError, match="reserved"):
        store.backend_storage("core")
