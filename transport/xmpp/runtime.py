"""Wires a ``Gateway`` to its stanza handlers and runs it: start, serve, stop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from transport.core.backend import Backend
from transport.core.policy import AccessPolicy
from transport.observe.metrics import GatewayMetrics
from transport.store import Store
from transport.xmpp.adhoc import CommandSet
from transport.xmpp.admin_commands import AdminCommands
from transport.xmpp.backend_context import Gateway
from transport.xmpp.component import GatewayComponent
from transport.xmpp.disco import DiscoHandler
from transport.xmpp.help import GatewayHelp
from transport.xmpp.messages import MessageHandler
from transport.xmpp.presence import PresenceHandler
from transport.xmpp.queries import ContactQueries
from transport.xmpp.registration import RegistrationHandler
from transport.xmpp.registration_commands import RegistrationCommands
from transport.xmpp.user_presence import UserPresenceTracker

log = logging.getLogger(__name__)


class ComponentRuntime:
    """One component: its stream, gateway, handlers, queues and backend."""

    def __init__(
        self,
        xmpp: GatewayComponent,
        backend_cls: type[Backend[Any]],
        backend_settings: Any,
        store: Store,
        policy: AccessPolicy,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.xmpp = xmpp
        self.backend_name = backend_cls.name
        self._reconnects = None if metrics is None else \
            metrics.stream_reconnects.labels(backend_cls.name)
        self._sessions = 0
        self.gateway = gw = Gateway(xmpp, backend_cls, backend_settings, store, policy, metrics)
        self.presence = PresenceHandler(gw)
        self.user_presence = UserPresenceTracker(xmpp, gw.lifecycle, store)
        self.registration = RegistrationHandler(gw, self.presence)
        self.messages = MessageHandler(gw)
        admin = AdminCommands(gw, self.presence)
        self.commands = CommandSet(
            xmpp,
            [*RegistrationCommands(gw, self.presence).commands(), *admin.commands(),
             *gw.backend.commands()],
            policy.is_admin,
            gw.registered_user,
            policy.domain_allowed,
        )
        self.messages.help = GatewayHelp(gw, self.commands).text
        self.disco = DiscoHandler(gw, self.commands)
        self.queries = ContactQueries(gw)
        xmpp.add_event_handler("session_start", self._on_session_start)

    async def _on_session_start(self, _event: Any) -> None:
        self._sessions += 1
        if self._sessions > 1 and self._reconnects is not None:
            self._reconnects.inc()
        await self.presence.announce_all(available=True)

    # -- figures for the metrics (``transport.observe.components``) -----------------------

    @property
    def delivered(self) -> int:
        return self.gateway.pump.delivered

    @property
    def sent(self) -> int:
        return self.gateway.outbox.sent

    @property
    def failed(self) -> int:
        return self.gateway.outbox.failed

    @property
    def stream_up(self) -> bool:
        return self.xmpp.online.is_set()

    async def start(self) -> None:
        await self.gateway.backend.start()
        await self.gateway.lifecycle.start()
        await self.gateway.outbox.start()
        self.gateway.pump.start()
        self.xmpp.start()

    async def stop(self, flush_timeout: float = 3.0) -> None:
        """Stop taking work, let the backend say goodbye while the stream is still up, flush
        what it queued, then close the stream; whatever is left stays in the store.
        Users online stay so in the store: nobody is announced offline (see ``lifecycle``)."""
        await self.user_presence.stop()
        await self.gateway.lifecycle.stop()
        await self.gateway.outbox.stop()
        await self.gateway.backend.stop()
        if self.gateway.muc is not None:
            await self.gateway.muc.shutdown()
        if self.xmpp.online.is_set():
            await self.gateway.pump.drain(flush_timeout)
            await self.presence.announce_all(available=False)
            await self.xmpp.barrier(self.xmpp.server_domain)
        await self.gateway.pump.stop()
        await self.xmpp.stop()
        log.info("Component %s stopped", self.gateway.component_jid)

    async def wait_online(self, timeout: float) -> None:
        await asyncio.wait_for(self.xmpp.online.wait(), timeout)
