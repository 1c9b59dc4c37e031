"""A backend's migrations may only touch objects named after it, and the refusal is clear."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from transport.backends.irc.schema import MIGRATIONS as IRC_MIGRATIONS
from transport.backends.sms.store import MIGRATIONS as SMS_MIGRATIONS
from transport.core.errors import StartupError
from transport.store import MigrationRefused, Store

GOOD_V1 = "CREATE TABLE mynet_contacts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"


def _versions(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        return dict(conn.execute("SELECT namespace, version FROM schema_versions").fetchall())


def _objects(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master").fetchall()
    return {name for (name,) in rows if not name.startswith("sqlite_")}


@pytest.mark.parametrize(("script", "offender"), [
    ("CREATE TABLE contacts (id INTEGER PRIMARY KEY)", "contacts"),
    ("CREATE TABLE sms_contacts (id INTEGER PRIMARY KEY)", "sms_contacts"),
    ("CREATE INDEX mynet_by_jid ON users (jid)", "users"),
    ("CREATE INDEX users_by_data ON mynet_contacts (name)", "users_by_data"),
    ("ALTER TABLE users ADD COLUMN mynet_flag TEXT", "users"),
    ("ALTER TABLE mynet_contacts RENAME TO contacts", "contacts"),
    ("INSERT INTO mynet_contacts (name) SELECT jid FROM users", "users"),
    ("DELETE FROM legacy_outbox", "legacy_outbox"),
    ("DROP TABLE id_map", "id_map"),
    ("CREATE VIEW roster AS SELECT name FROM mynet_contacts", "roster"),
    ("CREATE TRIGGER mynet_t AFTER INSERT ON users BEGIN SELECT 1; END", "users"),
    ("PRAGMA foreign_keys = OFF", "PRAGMA"),
])
async def test_a_script_touching_foreign_names_is_refused_and_rolled_back(
    db_path: Path, script: str, offender: str
) -> None:
    with pytest.raises(MigrationRefused) as info:
        await Store.open(db_path, extra_migrations={"mynet": [GOOD_V1, f"{script};"]})
    refused = info.value
    assert isinstance(refused, StartupError)
    assert (refused.key, refused.namespace, refused.version, refused.name) == (
        "mynet", "mynet", 2, offender)
    assert "'mynet'" in str(refused) and repr(offender) in str(refused)
    assert "mynet_..." in str(refused)
    assert _versions(db_path)["mynet"] == 1
    assert "contacts" not in _objects(db_path) and "roster" not in _objects(db_path)
    assert "mynet_contacts" in _objects(db_path)


async def test_a_refused_first_script_leaves_nothing_behind(db_path: Path) -> None:
    script = "CREATE TABLE mynet_ok (x); CREATE TABLE other (x);"
    with pytest.raises(MigrationRefused, match="'other'"):
        await Store.open(db_path, extra_migrations={"mynet": [script]})
    assert "mynet" not in _versions(db_path)
    assert not {"mynet_ok", "other"} & _objects(db_path)


async def test_prefixed_scripts_may_create_alter_rename_and_keep_rows(db_path: Path) -> None:
    scripts = [
        GOOD_V1 + "CREATE INDEX mynet_contacts_name ON mynet_contacts (name);",
        "INSERT INTO mynet_contacts (name) VALUES ('ann'), ('bob');",
        # A rebuild, as SQLite needs for most column changes: rows and counter survive.
        """CREATE TABLE mynet_people (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT,
               note TEXT NOT NULL DEFAULT '');
           INSERT INTO mynet_people (id, name) SELECT id, name FROM mynet_contacts;
           DROP TABLE mynet_contacts;
           ALTER TABLE mynet_people RENAME TO mynet_contacts;
           PRAGMA table_info(mynet_contacts);""",
    ]
    store = await Store.open(db_path, extra_migrations={"mynet": scripts})
    try:
        rows = await store.backend_storage("mynet").read(
            "SELECT id, name, note FROM mynet_contacts ORDER BY id")
        assert [tuple(r) for r in rows] == [(1, "ann", ""), (2, "bob", "")]
    finally:
        await store.close()
    assert _versions(db_path)["mynet"] == 3


async def test_the_shipped_backends_migrations_pass_the_rule(tmp_path: Path) -> None:
    core_only, both = tmp_path / "core.sqlite3", tmp_path / "both.sqlite3"
    await (await Store.open(core_only)).close()
    store = await Store.open(both, extra_migrations={"irc": IRC_MIGRATIONS,
                                                     "sms": SMS_MIGRATIONS})
    await store.close()
    versions = _versions(both)
    assert (versions["irc"], versions["sms"]) == (len(IRC_MIGRATIONS), len(SMS_MIGRATIONS))
    backend_objects = _objects(both) - _objects(core_only)
    assert backend_objects
    assert all(name.startswith(("irc_", "sms_")) for name in backend_objects)
