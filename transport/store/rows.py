"""Many rows in one SQL statement, passed as one JSON array.

The writer thread gives up the GIL around every SQLite step, and ``executemany`` steps once
per row. While the event loop is busy each hand-back can wait for the loop thread to let go
of the GIL (up to the interpreter's switch interval), so a 100-row ``executemany`` could
take longer than the fsync of its commit. One ``INSERT ... SELECT FROM json_each(?)`` is one
step for the whole list: measured, two orders of magnitude faster under a busy loop.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Final

from transport.core.storage import Transaction

# The most rows one pruning statement deletes: a chunk of 250 finished outbox rows takes
# about 4 ms of the writer (measured, commit included), so the gateway's own writes never
# wait long behind a large backlog being pruned (see ``retention``).
PRUNE_CHUNK: Final = 250

# ensure_ascii=False: text goes to SQLite as UTF-8, with no \u escapes for it to decode.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                                   check_circular=False)


# A lone surrogate (legacy bytes a network decoded with surrogateescape) has no UTF-8 form:
# SQLite would refuse the whole statement, and with it every row of the batch.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` with any lone surrogate replaced (U+FFFD), so SQLite can take it."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def json_rows(rows: Iterable[Any]) -> str:
    """The parameter for a ``json_each(?)`` over ``rows`` (values, or lists of them)."""
    return storable(_ENCODER.encode(list(rows)))


def json_value(value: Any) -> str:
    """One value as compact JSON, the way ``json_each`` rows store a dict or list."""
    return storable(_ENCODER.encode(value))


def columns(*names: str) -> str:
    """``json_extract(value, '$[0]') AS a, ...``: the row's fields, in order, for a SELECT
    over ``json_each``. ``json_extract``, not ``->>``, so that SQLite 3.37 still works. A
    field holding a JSON object or array comes out as its (minified) JSON text, so a payload
    column can be given as a dict and is encoded once, with the rest of the rows."""
    return ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, name in enumerate(names))


_CHUNKS: Final = (64, 16, 4, 1)
_statements: dict[tuple[str, int, int], str] = {}


def insert_values(
    conn: sqlite3.Connection | Transaction, head: str, rows: Sequence[Sequence[Any]]
) -> None:
    """``head`` (``INSERT ... (a, b)``) over ``rows`` with bound values, 64 rows a step.

    For rows JSON cannot carry exactly (blobs, floats that must round-trip bit for bit).
    Statements come in four sizes only, so SQLite's statement cache keeps them prepared.
    """
    if not rows:
        return
    width = len(rows[0])
    start = 0
    for size in _CHUNKS:
        while len(rows) - start >= size:
            key = (head, width, size)
            sql = _statements.get(key)
            if sql is None:
                one = f"({', '.join('?' * width)})"
                sql = _statements[key] = f"{head} VALUES {', '.join([one] * size)}"
            conn.execute(sql, [value for row in rows[start:start + size] for value in row])
            start += size
