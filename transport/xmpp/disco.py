"""XEP-0030 answers for the component domain and every contact JID.

One global handler replaces slixmpp's static tables so that contact JIDs (which exist
without being declared) answer with the backend's identity, and so that the command list
is filtered per requester.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from slixmpp import JID
from slixmpp.exceptions import XMPPError
from slixmpp.jid import InvalidJID
from slixmpp.plugins.xep_0030 import DiscoInfo, DiscoItems
from slixmpp.xmlstream.handler import CoroutineCallback

from transport.core.backend import ContactInfo, ItemsPage, PageRequest
from transport.core.errors import GatewayError
from transport.xmpp.adhoc import CommandSet
from transport.xmpp.backend_context import Gateway
from transport.xmpp.forms import make_form
from transport.xmpp.matchers import IqChild
from transport.xmpp.namespaces import (
    COMMANDS,
    DATA_FORMS,
    DISCO_INFO,
    DISCO_ITEMS,
    GATEWAY,
    PING,
    REGISTER,
    RSM,
    SID,
    VERSION,
)
from transport.xmpp.stanzas import bare, xmpp_error

log = logging.getLogger(__name__)

BASE_FEATURES = (
    DISCO_INFO,
    DISCO_ITEMS,
    COMMANDS,
    VERSION,
    PING,
    GATEWAY,
    "jid\\20escaping",
    SID,
)


class DiscoHandler:
    """Answers disco#info and disco#items for everything under the component domain."""

    def __init__(self, gw: Gateway, commands: CommandSet) -> None:
        self.gw = gw
        self.commands = commands
        disco = gw.xmpp.plugin["xep_0030"]
        disco.set_node_handler("get_info", None, None, self._get_info)
        disco.set_node_handler("get_items", None, None, self._get_items)
        # slixmpp's disco handlers take a ``set`` too and leave it unanswered.
        for namespace in (DISCO_INFO, DISCO_ITEMS):
            gw.xmpp.register_handler(CoroutineCallback(
                f"disco set {namespace}", IqChild(namespace, "query", "set"), self._on_set))

    async def _on_set(self, _iq: Any) -> None:
        raise XMPPError("feature-not-implemented", "Service discovery is read-only")

    def component_features(self) -> list[str]:
        features = list(BASE_FEATURES)
        if self.gw.backend.registration is not None:
            features.append(REGISTER)
        features.extend(f for f in self.gw.backend.features if f not in features)
        return features

    async def _get_info(self, jid: Any, node: str | None, ifrom: Any, _data: Any) -> DiscoInfo:
        info = DiscoInfo()
        if jid.user and node and (node == COMMANDS or node in self.commands.commands):
            return await self._command_info(info, node, bare(ifrom), jid.user)
        if jid.user:
            try:
                described = await self.gw.backend.disco_info(
                    bare(ifrom), jid.user, jid.resource, node or None)
                if described is None and self.gw.muc is not None and not node:
                    described = await self.gw.muc.room_disco(bare(ifrom), jid.user,
                                                             jid.resource)
                if described is None:
                    if node:
                        raise XMPPError("item-not-found")
                    contact = self.gw.backend.normalize_contact(jid.user)
                    described = self.gw.backend.contact_info(contact)
            except GatewayError as exc:
                raise xmpp_error(exc) from exc
            if await self.commands.visible(bare(ifrom), jid.user):
                described = dataclasses.replace(
                    described, features=(*described.features, COMMANDS))
            return self._render_info(info, described)
        if node:
            return await self._command_info(info, node, bare(ifrom), "")
        for ident in self.gw.backend.identities:
            info.add_identity(ident.category, ident.type, ident.name)
        for feature in self.component_features():
            info.add_feature(feature)
        return info

    async def _command_info(
        self, info: DiscoInfo, node: str, requester: str, target: str
    ) -> DiscoInfo:
        if node == COMMANDS:
            info.add_identity("automation", "command-list", "Ad-hoc commands")
            info.add_feature(DISCO_INFO)
            return info
        command = self.commands.find(node, target)
        if command is None or command not in await self.commands.visible(requester, target):
            raise XMPPError("item-not-found")
        info.add_identity("automation", "command-node", command.name)
        info.add_feature(COMMANDS)
        info.add_feature(DATA_FORMS)
        return info

    def _render_info(self, info: DiscoInfo, described: ContactInfo) -> DiscoInfo:
        for ident in described.identities:
            info.add_identity(ident.category, ident.type, described.name or ident.name)
        features = [DISCO_INFO, PING]
        features += [f for f in described.features if f not in features]
        for feature in features:
            info.add_feature(feature)
        for extension in described.extensions:
            info.append(make_form(self.gw.xmpp, extension.fields, form_type=extension.form_type,
                                  form_kind="result"))
        return info

    def _render_page(self, items: DiscoItems, page: ItemsPage) -> None:
        for item in page.items:
            try:
                jid = JID(item.jid)
            except (InvalidJID, UnicodeError):
                # A legacy name no JID can carry (an IRC channel with control characters,
                # say): leave it out rather than fail the whole page.
                log.debug("Disco item %r left out: not a valid JID", item.jid)
                continue
            items.add_item(jid, item.node, item.name)
        if page.first is not None or page.count is not None:
            rsm = items["rsm"]
            if page.first is not None:
                rsm["first"] = page.first
                if page.first_index is not None:
                    rsm["first_index"] = str(page.first_index)
            if page.last is not None:
                rsm["last"] = page.last
            if page.count is not None:
                rsm["count"] = str(page.count)

    async def _get_items(self, jid: Any, node: str | None, ifrom: Any, iq: Any) -> DiscoItems:
        items = DiscoItems()
        if jid.user and node == COMMANDS:
            for command in await self.commands.visible(bare(ifrom), jid.user):
                items.add_item(JID(jid.bare), command.node, command.name)
            return items
        if jid.user:
            try:
                page = await self.gw.backend.disco_items(
                    bare(ifrom), jid.user, jid.resource, node or None, _page_request(iq))
            except GatewayError as exc:
                raise xmpp_error(exc) from exc
            if page is not None:
                self._render_page(items, page)
            return items
        if node == COMMANDS:
            for command in await self.commands.visible(bare(ifrom)):
                items.add_item(JID(self.gw.component_jid), command.node, command.name)
        elif node:
            raise XMPPError("item-not-found")
        return items


def _page_request(iq: Any) -> PageRequest:
    """The XEP-0059 request of a disco#items query, if any."""
    if iq is None or iq.xml.find(f".//{{{RSM}}}set") is None:
        return PageRequest()
    rsm = iq["disco_items"]["rsm"]
    before = rsm.xml.find(f"{{{RSM}}}before")
    return PageRequest(
        max=_count(rsm["max"], "max"),
        after=rsm["after"] or None,
        before=None if before is None else (before.text or ""),
        index=_count(rsm["index"], "index"),
    )


def _count(text: str, name: str) -> int | None:
    """An RSM ``max``/``index``: absent, or a non-negative integer (else ``bad-request``)."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise XMPPError("bad-request", f"RSM {name} must be a non-negative integer",
                        etype="modify")
    return int(text)
