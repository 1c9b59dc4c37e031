"""A database the gateway cannot use stops ``run`` with one line naming ``database.path``.

Each case runs the real command line in a subprocess against a real SQLite file, damaged
the way a disk, an admin or a downgrade damages it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

import transport
from transport.core.events import OutgoingMessage
from transport.store import Store
from transport.store.schema import CORE_MIGRATIONS
from transport.testing.servers.ports import free_port

SOURCE_ROOT = Path(transport.__file__).resolve().parents[1]
PAGE = 4096

CONFIG = """
[xmpp]
host = "127.0.0.1"
port = {port}

[database]
path = "{path}"

[echo]
jid = "echo.example.org"
secret = "s3cret-echo"
"""


def _run(tmp_path: Path, db_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(port=free_port(), path=db_path))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSPORT_")}
    env["PYTHONPATH"] = str(SOURCE_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "transport", "run", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=60, check=False)


def _assert_one_line(result: subprocess.CompletedProcess[str], cause: str) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    named = [line for line in result.stderr.splitlines() if "database.path" in line]
    assert len(named) == 1, result.stderr
    assert named[0].startswith("cannot start: database.path: "), named[0]
    assert cause in named[0], named[0]
    return named[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _real_database(path: Path) -> None:
    """A file the gateway wrote: a few hundred outbox rows spread over many pages."""

    async def fill() -> None:
        store = await Store.open(path)
        try:
            await asyncio.gather(*(store.outbox.add("echo.example.org", OutgoingMessage(
                user="alice@example.org", sender_full_jid="alice@example.org/a",
                contact="bob", stanza_id=f"s{i}", body="x" * 900), lane="bob")
                for i in range(300)))
        finally:
            await store.close()

    asyncio.run(fill())
    assert path.stat().st_size > 40 * PAGE


def _overwrite_page(path: Path) -> None:
    with open(path, "r+b") as file:
        file.seek(20 * PAGE)
        file.write(os.urandom(PAGE))


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


@pytest.mark.parametrize("damage", [_overwrite_page, _truncate], ids=["page", "truncated"])
def test_a_damaged_database_is_named_in_one_line(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    path = tmp_path / "gw.sqlite3"
    _real_database(path)
    damage(path)
    _assert_one_line(_run(tmp_path, path), f"{path} is corrupt")


def test_random_bytes_are_not_a_database_and_stay_untouched(tmp_path: Path) -> None:
    path = tmp_path / "gw.sqlite3"
    path.write_bytes(os.urandom(8 * PAGE))
    before = _digest(path)
    _assert_one_line(_run(tmp_path, path), f"{path} is not a SQLite database (or is corrupt)")
    assert _digest(path) == before


def test_a_database_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "gw.sqlite3"
    asyncio.run(_open_and_close(path))
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE schema_versions SET version = 9 WHERE namespace = 'core'")
    before = _digest(path)
    line = _assert_one_line(_run(tmp_path, path), f"{path}: schema 'core' is at version 9")
    assert f"this release knows up to {len(CORE_MIGRATIONS)}" in line
    assert "upgrade xmpp-transport or use another database" in line
    assert _digest(path) == before


def test_a_directory_and_an_impossible_directory_are_named(tmp_path: Path) -> None:
    _assert_one_line(_run(tmp_path, tmp_path), f"{tmp_path} is a directory")
    (tmp_path / "plain-file").write_text("")
    _assert_one_line(_run(tmp_path, tmp_path / "plain-file" / "state" / "gw.sqlite3"),
                     f"cannot create the directory {tmp_path / 'plain-file' / 'state'}")


async def _open_and_close(path: Path) -> None:
    store = await Store.open(path)
    await store.close()
