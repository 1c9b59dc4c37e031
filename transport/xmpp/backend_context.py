"""One component domain at work: its stream, its backend, its queues and handlers.

The backend sees the ``Gateway`` through a ``BackendView``, its ``BackendContext``: the
gateway's ``store`` is the whole store (the core's handlers need its repositories) while a
backend's is its prefixed ``BackendStorage``. The stanza handlers live in sibling modules
and reach the backend and the store only through the gateway.

No backend sees the stream: contacts' presences (``contact_presence``) and room
stanzas leave through the delivery pump's ``send_in_turn``, behind the messages queued
before them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, NoReturn, cast

from transport.core.backend import Backend, BackendStorage, Show
from transport.core.errors import RegistrationRefused
from transport.core.events import OutgoingMessage, Registration, StanzaErrorInfo, XmppMessage
from transport.core.lifecycle import UserLifecycle
from transport.core.metrics import MetricsRegistry
from transport.core.outbox import OutboxDispatcher
from transport.core.policy import AccessPolicy
from transport.core.reports import DeliveryReports
from transport.core.rooms import RoomEvents
from transport.observe.metrics import TO_LEGACY, TO_XMPP, GatewayMetrics
from transport.store import LegacyKeyTaken, Store
from transport.xmpp.component import GatewayComponent
from transport.xmpp.contact_presence import (
    SHOWS,
    ContactPresences,
    ContactState,
    render_contact_presence,
)
from transport.xmpp.delivery import DeliveryPump
from transport.xmpp.muc.service import MucService

log = logging.getLogger(__name__)


class _NoRooms:
    """``ctx.rooms`` of a backend without ``Backend.rooms``: using it is a mistake."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> NoReturn:
        raise RuntimeError(f"{self._name} has no rooms (Backend.rooms is None)")


class BackendView:
    """What ``Gateway`` shows its backend (implements ``BackendContext``).

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
        self.contact_presence = gateway.contact_presence
        self.confirm_delivery = gateway.confirm_delivery
        self.report_failure = gateway.report_failure
        self.registered_user = gateway.registered_user
        self.user_by_legacy_key = gateway.user_by_legacy_key
        self.online_users = gateway.online_users
        self.may_use = gateway.may_use
        self.is_admin = gateway.is_admin
        # An attribute, not a property: IRC reads it for every relayed channel line.
        self.rooms: RoomEvents = cast(RoomEvents, _NoRooms(gateway.log.name))

    @property
    def store(self) -> BackendStorage:
        return self._storage

    @property
    def metrics(self) -> MetricsRegistry:
        return self._gateway.metrics

    async def bind_registration(self, user: str, registration: Registration) -> bool:
        """Without the gateway's ``greet`` switch: a backend's binding always greets."""
        return await self._gateway.bind_registration(user, registration)


class Gateway:
    """Runs one backend on one component domain."""

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
        self.component_jid = str(xmpp.boundjid.bare)
        self.log = logging.getLogger(f"transport.backends.{backend_cls.name}")
        self._store = store
        self.policy = policy
        self._metrics = metrics if metrics is not None else GatewayMetrics()
        latency = self._metrics.delivery_seconds
        view = BackendView(self, store.backend_storage(backend_cls.name))
        self.contact_presences = ContactPresences()
        self.backend = backend_cls(view, backend_settings)
        self.pump = DeliveryPump(xmpp, store,
                                 observe=latency.labels(backend_cls.name, TO_XMPP).observe)
        self.reports = DeliveryReports(self.component_jid, store, self.deliver, self.contact_jid)
        self.outbox = OutboxDispatcher(
            self.component_jid, self.backend, store, self._report_error, self._report_receipt,
            self.reports.mapped, observe=latency.labels(backend_cls.name, TO_LEGACY).observe,
        )
        self.received = 0
        self.lifecycle = UserLifecycle(self.component_jid, self.backend, store.online_users,
                                       self.may_use)
        self.muc: MucService | None = None
        if self.backend.rooms is not None:
            self.muc = MucService(xmpp, self.component_jid, self.backend.rooms,
                                  self.deliver_many, self.pump.send_in_turn, self.may_use)
            view.rooms = self.muc.events

    # -- what BackendView passes on ------------------------------------------------------

    @property
    def store(self) -> Store:
        return self._store

    @property
    def metrics(self) -> GatewayMetrics:
        return self._metrics

    @property
    def rooms(self) -> RoomEvents:
        if self.muc is None:
            raise RuntimeError(f"{self.backend.name} has no rooms (Backend.rooms is None)")
        return self.muc.events

    async def deliver(self, message: XmppMessage, dedupe_key: str | None = None) -> bool:
        queued: bool = await self._store.xmpp_queue.enqueue(
            self.component_jid, [message], dedupe_key
        )
        if queued:
            self.received += 1
            self.pump.wake()
        return queued

    async def deliver_many(
        self, messages: Sequence[XmppMessage], dedupe_key: str | None = None
    ) -> bool:
        if not messages:
            return True
        queued: bool = await self._store.xmpp_queue.enqueue(
            self.component_jid, list(messages), dedupe_key
        )
        if queued:
            self.received += len(messages)
            self.pump.wake()
        return queued

    async def contact_presence(
        self, user: str, localpart: str, *, available: bool = True, show: Show | None = None,
        status: str | None = None, resource: str = "",
    ) -> None:
        if show is not None and show not in SHOWS:
            raise ValueError(f"show must be one of {sorted(SHOWS)}, not {show!r}")
        state = ContactState(show, status) if available else None
        if state is None:
            self.contact_presences.unavailable(user, localpart, resource)
        else:
            self.contact_presences.available(user, localpart, resource, state)
        log.debug("%s shows %s to %s", self.contact_jid(localpart, resource),
                  show or ("available" if available else "unavailable"), user)
        self.pump.send_in_turn(render_contact_presence(
            self.contact_jid(localpart, resource), user, state,
            None if available else status))

    async def confirm_delivery(self, legacy_id: str) -> None:
        await self.reports.confirm(legacy_id)

    async def report_failure(self, legacy_id: str, error: StanzaErrorInfo) -> None:
        await self.reports.fail(legacy_id, error)

    async def registered_user(self, user: str) -> Registration | None:
        record = await self._store.users.get(self.component_jid, user)
        if record is None:
            return None
        return Registration(legacy_key=record.legacy_key, data=dict(record.data))

    async def user_by_legacy_key(self, legacy_key: str) -> str | None:
        record = await self._store.users.by_legacy_key(self.component_jid, legacy_key)
        return None if record is None else str(record.jid)

    async def online_users(self) -> list[str]:
        return await self._store.online_users.list(self.component_jid)

    def is_admin(self, user: str) -> bool:
        return self.policy.is_admin(user)

    async def bind_registration(
        self, user: str, registration: Registration, *, greet: bool = True
    ) -> bool:
        """Store the registration; True when ``user`` is new. ``greet=False`` leaves the
        XEP-0100 presences to a caller that must answer its IQ first."""
        was = await self.registered_user(user)
        try:
            await self._store.users.upsert(
                self.component_jid, user, registration.legacy_key, registration.data
            )
        except LegacyKeyTaken as exc:
            raise RegistrationRefused(
                f"This {self.backend.legacy_key_name} is already registered by another user",
                "conflict", "cancel") from exc
        log.info("%s %s with %s", user, "re-registered" if was else "registered",
                 self.component_jid)
        if was != registration:
            self.lifecycle.registered(user, registration, was)
        if was is None and greet:
            self.greet(user)
        return was is None

    def greet(self, user: str) -> None:
        """XEP-0100 after a registration: ask to subscribe, and show the gateway online."""
        self.xmpp.make_presence(pto=user, pfrom=self.component_jid, ptype="subscribe").send()
        self.xmpp.make_presence(pto=user, pfrom=self.component_jid).send()

    # -- helpers for the handlers ---------------------------------------------------------

    def contact_jid(self, localpart: str, resource: str = "") -> str:
        jid = f"{localpart}@{self.component_jid}" if localpart else self.component_jid
        return f"{jid}/{resource}" if resource else jid

    async def may_use(self, user: str) -> bool:
        """Registered, or no registration needed, and from an allowed domain."""
        if not self.policy.domain_allowed(user):
            return False
        return self.backend.registration is None or await self.registered_user(user) is not None

    async def _report_error(self, message: OutgoingMessage, error: StanzaErrorInfo) -> None:
        await self.deliver(XmppMessage(
            to=message.sender_full_jid,
            sender=self.contact_jid(message.contact, message.resource),
            type="error",
            id=message.stanza_id,
            body=message.body or None,
            error=error,
        ))

    async def _report_receipt(self, message: OutgoingMessage) -> None:
        await self.deliver(XmppMessage(
            to=message.sender_full_jid,
            sender=self.contact_jid(message.contact, message.resource),
            receipt_for=message.stanza_id,
        ))
