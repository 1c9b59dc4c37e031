"""The ``BackendContext`` a backend gets: the gateway's public calls, and its own storage.

Kept apart from ``Gateway`` because the gateway's ``store`` is the whole store (the core's
handlers need its repositories) while a backend's is its prefixed ``BackendStorage``.
``XmppBackendContext`` adds the running component, for the in-tree backends that still
serve XMPP features the core does not model themselves (IRC's rooms); it is not part of
the public backend API.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from transport.core.backend import BackendContext, BackendStorage
from transport.core.events import Registration
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
    """What ``Gateway`` shows its backend (implements ``XmppBackendContext``).

    The calls are the gateway's own bound methods, not wrappers: ``deliver`` is on the
    relay's hot path and pays no extra call for the indirection.
    """

    def __init__(self, gateway: Gateway, storage: BackendStorage) -> None:
        self._gateway = gateway
        self._storage = storage
        self.component_jid = gateway.component_jid
        self.log: logging.Logger = gateway.log
        self.deliver = gateway.deliver
        self.deliver_many = gateway.deliver_many
        self.confirm_delivery = gateway.confirm_delivery
        self.report_failure = gateway.report_failure
        self.registered_user = gateway.registered_user
        self.user_by_legacy_key = gateway.user_by_legacy_key
        self.may_use = gateway.may_use
        self.is_admin = gateway.is_admin

    @property
    def component(self) -> GatewayComponent:
        return self._gateway.xmpp

    @property
    def store(self) -> BackendStorage:
        return self._storage

    @property
    def metrics(self) -> MetricsRegistry:
        return self._gateway.metrics

    async def bind_registration(self, user: str, registration: Registration) -> bool:
        """Without the gateway's ``greet`` switch: a backend's binding always greets."""
        return await self._gateway.bind_registration(user, registration)
