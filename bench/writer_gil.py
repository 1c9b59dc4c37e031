"""Why the store writes rows in one statement: SQLite steps and the GIL.

A thread gives up the GIL around every SQLite step; ``executemany`` steps once per row.
While another thread runs Python, each hand-back waits for it (up to the interpreter's
switch interval), so a per-row write slows down by orders of magnitude; one
``INSERT ... SELECT FROM json_each(?)`` is one step whatever the row count.

Prints the time of one 100-row write (BEGIN, insert, COMMIT; synchronous=FULL, WAL) with
the main thread idle and with it spinning. Usage: ``python bench/writer_gil.py``.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROWS = [(f"x{i}", "y" * 200) for i in range(100)]
REPEAT = 30


def per_row(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t (a, b) VALUES (?, ?)", ROWS)
    conn.execute("COMMIT")


def one_statement(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t (a, b) SELECT json_extract(value, '$[0]'),"
                 " json_extract(value, '$[1]') FROM json_each(?)", (json.dumps(ROWS),))
    conn.execute("COMMIT")


def timed(write: Callable[[sqlite3.Connection], None], conn: sqlite3.Connection,
          busy: bool) -> float:
    """Mean ms per write, run in a worker thread (as the store's writer is)."""
    stop = threading.Event()
    result: list[float] = []

    def writer() -> None:
        start = time.perf_counter()
        for _ in range(REPEAT):
            write(conn)
        result.append((time.perf_counter() - start) / REPEAT * 1000)
        stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    if busy:
        spins = 0
        while not stop.is_set():
            spins += 1
    thread.join()
    return result[0]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "gil.sqlite3", isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)")
        print(f"SQLite {sqlite3.sqlite_version}; one write = 100 rows, mean of {REPEAT}")
        for write in (per_row, one_statement):
            idle = timed(write, conn, busy=False)
            busy = timed(write, conn, busy=True)
            print(f"{write.__name__:14} main thread idle {idle:8.2f} ms   "
                  f"main thread busy {busy:8.2f} ms")


if __name__ == "__main__":
    main()
