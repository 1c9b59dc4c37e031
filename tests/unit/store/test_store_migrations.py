"""Versioned migrations per namespace, and refusal of files from a newer release."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from transport.store import SchemaTooNew, Store
from transport.store.migrations import migrate, schema_version, split_statements
from transport.store.schema import CORE_MIGRATIONS

CORE_TABLES = {
    "schema_versions",
    "users",
    "subscriptions",
    "user_settings",
    "xmpp_queue",
    "dedupe_keys",
    "legacy_outbox",
    "id_map",
}

# Not idempotent on purpose: running a script twice would fail.
SMS_V1 = "CREATE TABLE sms_numbers (number TEXT PRIMARY KEY);"
SMS_V2 = "ALTER TABLE sms_numbers ADD COLUMN label TEXT; INSERT INTO sms_numbers VALUES ('a', 'b');"
SMS_V3 = "CREATE INDEX sms_numbers_label ON sms_numbers (label)"
CORE = len(CORE_MIGRATIONS)


def _versions(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        return dict(conn.execute("SELECT namespace, version FROM schema_versions").fetchall())


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows if not name.startswith("sqlite_")}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_fresh_file_gets_core_schema_and_parent_dir(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "t.sqlite3"
    store = await Store.open(path)
    await store.close()
    assert _tables(path) >= CORE_TABLES
    assert _versions(path) == {"core": len(CORE_MIGRATIONS)}


async def test_reopen_is_idempotent_and_keeps_data(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.users.upsert("c", "u@x", None, {"k": "v"})
    await store.close()

    store = await Store.open(db_path)
    assert store.db.commits == 0, "reopening an up-to-date file must not write"
    assert await store.users.count("c") == 1
    await store.close()
    assert _versions(db_path) == {"core": len(CORE_MIGRATIONS)}


async def test_namespace_scripts_apply_once_in_order(db_path: Path) -> None:
    store = await Store.open(db_path, extra_migrations={"sms": [SMS_V1, SMS_V2]})
    await store.close()
    assert _versions(db_path) == {"core": CORE, "sms": 2}

    store = await Store.open(db_path, extra_migrations={"sms": [SMS_V1, SMS_V2, SMS_V3]})
    rows = await store.db.fetchall("SELECT number, label FROM sms_numbers")
    await store.close()
    assert [tuple(r) for r in rows] == [("a", "b")]
    assert _versions(db_path) == {"core": CORE, "sms": 3}


async def test_failing_script_rolls_back_and_keeps_previous_version(db_path: Path) -> None:
    bad = "CREATE TABLE sms_half_done (x); INSERT INTO no_such_table VALUES (1);"
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        await Store.open(db_path, extra_migrations={"sms": [SMS_V1, bad]})
    assert _versions(db_path) == {"core": CORE, "sms": 1}
    assert "sms_half_done" not in _tables(db_path)


async def test_newer_core_schema_is_refused_and_file_unchanged(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.users.upsert("c", "u@x", "k", {})
    await store.close()
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("UPDATE schema_versions SET version = 7 WHERE namespace = 'core'")
    before = _digest(db_path)

    with pytest.raises(SchemaTooNew) as info:
        await Store.open(db_path)
    assert (info.value.namespace, info.value.found, info.value.known) == ("core", 7, CORE)
    assert "'core'" in str(info.value) and "version 7" in str(info.value)
    assert _digest(db_path) == before


async def test_newer_backend_schema_is_refused_before_core_is_migrated(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("PRAGMA journal_mode=WAL")  # as every release writes it
        conn.execute("CREATE TABLE schema_versions (namespace TEXT PRIMARY KEY, version INTEGER)")
        conn.execute("INSERT INTO schema_versions VALUES ('irc', 4)")
    before = _digest(db_path)
    with pytest.raises(SchemaTooNew) as info:
        await Store.open(db_path, extra_migrations={"irc": [SMS_V1]})
    assert (info.value.namespace, info.value.found, info.value.known) == ("irc", 4, 1)
    assert _digest(db_path) == before
    assert _tables(db_path) == {"schema_versions"}


async def test_migrate_directly_reports_versions(store: Store) -> None:
    assert await schema_version(store.db, "sms") == 0
    assert await migrate(store.db, "sms", [SMS_V1]) == 1
    assert await migrate(store.db, "sms", [SMS_V1]) == 1
    assert await schema_version(store.db, "sms") == 1
    with pytest.raises(SchemaTooNew):
        await migrate(store.db, "sms", [])


async def test_core_namespace_is_reserved(db_path: Path) -> None:
    with pytest.raises(ValueError, match="reserved"):
        await Store.open(db_path, extra_migrations={"core": [SMS_V1]})


def test_split_statements_handles_triggers_strings_and_comments() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE a (x TEXT DEFAULT 'p;q');
    CREATE TRIGGER a_t AFTER INSERT ON a BEGIN
        UPDATE a SET x = 'r;s' WHERE rowid = new.rowid;
        DELETE FROM a WHERE x = ';';
    END;
    CREATE INDEX a_x ON a (x)
    """
    statements = split_statements(script)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with closing(sqlite3.connect(":memory:")) as conn:
        for statement in statements:
            conn.execute(statement)


def test_split_statements_rejects_an_unfinished_trigger() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM a;")
