"""``muc#owner`` on a room: the channel's configure form (the ad-hoc one, as biboumi)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from transport.backends.irc.addressing import NetworkInfo, parse
from transport.backends.irc.from_xmpp.commands import IrcCommands
from transport.backends.irc.muc.stanzas import MUC_OWNER
from transport.core.errors import GatewayError
from transport.xmpp.forms import form_values, make_form

DATA = "jabber:x:data"


class OwnerForm:
    """Answers get (the form) and set (submit or cancel) on a channel JID."""

    def __init__(self, xmpp: Any, commands: IrcCommands, info: NetworkInfo) -> None:
        self.xmpp = xmpp
        self.commands = commands
        self.info = info

    async def handle(self, user: str, localpart: str, itype: str, iq: Any) -> Any:
        address = parse(localpart, self.info)
        folded = self.info.fold(address.server, address.name)
        reply = iq.reply(clear=True)
        if itype == "get":
            fields = await self.commands.channel_form_fields(user, address.server, folded)
            query = ET.SubElement(reply.xml, f"{{{MUC_OWNER}}}query")
            form = make_form(self.xmpp, fields, title=f"Configure {address.name}")
            query.append(form.xml)
            return reply
        if itype != "set":
            raise GatewayError("Expected get or set", "bad-request", "modify")
        x = iq.xml.find(f"{{{MUC_OWNER}}}query/{{{DATA}}}x")
        if x is None or x.get("type") == "cancel":
            return reply
        if x.get("type") != "submit":
            raise GatewayError("Expected a submitted form", "bad-request", "modify")
        form = self.xmpp.plugin["xep_0004"].build_form(x)
        error = await self.commands.apply_channel_form(
            user, address.server, folded, form_values(form))
        if error is not None:
            raise GatewayError(error, "not-acceptable", "modify")
        return reply
