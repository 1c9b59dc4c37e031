"""Rows written in one statement: every row, in order, with its exact values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from transport.core.events import XmppMessage
from transport.store.rows import columns, insert_values, json_rows


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(tmp_path / "rows.sqlite3", isolation_level=None)
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, x REAL, b BLOB, s TEXT)")
    return connection


@pytest.mark.parametrize("count", [0, 1, 5, 64, 85, 200])
def test_insert_values_writes_every_row_in_order_exactly(conn: sqlite3.Connection,
                                                         count: int) -> None:
    rows = [(i, 1 / 3 + i, bytes([i % 256]) * 16, f"line {i} 😀 \x00 end") for i in range(count)]
    steps = []
    conn.set_trace_callback(steps.append)
    insert_values(conn, "INSERT INTO t (n, x, b, s)", rows)
    conn.set_trace_callback(None)
    assert conn.execute("SELECT n, x, b, s FROM t ORDER BY id").fetchall() == rows
    # 64, 16, 4 and 1 rows a statement: 85 rows are 64 + 16 + 4 + 1, four statements.
    assert len(steps) == {0: 0, 1: 1, 5: 2, 64: 1, 85: 4, 200: 5}[count]


def test_json_rows_round_trip_through_json_each(conn: sqlite3.Connection) -> None:
    rows = [(i, f'quote " backslash \\ tab \t {i} héllo 😀', None) for i in range(3)]
    conn.execute(f"INSERT INTO t (n, s, b) SELECT n, s, b FROM (SELECT {columns('n', 's', 'b')},"
                 " key FROM json_each(?)) ORDER BY key", (json_rows(rows),))
    assert conn.execute("SELECT n, s, b FROM t ORDER BY id").fetchall() == rows


async def test_a_batch_with_lone_surrogates_is_stored_whole(store) -> None:
    """Legacy bytes decoded with surrogateescape must not make SQLite refuse the batch."""
    messages = [XmppMessage(to="alice@example.org", sender=f"n{i}@irc.example.org",
                            body=f"caf\udce9 {i}") for i in range(3)]
    assert await store.xmpp_queue.enqueue("irc.example.org", messages, None)
    rows = await store.xmpp_queue.pending("irc.example.org", 10, 0)
    assert [r.message.body for r in rows] == [f"caf\ufffd {i}" for i in range(3)]
