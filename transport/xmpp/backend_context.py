"""The ``BackendContext`` a backend gets: the gateway's public calls, and its own storage.

Kept apart from ``Gateway`` because the gateway's ``store`` is the whole store (the core's
handlers need its repositories) while a backend's is its prefixed ``BackendStorage``.
``XmppBackendContext`` adds the running component, for the in-tree backends that still
serve XMPP features the core does not model themselves (IRC's rooms); it is not part of
the public backend API.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from transport.core.backend import BackendContext, BackendStorage
from transport.core.events import Registration, StanzaErrorInfo, XmppMessage
from transport.core.metrics import MetricsRegistry
from transport.xmpp.component import GatewayComponent

if TYPE_CHECKING:
    from transport.xmpp.gateway import Gateway


class XmppBackendContext(BackendContext, Protocol):
    """A ``BackendContext`` with the component stream, for backends inside this package."""

    @property
    def component(self) -> GatewayComponent:
        """The running slixmpp component (to register handlers of one's own)."""
        ...


class BackendView:
    """What ``Gateway`` shows its backend (implements ``XmppBackendContext``)."""

    def __init__(self, gateway: Gateway, storage: BackendStorage) -> None:
        self._gateway = gateway
        self._storage = storage
        self.component_jid = gateway.component_jid
        self.log: logging.Logger = gateway.log

    @property
    def component(self) -> GatewayComponent:
        return self._gateway.xmpp

    @property
    def store(self) -> BackendStorage:
        return self._storage

    @property
    def metrics(self) -> MetricsRegistry:
        return self._gateway.metrics

    async def deliver(self, message: XmppMessage, dedupe_key: str | None = None) -> bool:
        return await self._gateway.deliver(message, dedupe_key)

    async def deliver_many(
        self, messages: Sequence[XmppMessage], dedupe_key: str | None = None
    ) -> bool:
        return await self._gateway.deliver_many(messages, dedupe_key)

    async def confirm_delivery(self, legacy_id: str) -> None:
        await self._gateway.confirm_delivery(legacy_id)

    async def report_failure(self, legacy_id: str, error: StanzaErrorInfo) -> None:
        await self._gateway.report_failure(legacy_id, error)

    async def registered_user(self, user: str) -> Registration | None:
        return await self._gateway.registered_user(user)

    async def user_by_legacy_key(self, legacy_key: str) -> str | None:
        return await self._gateway.user_by_legacy_key(legacy_key)

    async def bind_registration(self, user: str, registration: Registration) -> bool:
        return await self._gateway.bind_registration(user, registration)

    async def may_use(self, user: str) -> bool:
        return await self._gateway.may_use(user)

    def is_admin(self, user: str) -> bool:
        return self._gateway.is_admin(user)
