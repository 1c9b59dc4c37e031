"""XMPP -> backend for bodiless room messages: subject changes, invitations, errors.

Messages with a body go through the core's message handler to ``Backend.send`` like any
other; these carry no text and are about the room itself.
"""

from __future__ import annotations

import logging
from typing import Any
from xml.etree import ElementTree as ET

from transport.core.errors import GatewayError
from transport.core.events import MucInvite, StanzaErrorInfo, XmppMessage
from transport.xmpp.muc import xml
from transport.xmpp.muc.context import MucContext
from transport.xmpp.muc.joins import JoinHandler
from transport.xmpp.render import render_message
from transport.xmpp.stanzas import bare, error_condition, set_error

log = logging.getLogger(__name__)
# A client answering a room message with one of these is gone: its resource leaves.
KICKABLE = frozenset({"recipient-unavailable", "gone", "item-not-found",
                      "service-unavailable", "remote-server-not-found", "not-acceptable"})


class NoticeHandler:
    """Handles bodiless messages to room JIDs."""

    def __init__(self, ctx: MucContext, joins: JoinHandler) -> None:
        self.ctx = ctx
        self.joins = joins

    async def on_message(self, msg: Any) -> None:
        room = self.ctx.room_key(msg["to"])
        if room is None:
            return
        user, full = bare(msg["from"]), str(msg["from"])
        state = self.ctx.occupancy.get(user, room)
        if state is None:
            return
        if msg["type"] == "error":
            if error_condition(msg) in KICKABLE and full in state.resources:
                log.info("%s errors in %s: it leaves the room", full, room)
                await self.joins.leave(user, room, full, "")
            return
        if msg["body"] or full not in state.resources:
            return
        try:
            subject = msg.xml.find(f"{{{msg.namespace}}}subject")
            if subject is not None and msg["type"] == "groupchat":
                await self.ctx.hooks.set_subject(user, room, subject.text or "")
            x = msg.xml.find(f"{{{xml.MUC_USER}}}x")
            for invite in x.findall(f"{{{xml.MUC_USER}}}invite") if x is not None else ():
                await self._invite(user, room, full, invite)
        except GatewayError as exc:
            self._refuse(msg, exc)

    async def _invite(self, user: str, room: str, full: str, invite: ET.Element) -> None:
        to = invite.get("to") or ""
        reason = invite.findtext(f"{{{xml.MUC_USER}}}reason") or ""
        local, _, rest = to.partition("@")
        domain, _, resource = rest.partition("/")
        if not rest:
            local, domain, resource = "", local.partition("/")[0], local.partition("/")[2]
        if domain == self.ctx.component_jid:
            if local:
                await self.ctx.hooks.invite(user, room, local, resource, reason)
            return
        if not to:
            return
        state = self.ctx.occupancy.get(user, room)
        self.ctx.xmpp.send(render_message(XmppMessage(
            to=to, sender=self.ctx.room_jid(state, room), type="normal",
            invite=MucInvite(full, reason))))

    def _refuse(self, msg: Any, exc: GatewayError) -> None:
        reply = self.ctx.xmpp.make_message(mto=msg["from"], mfrom=msg["to"], mtype="error")
        if msg["id"]:
            reply["id"] = msg["id"]
        set_error(reply, StanzaErrorInfo(exc.condition, exc.text, exc.etype))
        reply.send()
