"""Versioned schema migrations, one version number per namespace.

The core and each backend own a namespace ("core", "sms", "irc"...) and a list of SQL
scripts; script ``n`` (1-based) brings the namespace to version ``n``. A file written by a
newer release (a version beyond the scripts we know) is refused untouched rather than
guessed at, so a downgrade can never corrupt data.

A backend's scripts may create, alter, read and drop only objects named ``<namespace>_...``
(so no backend can ever collide with the core's tables or another backend's); a script
that touches anything else is rolled back and refused with ``MigrationRefused``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from transport.core.errors import StartupError
from transport.store.backend_storage import table_prefix
from transport.store.database import Database
from transport.store.files import DatabaseUnusable
from transport.store.guard import PrefixGuard
from transport.store.schema import CORE_NAMESPACE

log = logging.getLogger(__name__)

_CREATE_TABLE: Final = """
CREATE TABLE IF NOT EXISTS schema_versions (
    namespace TEXT PRIMARY KEY,
    version INTEGER NOT NULL
)"""
_TABLE_EXISTS: Final = (
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'"
)
_GET_VERSION: Final = "SELECT version FROM schema_versions WHERE namespace = ?"
_SET_VERSION: Final = """
INSERT INTO schema_versions (namespace, version) VALUES (?, ?)
ON CONFLICT (namespace) DO UPDATE SET version = excluded.version"""


_OBJECTS: Final = "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"


class MigrationRefused(StartupError):
    """A backend's migration touches a table (index, trigger, view) outside its prefix."""

    def __init__(self, namespace: str, version: int, name: str) -> None:
        super().__init__(
            namespace,
            f"migration {version} of backend {namespace!r} touches {name!r}; a backend may "
            f"only create, alter or use tables, indexes, triggers and views named "
            f"'{namespace}_...'",
        )
        self.namespace = namespace
        self.version = version
        self.name = name


class SchemaTooNew(DatabaseUnusable):
    """The file was migrated by a newer release than this one; we refuse to touch it."""

    def __init__(self, namespace: str, found: int, known: int, path: Path | None = None) -> None:
        where = f"{path}: " if path is not None else ""
        super().__init__(
            f"{where}schema {namespace!r} is at version {found}, this release knows up to "
            f"{known}: upgrade xmpp-transport or use another database"
        )
        self.namespace = namespace
        self.found = found
        self.known = known


async def schema_version(db: Database, namespace: str) -> int:
    """The namespace's current version; 0 when it was never migrated."""
    if await db.fetchone(_TABLE_EXISTS) is None:
        return 0
    row = await db.fetchone(_GET_VERSION, (namespace,))
    return int(row[0]) if row is not None else 0


async def check_version(db: Database, namespace: str, scripts: Sequence[str]) -> int:
    """Raise ``SchemaTooNew`` if the file is ahead of ``scripts``; else the version."""
    found = await schema_version(db, namespace)
    if found > len(scripts):
        raise SchemaTooNew(namespace, found, len(scripts), db.path)
    return found


async def migrate(db: Database, namespace: str, scripts: Sequence[str]) -> int:
    """Apply the scripts the file has not seen yet; return the resulting version.

    Each script runs with its version bump in one atomic write, so a crash leaves the
    namespace at a version whose script fully applied.
    """
    current = await check_version(db, namespace, scripts)
    if current == len(scripts):
        return current
    await db.write(_create_table)
    for index in range(current, len(scripts)):
        await db.write(_Step(namespace, index + 1, scripts[index], len(scripts)))
        log.info("migrated %s schema to version %d", namespace, index + 1)
    return len(scripts)


def _create_table(conn: sqlite3.Connection) -> None:
    conn.execute(_CREATE_TABLE)


class _Step:
    """One script as a write op (run in the writer thread); re-checks the version there."""

    def __init__(self, namespace: str, version: int, script: str, known: int) -> None:
        self.namespace = namespace
        self.version = version
        self.script = script
        self.known = known

    def __call__(self, conn: sqlite3.Connection) -> None:
        row = conn.execute(_GET_VERSION, (self.namespace,)).fetchone()
        found = int(row[0]) if row is not None else 0
        if found > self.known:
            raise SchemaTooNew(self.namespace, found, self.known)
        if found >= self.version:
            return  # another process applied it meanwhile
        if self.namespace == CORE_NAMESPACE:
            for statement in split_statements(self.script):
                conn.execute(statement)
        else:
            self._apply_guarded(conn)
        conn.execute(_SET_VERSION, (self.namespace, self.version))

    def _apply_guarded(self, conn: sqlite3.Connection) -> None:
        """The script under the backend's prefix; a refusal rolls the step back."""
        prefix = table_prefix(self.namespace)
        before = {str(row[0]) for row in conn.execute(_OBJECTS)}
        guard = PrefixGuard(prefix)
        conn.set_authorizer(guard)
        try:
            for statement in split_statements(self.script):
                conn.execute(statement)
        except sqlite3.DatabaseError:
            if guard.refused is None:
                raise
            raise MigrationRefused(self.namespace, self.version, guard.refused) from None
        finally:
            conn.set_authorizer(None)
        # A RENAME reports only the old name to the authorizer: check what now exists.
        for name in sorted({str(row[0]) for row in conn.execute(_OBJECTS)} - before):
            if not guard.allows(name):
                raise MigrationRefused(self.namespace, self.version, name)


def split_statements(script: str) -> list[str]:
    """Split a script into complete statements.

    ``executescript`` would COMMIT the writer's open transaction, so scripts are run one
    statement at a time. ``sqlite3.complete_statement`` knows about quotes and trigger
    bodies, which a plain split on ';' does not.
    """
    statements: list[str] = []
    buffer = ""
    for part in script.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            text = buffer.strip()
            if text.strip(";").strip():
                statements.append(text)
            buffer = ""
    if buffer.rstrip(";").strip():
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:80]!r}")
    return statements
