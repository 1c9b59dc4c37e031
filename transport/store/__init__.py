"""The gateway's state in one SQLite file: registrations, subscriptions, queues, id maps.

``Store`` opens the file, brings every schema namespace up to date (the core's and each
backend's) and hands out the small repositories; all of them share one ``Database`` and
therefore one group-committing writer.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

from transport.store.backend_storage import PrefixedStorage
from transport.store.database import Database, DatabaseClosed, primary_code, unusable
from transport.store.files import DatabaseUnusable
from transport.store.idmaps import IdMapping, IdMapRepo
from transport.store.migrations import MigrationRefused, SchemaTooNew, check_version, migrate
from transport.store.online import OnlineUsersRepo
from transport.store.queues import (
    LegacyOutboxRepo,
    OutboxRow,
    OutboxState,
    QueuedMessage,
    XmppQueueRepo,
)
from transport.store.schema import CORE_MIGRATIONS, CORE_NAMESPACE
from transport.store.settings import UserSettingsRepo
from transport.store.subscriptions import Subscription, SubscriptionsRepo
from transport.store.users import LegacyKeyTaken, UserRecord, UsersRepo

__all__ = [
    "Database",
    "DatabaseClosed",
    "DatabaseUnusable",
    "IdMapRepo",
    "IdMapping",
    "LegacyKeyTaken",
    "LegacyOutboxRepo",
    "MigrationRefused",
    "OnlineUsersRepo",
    "OutboxRow",
    "OutboxState",
    "PrefixedStorage",
    "QueuedMessage",
    "SchemaTooNew",
    "Store",
    "Subscription",
    "SubscriptionsRepo",
    "UserRecord",
    "UserSettingsRepo",
    "UsersRepo",
    "XmppQueueRepo",
]

log = logging.getLogger(__name__)

_NO_MIGRATIONS: Final[Mapping[str, Sequence[str]]] = MappingProxyType({})
# What SQLite says about the file or the disk rather than about a statement: the admin's to
# fix, so reported as such (a failing statement is a bug and keeps its traceback).
_FILE_ERRORS: Final = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_FULL,
                       sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
                       sqlite3.SQLITE_PERM)


class Store:
    """The open database and its repositories."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.xmpp_queue = XmppQueueRepo(db)
        self.users = UsersRepo(db, on_remove=self.xmpp_queue.dropped_recipient)
        self.subscriptions = SubscriptionsRepo(db)
        self.outbox = LegacyOutboxRepo(db)
        self.id_maps = IdMapRepo(db)
        self.user_settings = UserSettingsRepo(db)
        self._backend_storages: dict[str, PrefixedStorage] = {}
        self.online_users = OnlineUsersRepo(db)

    @classmethod
    async def open(
        cls,
        path: Path | str,
        synchronous: str = "full",
        extra_migrations: Mapping[str, Sequence[str]] = _NO_MIGRATIONS,
    ) -> Store:
        """Open or create the file and migrate "core" and then each extra namespace.

        Every namespace's version is checked before anything is migrated, so a file from a
        newer release raises ``SchemaTooNew`` without a byte of it changed. A file that is
        not a database, is damaged or cannot be opened raises ``DatabaseUnusable`` (of which
        ``SchemaTooNew`` is one kind), so ``run`` can say why in one line.
        """
        if CORE_NAMESPACE in extra_migrations:
            raise ValueError(f"namespace {CORE_NAMESPACE!r} is reserved for the core")
        path = Path(path)
        namespaces: dict[str, Sequence[str]] = {CORE_NAMESPACE: CORE_MIGRATIONS}
        namespaces.update(extra_migrations)
        db = await Database.open(path, synchronous)
        try:
            await _check_integrity(db)
            for namespace, scripts in namespaces.items():
                await check_version(db, namespace, scripts)
            for namespace, scripts in namespaces.items():
                await migrate(db, namespace, scripts)
        except sqlite3.DatabaseError as exc:
            await db.close()
            if primary_code(exc) in _FILE_ERRORS:
                raise unusable(path, exc) from exc
            raise
        except BaseException:
            await db.close()
            raise
        log.info("store %s open (%s)", path, ", ".join(namespaces))
        return cls(db)

    def backend_storage(self, namespace: str) -> PrefixedStorage:
        """The ``BackendStorage`` of the backend whose migrations run under ``namespace``."""
        if namespace == CORE_NAMESPACE:
            raise ValueError(f"namespace {CORE_NAMESPACE!r} is reserved for the core")
        storage = self._backend_storages.get(namespace)
        if storage is None:
            storage = self._backend_storages[namespace] = PrefixedStorage(self.db, namespace)
        return storage

    async def close(self) -> None:
        """Commit what is queued and close the file."""
        for storage in self._backend_storages.values():
            storage.close()
        await self.db.close()


async def _check_integrity(db: Database) -> None:
    """Refuse a damaged file at start rather than fail on its first damaged page later.

    ``quick_check`` reads every page once (measured: 0.3 s for a 200 MB file), on the
    reader connection, so the event loop is not held while it runs.
    """
    try:
        rows = await db.fetchall("PRAGMA quick_check")
    except sqlite3.DatabaseError as exc:
        raise unusable(db.path, exc) from exc
    # One result row may hold many lines, after a "*** in database main ***" heading.
    problems = [line.strip() for row in rows for line in str(row[0]).splitlines()
                if line.strip() not in ("", "ok") and not line.startswith("***")]
    if problems:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise DatabaseUnusable(f"{db.path} is corrupt (quick_check: {problems[0][:200]}{more});"
                               " restore it from a backup")
