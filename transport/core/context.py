"""What the core offers a running backend: ``Backend.ctx``.

Kept apart from ``transport.core.backend`` (which re-exports it) so that each stays short;
like the rest of the public API it imports only the standard library and the core.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal, Protocol

from transport.core.events import Registration, StanzaErrorInfo, XmppMessage
from transport.core.metrics import MetricsRegistry
from transport.core.rooms import RoomEvents
from transport.core.storage import BackendStorage

Show = Literal["away", "chat", "dnd", "xa"]
"""A presence's ``<show/>`` (RFC 6121 4.7.2.1); no show is plain available."""


class BackendContext(Protocol):
    """What the core offers a running backend."""

    component_jid: str
    log: logging.Logger

    @property
    def store(self) -> BackendStorage:
        """The backend's own tables (``<name>_...``), through the core's single writer."""

    @property
    def metrics(self) -> MetricsRegistry:
        """The process's metrics: a backend declares its own (bounded labels only)."""

    @property
    def rooms(self) -> RoomEvents:
        """The MUC service of a backend with ``Backend.rooms``, once ``__init__`` returned
        (``RuntimeError`` for a backend without rooms): what happens in its rooms."""

    async def deliver(self, message: XmppMessage, dedupe_key: str | None = None) -> bool:
        """Queue a message for an XMPP user durably; returns once it is committed.

        Returns False when ``dedupe_key`` was already queued (a retried legacy event).
        """

    async def deliver_many(
        self, messages: Sequence[XmppMessage], dedupe_key: str | None = None
    ) -> bool:
        """Queue several messages in one commit, in order; False when ``dedupe_key`` was seen."""

    async def contact_presence(
        self, user: str, localpart: str, *, available: bool = True, show: Show | None = None,
        status: str | None = None, resource: str = "",
    ) -> None:
        """Show a contact (``localpart`` as ``normalize_contact`` returns it; '' for the
        gateway) online, away, ... or offline to ``user`` (a bare JID).

        Sent after every message handed to ``deliver`` before it, never ahead of one. The
        core remembers the state for probes, subscriptions and its start-up announcement
        (``contact_available`` answers only for contacts never pushed) until the user
        unregisters or the gateway restarts. ``resource`` shows one of several resources;
        unavailable with ``resource=""`` takes them all offline.
        """

    async def confirm_delivery(self, legacy_id: str) -> None:
        """The legacy side delivered ``legacy_id``: send the receipt if one was asked for."""

    async def report_failure(self, legacy_id: str, error: StanzaErrorInfo) -> None:
        """The legacy side failed ``legacy_id`` after accepting it: tell the sender."""

    async def registered_user(self, user: str) -> Registration | None:
        """The registration of a bare JID on this component, if any."""

    async def user_by_legacy_key(self, legacy_key: str) -> str | None:
        """The bare JID registered with ``legacy_key`` on this component, if any."""

    async def bind_registration(self, user: str, registration: Registration) -> bool:
        """Register ``user`` as an XEP-0077 request would, for a registration the backend
        held back or an admin made; True when the user was not registered before.

        A new user gets the XEP-0100 subscription request and available presence. Raises
        ``RegistrationRefused`` (``conflict``) when another user holds the legacy key.
        """

    async def online_users(self) -> Sequence[str]:
        """The bare JIDs the core holds online on this domain, sorted, as stored.

        Read it in ``start()`` to restore the legacy sessions of users who stayed online
        through a restart: they get no second ``on_user_online`` (they never logged out),
        and those the resync finds gone get ``on_user_offline`` after ``start()`` returned.
        """

    async def may_use(self, user: str) -> bool:
        """Whether a bare JID may use the gateway (allowed domain; registered if needed).

        For stanzas the core does not route to the backend (MUC presences, say).
        """

    def is_admin(self, user: str) -> bool:
        """Whether a bare JID is one of the gateway's admins."""
