"""What a backend may do with the gateway's SQLite file: its own tables, nothing else.

A backend owns the tables its ``Backend.migrations()`` create, all named ``<name>_...``.
Reads and writes go through the store's single writer, so a backend's write is
group-committed with the core's and is durable once awaited. Statements that touch a table
outside the backend's prefix (the core's ``users``, another backend's ``sms_...``) are
refused with ``ForeignTable`` before they run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

T = TypeVar("T")

#: A value SQLite stores as is.
SqlValue = str | int | float | bytes | None
#: Positional (``?``) or named (``:name``) parameters of one statement.
SqlParams = Sequence[SqlValue] | Mapping[str, SqlValue]


class ForeignTable(PermissionError):
    """A backend's statement touches a table (or index, trigger, view) outside its prefix,
    or does what only the store may do (BEGIN, ATTACH, a PRAGMA that changes settings)."""

    def __init__(self, prefix: str, name: str, sql: str) -> None:
        super().__init__(f"{name!r} is not one of this backend's tables (they start with "
                         f"{prefix!r}): {sql.strip()[:120]}")
        self.prefix = prefix
        self.name = name


class Transaction(Protocol):
    """The statements of one ``BackendStorage.transaction`` op, in the writer thread."""

    def execute(self, sql: str, params: SqlParams = (), /) -> sqlite3.Cursor:
        """Run one statement (checked against the prefix) and return its cursor."""
        ...

    def executemany(self, sql: str, rows: Iterable[SqlParams], /) -> sqlite3.Cursor:
        """Run one statement over many parameter rows."""
        ...


class BackendStorage(Protocol):
    """``BackendContext.store``: the backend's tables in the gateway's database."""

    @property
    def prefix(self) -> str:
        """``<backend name>_``: every table, index, trigger and view name starts with it."""
        ...

    @property
    def path(self) -> Path:
        """The database file (to place files of the backend's next to it, say)."""
        ...

    async def read(self, sql: str, params: SqlParams = ()) -> list[sqlite3.Row]:
        """Every row of a query, on the reader connection; sees every awaited write."""
        ...

    async def read_one(self, sql: str, params: SqlParams = ()) -> sqlite3.Row | None:
        """The first row of a query (meant for lookups by key), or None."""
        ...

    async def write(self, sql: str, params: SqlParams = ()) -> int:
        """One statement as a write of its own; returns once committed, with the number of
        rows it changed."""
        ...

    async def write_many(self, sql: str, rows: Iterable[SqlParams]) -> int:
        """One statement over many parameter rows, as one write; rows changed."""
        ...

    async def transaction(self, op: Callable[[Transaction], T]) -> T:
        """Run ``op`` atomically in the writer thread; return its result once committed.

        ``op`` is synchronous (it runs between the core's writes of the same group
        commit): it must not await, sleep or do network I/O. If it raises, its changes
        are rolled back and the exception is re-raised here.
        """
        ...
