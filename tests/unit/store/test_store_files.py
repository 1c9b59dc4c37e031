"""The database file, its WAL/SHM and the directories the store creates are private."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from transport.store import DatabaseUnusable, Store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common umask, under which a plain create would be 0644."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def test_new_database_and_its_wal_and_shm_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "state" / "deeper" / "t.sqlite3"
    store = await Store.open(path)
    try:
        await store.users.upsert("c", "u@x", "k", {"password": "hunter2"})
        wal, shm = _side(path, "-wal"), _side(path, "-shm")
        assert wal.exists() and shm.exists(), "a write in WAL mode creates both"
        assert {p.name: _mode(p) for p in (path, wal, shm)} == {
            path.name: 0o600, wal.name: 0o600, shm.name: 0o600}
    finally:
        await store.close()
    assert _mode(path.parent) == 0o700
    assert _mode(path.parent.parent) == 0o700, "every directory the store creates"


async def test_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    store = await Store.open(shared / "t.sqlite3")
    await store.close()
    assert _mode(shared) == 0o755


async def test_loose_existing_files_are_tightened_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "t.sqlite3"
    # As an older release left it: created by SQLite under the umask, WAL kept open.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()
        wal, shm = _side(path, "-wal"), _side(path, "-shm")
        for file in (path, wal, shm):
            os.chmod(file, 0o644)
        with caplog.at_level(logging.WARNING, logger="transport.store"):
            store = await Store.open(path)
            await store.close()
        # Still there: the other connection keeps them open.
        assert {p.name: _mode(p) for p in (path, wal, shm)} == {
            path.name: 0o600, wal.name: 0o600, shm.name: 0o600}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(path) in warnings[0].getMessage()
    assert "0644" in warnings[0].getMessage()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="transport.store"):
        store = await Store.open(path)
        await store.close()
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


async def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database at all\n")
    os.chmod(path, 0o644)
    with pytest.raises(DatabaseUnusable, match="is not a SQLite database"):
        await Store.open(path)
    assert _mode(path) == 0o644
    assert path.read_text() == "not a database at all\n"


async def test_a_directory_or_an_uncreatable_parent_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnusable, match="is a directory"):
        await Store.open(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DatabaseUnusable, match="cannot create the directory"):
        await Store.open(blocker / "sub" / "t.sqlite3")
