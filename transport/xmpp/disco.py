"""XEP-0030 answers for the component domain and every contact JID.

One global handler replaces slixmpp's static tables so that contact JIDs (which exist
without being declared) answer with the backend's identity, and so that the command list
is filtered per requester.
"""

from __future__ import annotations

from typing import Any

from slixmpp import JID
from slixmpp.exceptions import XMPPError
from slixmpp.plugins.xep_0030 import DiscoInfo, DiscoItems

from transport.core.errors import GatewayError
from transport.xmpp.adhoc import CommandSet
from transport.xmpp.gateway import Gateway
from transport.xmpp.stanzas import bare, xmpp_error

COMMANDS_NS = "http://jabber.org/protocol/commands"
BASE_FEATURES = (
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/disco#items",
    COMMANDS_NS,
    "jabber:iq:version",
    "urn:xmpp:ping",
    "jabber:iq:gateway",
    "jid\\20escaping",
    "urn:xmpp:sid:0",
)


class DiscoHandler:
    """Answers disco#info and disco#items for everything under the component domain."""

    def __init__(self, gw: Gateway, commands: CommandSet) -> None:
        self.gw = gw
        self.commands = commands
        disco = gw.xmpp.plugin["xep_0030"]
        disco.set_node_handler("get_info", None, None, self._get_info)
        disco.set_node_handler("get_items", None, None, self._get_items)

    def component_features(self) -> list[str]:
        features = list(BASE_FEATURES)
        if self.gw.backend.registration is not None:
            features.append("jabber:iq:register")
        features.extend(f for f in self.gw.backend.features if f not in features)
        return features

    async def _get_info(self, jid: Any, node: str | None, ifrom: Any, _data: Any) -> DiscoInfo:
        info = DiscoInfo()
        if jid.user:
            try:
                contact = self.gw.backend.normalize_contact(jid.user)
            except GatewayError as exc:
                raise xmpp_error(exc) from exc
            if node:
                raise XMPPError("item-not-found")
            described = self.gw.backend.contact_info(contact)
            for ident in described.identities:
                info.add_identity(ident.category, ident.type, described.name or ident.name)
            for feature in ("http://jabber.org/protocol/disco#info", "urn:xmpp:ping",
                            *described.features):
                info.add_feature(feature)
            return info
        if node == COMMANDS_NS:
            info.add_identity("automation", "command-list", "Ad-hoc commands")
            info.add_feature("http://jabber.org/protocol/disco#info")
            return info
        if node:
            command = self.commands.commands.get(node)
            if command is None or command not in await self.commands.visible(bare(ifrom)):
                raise XMPPError("item-not-found")
            info.add_identity("automation", "command-node", command.name)
            info.add_feature(COMMANDS_NS)
            info.add_feature("jabber:x:data")
            return info
        for ident in self.gw.backend.identities:
            info.add_identity(ident.category, ident.type, ident.name)
        for feature in self.component_features():
            info.add_feature(feature)
        return info

    async def _get_items(self, jid: Any, node: str | None, ifrom: Any, _data: Any) -> DiscoItems:
        items = DiscoItems()
        if jid.user:
            return items
        if node == COMMANDS_NS:
            for command in await self.commands.visible(bare(ifrom)):
                items.add_item(JID(self.gw.component_jid), command.node, command.name)
        elif node:
            raise XMPPError("item-not-found")
        return items
