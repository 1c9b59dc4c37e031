"""XEP-0199 pings and XEP-0092 version queries to JIDs under the component domain.

slixmpp's plugins answer both for every JID with the gateway's own reply. Some contacts
can answer for themselves (an IRC nick answers CTCP VERSION and PING), so these handlers
ask the backend first (``Backend.ping_contact``, ``Backend.contact_version``) and fall
back to the gateway's answer when it has none. The component domain itself, and users
who may not use the gateway, always get the gateway's answer, without legacy traffic.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from slixmpp.xmlstream.handler import CoroutineCallback

from transport.core.backend import SoftwareVersion
from transport.core.errors import GatewayError
from transport.xmpp.backend_context import Gateway
from transport.xmpp.matchers import IqChild
from transport.xmpp.namespaces import PING
from transport.xmpp.namespaces import VERSION as VERSION_NS
from transport.xmpp.stanzas import bare, xmpp_error


class ContactQueries:
    """Replaces slixmpp's ping and version handlers with backend-aware ones."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        xmpp = gw.xmpp
        xmpp.remove_handler("Ping")
        xmpp.remove_handler("Software Version")
        xmpp.register_handler(CoroutineCallback(
            "contact ping", IqChild(PING, "ping", "get"), self._on_ping))
        xmpp.register_handler(CoroutineCallback(
            "contact version", IqChild(VERSION_NS, "query", "get"), self._on_version))

    async def _asks_backend(self, iq: Any) -> bool:
        return bool(iq["to"].user) and await self.gw.may_use(bare(iq["from"]))

    async def _on_ping(self, iq: Any) -> None:
        if await self._asks_backend(iq):
            to = iq["to"]
            try:
                await self.gw.backend.ping_contact(str(iq["from"]), to.user, to.resource)
            except GatewayError as exc:
                raise xmpp_error(exc) from exc
        iq.reply().send()

    async def _on_version(self, iq: Any) -> None:
        version: SoftwareVersion | None = None
        if await self._asks_backend(iq):
            to = iq["to"]
            try:
                version = await self.gw.backend.contact_version(
                    str(iq["from"]), to.user, to.resource)
            except GatewayError as exc:
                raise xmpp_error(exc) from exc
        if version is None:
            own = self.gw.xmpp.plugin["xep_0092"]
            version = SoftwareVersion(own.software_name, own.version, own.os or "")
        reply = iq.reply(clear=True)
        query = ET.SubElement(reply.xml, f"{{{VERSION_NS}}}query")
        # name and version are required, even empty; slixmpp's stanza drops empty ones.
        ET.SubElement(query, f"{{{VERSION_NS}}}name").text = version.name
        ET.SubElement(query, f"{{{VERSION_NS}}}version").text = version.version
        if version.os:
            ET.SubElement(query, f"{{{VERSION_NS}}}os").text = version.os
        reply.send()
