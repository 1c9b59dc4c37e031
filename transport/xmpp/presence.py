"""Presence subscriptions between users and contact JIDs, kept in the store.

Probes are answered from the store: the server only probes what its roster says the user
subscribes to, so an unknown pair is recorded rather than answered with ``unsubscribed``
(which after a restart would wipe the user's contact). A probe from someone who may not use
the gateway is answered ``unavailable`` and leaves no trace in the store.
"""

from __future__ import annotations

import logging
from typing import Any

from transport.core.errors import GatewayError
from transport.core.events import StanzaErrorInfo
from transport.core.policy import registration_required
from transport.xmpp.backend_context import Gateway
from transport.xmpp.contact_presence import render_contact_presence
from transport.xmpp.stanzas import bare, set_error

log = logging.getLogger(__name__)


class PresenceHandler:
    """Subscription requests, answers, probes; start-up and shut-down presences."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        xmpp = gw.xmpp
        xmpp.add_event_handler("presence_subscribe", self._on_subscribe)
        xmpp.add_event_handler("presence_subscribed", self._on_subscribed)
        xmpp.add_event_handler("presence_unsubscribe", self._on_unsubscribe)
        xmpp.add_event_handler("presence_unsubscribed", self._on_unsubscribed)
        xmpp.add_event_handler("presence_probe", self._on_probe)

    @property
    def online(self) -> dict[str, frozenset[str]]:
        """Users online here and their resources, for the status line (see ``lifecycle``)."""
        return self.gw.lifecycle.online

    @property
    def _registration_required(self) -> bool:
        """Only registered users' subscriptions are kept (a presence from someone who is
        not, or no longer, registered leaves nothing in the store)."""
        return self.gw.backend.registration is not None

    def _contact(self, pres: Any) -> str:
        """The contact localpart a presence is about ('' = the gateway itself)."""
        local = pres["to"].user
        return self.gw.backend.normalize_contact(local) if local else ""

    async def _check(self, pres: Any) -> str | None:
        """The normalised contact, or None after answering the sender with an error."""
        user = bare(pres["from"])
        try:
            self.gw.policy.check_domain(user)
            contact = self._contact(pres)
            if contact and not await self.gw.may_use(user):
                raise registration_required()
        except GatewayError as exc:
            err = self.gw.xmpp.make_presence(pto=pres["from"], pfrom=pres["to"], ptype="error")
            set_error(err, StanzaErrorInfo(exc.condition, exc.text, exc.etype, exc.legacy_code))
            err.send()
            return None
        return contact

    async def _on_subscribe(self, pres: Any) -> None:
        contact = await self._check(pres)
        if contact is None:
            return
        user = bare(pres["from"])
        sub = await self.gw.store.subscriptions.get(self.gw.component_jid, user, contact)
        await self.gw.store.subscriptions.set(
            self.gw.component_jid, user, contact, user_subscribed=True,
            registered_only=self._registration_required,
        )
        log.info("%s subscribed to %s", user, self.gw.contact_jid(contact))
        self.send(user, contact, "subscribed")
        self.send_current(user, contact)
        if sub is None or not sub.contact_subscribed:
            self.send(user, contact, "subscribe")

    async def _on_subscribed(self, pres: Any) -> None:
        contact = await self._check(pres)
        if contact is None:
            return
        await self.gw.store.subscriptions.set(
            self.gw.component_jid, bare(pres["from"]), contact, contact_subscribed=True,
            registered_only=self._registration_required,
        )

    async def _on_unsubscribe(self, pres: Any) -> None:
        contact = await self._check(pres)
        if contact is None:
            return
        user = bare(pres["from"])
        await self.gw.store.subscriptions.set(
            self.gw.component_jid, user, contact, user_subscribed=False
        )
        self.send(user, contact, "unsubscribed")
        self.send(user, contact, "unavailable")

    async def _on_unsubscribed(self, pres: Any) -> None:
        contact = await self._check(pres)
        if contact is not None:
            await self.gw.store.subscriptions.set(
                self.gw.component_jid, bare(pres["from"]), contact, contact_subscribed=False
            )

    async def _on_probe(self, pres: Any) -> None:
        user = bare(pres["from"])
        try:
            contact = self._contact(pres)
        except GatewayError:
            self.gw.xmpp.make_presence(pto=user, pfrom=pres["to"], ptype="unavailable").send()
            return
        if not await self.gw.may_use(user):
            # Not a user of ours (domain not allowed, or not registered where the backend
            # needs it): answered, but nothing about them is written to the store.
            self.send(user, contact, "unavailable")
            return
        sub = await self.gw.store.subscriptions.get(self.gw.component_jid, user, contact)
        if sub is None or not sub.user_subscribed:
            await self.gw.store.subscriptions.set(
                self.gw.component_jid, user, contact, user_subscribed=True
            )
        self.send_current(user, contact)

    def send(self, user: str, contact: str, ptype: str | None = None) -> None:
        """A presence from a contact (or the gateway) to a user's bare JID."""
        kwargs: dict[str, Any] = {"pto": user, "pfrom": self.gw.contact_jid(contact)}
        if ptype:
            kwargs["ptype"] = ptype
        self.gw.xmpp.make_presence(**kwargs).send()

    def send_current(self, user: str, contact: str) -> None:
        """The contact's state: as the backend last pushed it, else ``contact_available``."""
        pushed = self.gw.contact_presences.of(user, contact)
        if pushed is None:
            available = not contact or self.gw.backend.contact_available(user, contact)
            self.send(user, contact, None if available else "unavailable")
        elif not pushed:
            self.send(user, contact, "unavailable")
        else:
            self.gw.xmpp.send("".join(
                render_contact_presence(self.gw.contact_jid(contact, resource), user, state)
                for resource, state in pushed.items()))

    async def announce_all(self, available: bool) -> None:
        """Start-up/shut-down: tell registered and subscribed users our state."""
        component = self.gw.component_jid
        users = {r.jid for r in await self.gw.store.users.list(component)}
        users.update(await self.gw.store.subscriptions.users(component))
        for user in sorted(users):
            if available:
                self.send_current(user, "")
            else:
                self.send(user, "", "unavailable")
            for sub in await self.gw.store.subscriptions.for_user(component, user):
                if sub.contact and sub.user_subscribed:
                    if available:
                        self.send_current(user, sub.contact)
                    else:
                        self.send(user, sub.contact, "unavailable")

    async def contacts_of(self, user: str) -> list[str]:
        """The contacts (and the gateway, '') a user has a subscription with."""
        subscriptions = await self.gw.store.subscriptions.for_user(self.gw.component_jid, user)
        return sorted({s.contact for s in subscriptions} | {""})

    def farewell(self, user: str, contacts: list[str]) -> None:
        """XEP-0100 unregistration: unsubscribe and go offline for every contact and us.

        Sent once the user's data is gone, so that the answers their server sends back
        find nothing to update (and write nothing: see ``registered_only``)."""
        self.gw.contact_presences.forget(user)
        for contact in contacts:
            for ptype in ("unsubscribe", "unsubscribed", "unavailable"):
                self.send(user, contact, ptype)
