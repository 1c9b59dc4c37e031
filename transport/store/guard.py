"""Keeping a backend's SQL to its own tables, with SQLite's authorizer.

SQLite reports every table, index, trigger and view a statement touches while it compiles
the statement; that is exact where parsing SQL ourselves would be guesswork. Names starting
with ``sqlite_`` are SQLite's own bookkeeping (the schema table, AUTOINCREMENT counters,
automatic indexes), which every CREATE or ALTER updates, so they pass.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import quote

from transport.core.storage import ForeignTable, SqlParams

# For each action, which of the authorizer's two arguments are object names.
_NAMES: Final[Mapping[int, tuple[int, ...]]] = {
    sqlite3.SQLITE_CREATE_INDEX: (0, 1),
    sqlite3.SQLITE_CREATE_TABLE: (0,),
    sqlite3.SQLITE_CREATE_TEMP_INDEX: (0, 1),
    sqlite3.SQLITE_CREATE_TEMP_TABLE: (0,),
    sqlite3.SQLITE_CREATE_TEMP_TRIGGER: (0, 1),
    sqlite3.SQLITE_CREATE_TEMP_VIEW: (0,),
    sqlite3.SQLITE_CREATE_TRIGGER: (0, 1),
    sqlite3.SQLITE_CREATE_VIEW: (0,),
    sqlite3.SQLITE_DELETE: (0,),
    sqlite3.SQLITE_DROP_INDEX: (0, 1),
    sqlite3.SQLITE_DROP_TABLE: (0,),
    sqlite3.SQLITE_DROP_TEMP_INDEX: (0, 1),
    sqlite3.SQLITE_DROP_TEMP_TABLE: (0,),
    sqlite3.SQLITE_DROP_TEMP_TRIGGER: (0, 1),
    sqlite3.SQLITE_DROP_TEMP_VIEW: (0,),
    sqlite3.SQLITE_DROP_TRIGGER: (0, 1),
    sqlite3.SQLITE_DROP_VIEW: (0,),
    sqlite3.SQLITE_INSERT: (0,),
    sqlite3.SQLITE_READ: (0,),
    sqlite3.SQLITE_UPDATE: (0,),
    sqlite3.SQLITE_ALTER_TABLE: (1,),
    sqlite3.SQLITE_REINDEX: (0,),
    sqlite3.SQLITE_ANALYZE: (0,),
}
_NAMELESS: Final = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION,
                              sqlite3.SQLITE_RECURSIVE})
# Pragmas that only describe a table; every other one changes the connection or the file.
_DESCRIBING_PRAGMAS: Final = frozenset({"table_info", "table_xinfo", "index_list", "index_info",
                                        "index_xinfo", "foreign_key_list"})
# Table-valued functions SQLite reports as tables.
_BUILTIN_TABLES: Final = frozenset({"json_each", "json_tree"})


class PrefixGuard:
    """An authorizer callback that refuses anything outside ``prefix``; remembers what."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.refused: str | None = None

    def __call__(self, action: int, arg1: str | None, arg2: str | None,
                 database: str | None, source: str | None) -> int:
        name = self.offending(action, arg1, arg2)
        if name is None:
            return sqlite3.SQLITE_OK
        if self.refused is None:
            self.refused = name
        return sqlite3.SQLITE_DENY

    def offending(self, action: int, arg1: str | None, arg2: str | None) -> str | None:
        """The name (or the statement kind) an action may not touch; None when allowed."""
        slots = _NAMES.get(action)
        if slots is not None:
            args = (arg1, arg2)
            for slot in slots:
                name = args[slot]
                if name and not self.allows(name):
                    return name
            return None
        if action in _NAMELESS:
            return None
        if action == sqlite3.SQLITE_PRAGMA and arg1 in _DESCRIBING_PRAGMAS:
            return None if arg2 is None or self.allows(arg2) else arg2
        return _KINDS.get(action, f"SQLite action {action}")

    def allows(self, name: str) -> bool:
        folded = name.lower()
        return (folded.startswith(self.prefix) or folded.startswith("sqlite_")
                or folded in _BUILTIN_TABLES)


_KINDS: Final[Mapping[int, str]] = {
    sqlite3.SQLITE_PRAGMA: "PRAGMA",
    sqlite3.SQLITE_TRANSACTION: "BEGIN/COMMIT",
    sqlite3.SQLITE_SAVEPOINT: "SAVEPOINT",
    sqlite3.SQLITE_ATTACH: "ATTACH",
    sqlite3.SQLITE_DETACH: "DETACH",
}


class StatementChecker:
    """Checks each distinct statement once, by compiling it (``EXPLAIN``, which runs
    nothing) under a ``PrefixGuard`` on a read-only connection of its own; later uses of the
    same SQL text cost a dict lookup."""

    def __init__(self, path: Path, prefix: str) -> None:
        self.path = path
        self.prefix = prefix
        self._verdicts: dict[str, str] = {}  # sql -> offending name, "" when allowed
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def check(self, sql: str, params: SqlParams) -> None:
        """Raise ``ForeignTable`` if ``sql`` touches anything outside the prefix.

        A statement that does not compile (a missing table, a syntax error) passes: running
        it raises SQLite's own error. So does any statement once the store is closed, for
        the store to refuse it as it refuses the core's (``DatabaseClosed``).
        """
        verdict = self._verdicts.get(sql)
        if verdict is None:
            verdict = self._compile(sql, params)
        if verdict:
            raise ForeignTable(self.prefix, verdict, sql)

    def check_many(self, sql: str, rows: Sequence[SqlParams]) -> None:
        if rows:
            self.check(sql, rows[0])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _compile(self, sql: str, params: SqlParams) -> str:
        with self._lock:
            if self._closed:
                return ""
            conn = self._connection()
            guard = PrefixGuard(self.prefix)
            conn.set_authorizer(guard)
            try:
                conn.execute("EXPLAIN " + sql, params).close()
            except sqlite3.DatabaseError:
                if guard.refused is None:
                    return ""
            finally:
                conn.set_authorizer(None)
            verdict = guard.refused or ""
            if len(self._verdicts) >= _MAX_VERDICTS:
                self._verdicts.clear()
            self._verdicts[sql] = verdict
            return verdict

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            uri = f"file:{quote(str(self.path))}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False,
                                         isolation_level=None)
        return self._conn


_MAX_VERDICTS: Final = 4096
