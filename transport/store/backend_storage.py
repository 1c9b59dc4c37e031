"""``BackendStorage`` on the store's ``Database``: a backend's tables, the core's writer.

Every write joins the core's group commit, so a backend adds no transaction (and no fsync)
of its own; reads use the shared reader connection. Each distinct statement is checked
once against the backend's prefix (see ``guard``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from transport.core.storage import SqlParams, Transaction
from transport.store.database import Database
from transport.store.guard import StatementChecker

T = TypeVar("T")


def table_prefix(namespace: str) -> str:
    """What the names of a backend's tables start with: ``sms`` -> ``sms_``."""
    return f"{namespace.lower()}_"


class PrefixedStorage:
    """A backend's view of the database (implements ``transport.core.storage.BackendStorage``)."""

    def __init__(self, db: Database, namespace: str) -> None:
        self._db = db
        self._prefix = table_prefix(namespace)
        self._checker = StatementChecker(db.path, self._prefix)

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def path(self) -> Path:
        return self._db.path

    async def read(self, sql: str, params: SqlParams = ()) -> list[sqlite3.Row]:
        self._checker.check(sql, params)
        return await self._db.fetchall(sql, params)

    async def read_one(self, sql: str, params: SqlParams = ()) -> sqlite3.Row | None:
        self._checker.check(sql, params)
        return await self._db.fetchone(sql, params)

    async def write(self, sql: str, params: SqlParams = ()) -> int:
        self._checker.check(sql, params)
        return await self._db.execute(sql, params)

    async def write_many(self, sql: str, rows: Iterable[SqlParams]) -> int:
        batch = list(rows)
        self._checker.check_many(sql, batch)
        return await self._db.executemany(sql, batch)

    async def transaction(self, op: Callable[[Transaction], T]) -> T:
        checker = self._checker

        def run(conn: sqlite3.Connection) -> T:
            return op(_CheckedTransaction(conn, checker))

        return await self._db.write(run)

    def close(self) -> None:
        """Release the checking connection (the database itself is the store's)."""
        self._checker.close()


class _CheckedTransaction:
    """The writer connection, as a ``Transaction`` whose statements are checked first."""

    __slots__ = ("_checker", "_conn")

    def __init__(self, conn: sqlite3.Connection, checker: StatementChecker) -> None:
        self._conn = conn
        self._checker = checker

    def execute(self, sql: str, params: SqlParams = (), /) -> sqlite3.Cursor:
        self._checker.check(sql, params)
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[SqlParams], /) -> sqlite3.Cursor:
        batch = list(rows)
        self._checker.check_many(sql, batch)
        return self._conn.executemany(sql, batch)
