"""XEP-0077 registration and the XEP-0100 ``jabber:iq:gateway`` prompt.

The backend describes the fields and validates the values; the store keeps the result
(unique legacy key per component, hence ``conflict``); these handlers speak the protocol.
A backend may hold a valid request back (for an admin's approval): the IQ is answered with
success and a chat message from the component tells the user it waits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from slixmpp import Iq
from slixmpp.exceptions import XMPPError
from slixmpp.plugins.xep_0004 import Form
from slixmpp.plugins.xep_0077.stanza import Register
from slixmpp.xmlstream import ElementBase, register_stanza_plugin
from slixmpp.xmlstream.handler import CoroutineCallback

from transport.core.backend import PendingRegistration
from transport.core.errors import GatewayError, RegistrationRefused
from transport.core.events import XmppMessage
from transport.xmpp.backend_context import Gateway
from transport.xmpp.forms import form_values, make_form, missing_required
from transport.xmpp.matchers import IqChild
from transport.xmpp.namespaces import DATA_FORMS
from transport.xmpp.namespaces import GATEWAY as GATEWAY_NS
from transport.xmpp.namespaces import REGISTER as REGISTER_NS
from transport.xmpp.presence import PresenceHandler
from transport.xmpp.stanzas import bare, xmpp_error

log = logging.getLogger(__name__)



class GatewayQuery(ElementBase):
    """``<query xmlns='jabber:iq:gateway'>`` (XEP-0100 section 6.3)."""

    namespace = GATEWAY_NS
    name = "query"
    plugin_attrib = "gateway"
    interfaces: ClassVar[set[str]] = {"desc", "prompt", "jid"}
    sub_interfaces = interfaces


register_stanza_plugin(Iq, Register)
register_stanza_plugin(Register, Form)
register_stanza_plugin(Iq, GatewayQuery)


class RegistrationHandler:
    """``jabber:iq:register`` get/set/remove and ``jabber:iq:gateway`` on the domain."""

    def __init__(self, gw: Gateway, presence: PresenceHandler) -> None:
        self.gw = gw
        self.presence = presence
        xmpp = gw.xmpp
        xmpp.register_handler(
            CoroutineCallback("transport register", IqChild(REGISTER_NS, "query"),
                              self._on_register)
        )
        xmpp.register_handler(
            CoroutineCallback("transport gateway", IqChild(GATEWAY_NS, "query"),
                              self._on_gateway)
        )

    def _check_target(self, iq: Any) -> str:
        if iq["type"] not in ("get", "set"):
            raise XMPPError("bad-request")
        if iq["to"].user or iq["to"].resource:
            raise XMPPError("service-unavailable")
        user = bare(iq["from"])
        if not self.gw.policy.domain_allowed(user):
            raise XMPPError("forbidden", "Users of this server may not use this gateway",
                            etype="auth")
        return user

    async def _on_register(self, iq: Any) -> None:
        user = self._check_target(iq)
        spec = self.gw.backend.registration
        if spec is None:
            raise XMPPError("service-unavailable", "This gateway needs no registration")
        if iq["type"] == "get":
            await self._send_form(iq, user)
        elif iq["register"]["remove"]:
            await self._remove(iq, user)
        else:
            await self._register(iq, user)

    async def _send_form(self, iq: Any, user: str) -> None:
        spec = self.gw.backend.registration
        assert spec is not None
        current = await self.gw.registered_user(user)
        values = current.data if current else {}
        reply = iq.reply()
        reply["register"]["instructions"] = spec.instructions
        legacy = [f.var for f in spec.fields if f.var in Register.form_fields]
        reply["register"]["fields"] = legacy
        if current is not None:
            reply["register"]["registered"] = True
            for var in legacy:
                field = next(f for f in spec.fields if f.var == var)
                if var in values and field.type != "text-private":
                    reply["register"][var] = values[var]
        reply["register"].append(make_form(
            self.gw.xmpp, spec.fields, title=f"Register with {self.gw.component_jid}",
            instructions=spec.instructions, form_type=REGISTER_NS, values=values,
        ))
        reply.send()

    async def _register(self, iq: Any, user: str) -> None:
        query = iq["register"]
        if query.xml.find(f"{{{DATA_FORMS}}}x") is not None:
            values = {k: field_text(v) for k, v in form_values(query["form"]).items()}
        else:
            values = {f: query[f] for f in query["fields"]}
        try:
            outcome = await submit(self.gw, user, values)
        except GatewayError as exc:
            raise xmpp_error(exc) from exc
        iq.reply().send()
        await announce(self.gw, user, outcome)

    async def _remove(self, iq: Any, user: str) -> None:
        if not await unregister(self.gw, self.presence, user):
            if not await self.gw.backend.withdraw_registration(user):
                raise XMPPError("registration-required", "You are not registered",
                                etype="auth")
            log.info("%s withdrew a held registration request on %s",
                     user, self.gw.component_jid)
        else:
            log.info("%s unregistered from %s", user, self.gw.component_jid)
        iq.reply().send()

    async def _on_gateway(self, iq: Any) -> None:
        self._check_target(iq)
        if iq["type"] == "get":
            desc, prompt = self.gw.backend.gateway_prompt()
            reply = iq.reply()
            reply["gateway"]["desc"] = desc
            reply["gateway"]["prompt"] = prompt
            reply.send()
            return
        text = iq["gateway"]["prompt"].strip()
        if not text:
            raise XMPPError("bad-request", "Empty prompt", etype="modify")
        try:
            local = await self.gw.backend.translate_prompt(text)
        except GatewayError as exc:
            raise XMPPError("not-acceptable", exc.text, etype="modify") from exc
        reply = iq.reply()
        reply["gateway"]["jid"] = self.gw.contact_jid(local)
        reply.send()


@dataclass(frozen=True, slots=True)
class Submitted:
    """What became of a registration request: held for an admin, or bound (``new`` unless
    it only changed an existing registration)."""

    held: PendingRegistration | None
    new: bool


async def submit(gw: Gateway, user: str, values: Mapping[str, Any]) -> Submitted:
    """Validate and bind (or hold) ``user``'s registration: the one path behind the XEP-0077
    IQ and the ``register`` command, so both give the same answers and errors."""
    spec = gw.backend.registration
    if spec is None:
        raise GatewayError("This gateway needs no registration", "service-unavailable")
    missing = missing_required(spec.fields, values)
    if missing:
        raise RegistrationRefused("Missing: " + ", ".join(missing))
    registration = await gw.backend.validate_registration(user, values)
    held = await gw.backend.hold_registration(user, registration)
    if held is not None:
        return Submitted(held, new=False)
    return Submitted(None, await gw.bind_registration(user, registration, greet=False))


async def announce(gw: Gateway, user: str, outcome: Submitted) -> None:
    """After the request was answered: tell a held request's user it waits, greet a new one."""
    if outcome.held is not None:
        log.info("%s asked to register with %s; the request is held", user, gw.component_jid)
        await gw.deliver(XmppMessage(to=user, sender=gw.component_jid,
                                     body=outcome.held.notice))
    elif outcome.new:
        gw.greet(user)


async def unregister(gw: Gateway, presence: PresenceHandler, user: str) -> bool:
    """Say goodbye and delete everything of ``user``, in the store and in the backend, so
    that a legacy key (an SMS number) they release passes on with nothing of theirs;
    False when they were not registered. A user who was online is announced offline to
    the backend before ``on_unregistered``."""
    registration = await gw.registered_user(user)
    if registration is None:
        return False
    contacts = await presence.contacts_of(user)
    await gw.store.users.remove(gw.component_jid, user)
    presence.farewell(user, contacts)
    await gw.lifecycle.unregistered(user, registration)
    return True


def field_text(value: Any) -> str:
    """A submitted form value as the text the backend validates."""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)
