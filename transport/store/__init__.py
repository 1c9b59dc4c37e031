"""The gateway's state in one SQLite file: registrations, subscriptions, queues, id maps.

``Store`` opens the file, brings every schema namespace up to date (the core's and each
backend's) and hands out the small repositories; all of them share one ``Database`` and
therefore one group-committing writer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

from transport.store.database import Database, DatabaseClosed
from transport.store.idmaps import IdMapping, IdMapRepo
from transport.store.migrations import SchemaTooNew, check_version, migrate
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
    "IdMapRepo",
    "IdMapping",
    "LegacyKeyTaken",
    "LegacyOutboxRepo",
    "OutboxRow",
    "OutboxState",
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

    @classmethod
    async def open(
        cls,
        path: Path | str,
        synchronous: str = "full",
        extra_migrations: Mapping[str, Sequence[str]] = _NO_MIGRATIONS,
    ) -> Store:
        """Open or create the file and migrate "core" and then each extra namespace.

        Every namespace's version is checked before anything is migrated, so a file from a
        newer release raises ``SchemaTooNew`` without a byte of it changed.
        """
        if CORE_NAMESPACE in extra_migrations:
            raise ValueError(f"namespace {CORE_NAMESPACE!r} is reserved for the core")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        namespaces: dict[str, Sequence[str]] = {CORE_NAMESPACE: CORE_MIGRATIONS}
        namespaces.update(extra_migrations)
        db = await Database.open(path, synchronous)
        try:
            for namespace, scripts in namespaces.items():
                await check_version(db, namespace, scripts)
            for namespace, scripts in namespaces.items():
                await migrate(db, namespace, scripts)
        except BaseException:
            await db.close()
            raise
        log.info("store %s open (%s)", path, ", ".join(namespaces))
        return cls(db)

    async def close(self) -> None:
        """Commit what is queued and close the file."""
        await self.db.close()
