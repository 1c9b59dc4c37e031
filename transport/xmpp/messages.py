"""Messages from XMPP users: checked, committed to the outbox, or answered with an error."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slixmpp import JID
from slixmpp.xmlstream.handler import CoroutineCallback

from transport.core.errors import AddressError, GatewayError
from transport.core.events import Attachment, MessageType, OutgoingMessage, StanzaErrorInfo
from transport.core.ids import new_id
from transport.core.ordering import LaneTurns, Turn
from transport.core.policy import registration_required
from transport.xmpp.address_guard import error_reply
from transport.xmpp.backend_context import Gateway
from transport.xmpp.matchers import StanzaName
from transport.xmpp.namespaces import ADDRESS as ADDRESS_NS
from transport.xmpp.namespaces import OOB
from transport.xmpp.namespaces import RECEIPTS as RECEIPTS_NS
from transport.xmpp.namespaces import SID as SID_NS
from transport.xmpp.stanzas import bare

log = logging.getLogger(__name__)
_OOB_URL = f"{{{OOB}}}x/{{{OOB}}}url"

_OUTGOING_TYPES: dict[str, MessageType] = {
    "chat": "chat", "groupchat": "groupchat", "normal": "normal"}



class MessageHandler:
    """Routes ``<message/>`` stanzas addressed to the component and its contacts."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        # Each stanza is handled by its own task, and the checks before its outbox write
        # may or may not wait (a cached registration does not): per-user turns keep the
        # writes, hence the sends, in the order the stanzas arrived.
        self._turns = LaneTurns()
        #: Builds the answer to a text sent to the domain (``transport.xmpp.help``).
        self.help: Callable[[str], Awaitable[str]] | None = None
        gw.xmpp.register_handler(
            CoroutineCallback("transport messages", StanzaName("message"), self._on_message)
        )

    async def _on_message(self, msg: Any) -> None:
        if msg.xml.get("type") == "error":
            log.debug("Error from %s to %s ignored: %s", msg["from"], msg["to"],
                      msg["error"]["condition"])
            return
        sender = str(msg["from"])  # one JID parse per stanza: the hot path
        user = bare(sender)
        turn = self._turns.take(user)
        try:
            await self._route(msg, sender, user, turn)
        finally:
            self._turns.release(user, turn)

    async def _route(self, msg: Any, sender: str, user: str, turn: Turn) -> None:
        # Read from the XML itself: slixmpp's item access builds plugin objects per field,
        # a noticeable share of what relaying one line costs.
        xml = msg.xml
        mtype = xml.get("type") or "normal"
        to = msg["to"]  # valid: address_guard answered the others
        try:
            self.gw.policy.check_domain(user)
            addresses = msg.xml.find(f"{{{ADDRESS_NS}}}addresses")
            multicast = addresses is not None and ADDRESS_NS in self.gw.backend.features
            if not to.user and not multicast:
                await self._answer_gateway_chat(msg, user)
                return
            if self.gw.backend.registration is not None and \
                    await self.gw.registered_user(user) is None:
                raise registration_required()
            if multicast:
                recipients = self._recipients(addresses)
            else:
                recipients = [self.gw.backend.normalize_contact(to.user)]
        except GatewayError as exc:
            self._bounce(msg, StanzaErrorInfo(exc.condition, exc.text, exc.etype, exc.legacy_code))
            return
        body = xml.findtext(f"{{{msg.namespace}}}body") or ""
        oob_url = xml.findtext(_OOB_URL) or ""
        if not body and not oob_url:
            return  # chat states, markers and receipts carry nothing to send
        attachments: tuple[Attachment, ...] = ()
        if oob_url:
            attachments = (Attachment(url=oob_url),)
            if body.strip() == oob_url:
                body = ""
        origin = xml.find(f"{{{SID_NS}}}origin-id")
        stanza_id = (origin.get("id") if origin is not None else "") or xml.get("id") or \
            new_id()
        outgoing = OutgoingMessage(
            user=user,
            sender_full_jid=sender,
            contact=recipients[0],
            stanza_id=stanza_id,
            body=body,
            resource=to.resource,
            type=_OUTGOING_TYPES.get(mtype, "chat"),
            attachments=attachments,
            receipt_requested=xml.find(f"{{{RECEIPTS_NS}}}request") is not None,
            extra_recipients=tuple(recipients[1:]),
        )
        await turn.wait_to_queue()
        # Wakes the next stanza's task on a later loop turn; by then submit() has queued
        # this message's write (it does not suspend before that), so commits keep their order.
        turn.mark_queued()
        if not await self.gw.outbox.submit(outgoing):
            log.info("Duplicate stanza %s from %s ignored", stanza_id, user)

    def _recipients(self, addresses: Any) -> list[str]:
        """XEP-0033 to/cc/bcc addresses not yet delivered, as contact localparts."""
        out: list[str] = []
        for address in addresses.findall(f"{{{ADDRESS_NS}}}address"):
            if address.get("type") not in ("to", "cc", "bcc") or address.get("delivered"):
                continue
            if address.get("uri"):
                contact = self.gw.backend.contact_from_uri(address.get("uri"))
            else:
                jid = JID(address.get("jid") or "")
                if jid.domain != self.gw.component_jid or not jid.user:
                    raise AddressError(f"{jid} is not reachable through this gateway")
                contact = self.gw.backend.normalize_contact(jid.user)
            if contact not in out:
                out.append(contact)
        if not out:
            raise GatewayError("No recipient address", "bad-request", "modify")
        return out

    async def _answer_gateway_chat(self, msg: Any, user: str) -> None:
        """A text to the domain itself ("help", or anything else) is answered with what
        its sender can do here; chat states and other bodiless messages are not."""
        if not (msg.xml.findtext(f"{{{msg.namespace}}}body") or "").strip():
            return
        if self.help is None:
            return
        reply = self.gw.xmpp.make_message(
            mto=msg["from"], mfrom=self.gw.component_jid, mtype="chat",
            mbody=await self.help(user),
        )
        reply.send()

    def _bounce(self, msg: Any, error: StanzaErrorInfo) -> None:
        """Answer an unsendable message with an error to the full JID that sent it."""
        log.info("Refused message from %s to %s: %s", msg.xml.get("from"), msg.xml.get("to"),
                 error.condition)
        error_reply(self.gw.xmpp, msg, error)
