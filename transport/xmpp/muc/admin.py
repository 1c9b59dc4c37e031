"""``muc#admin`` (occupant and ban lists, kicks, roles, affiliations) and ``muc#owner``
(the room's configuration form) on room JIDs.

muc#admin is for a resource joined to the room (``not-acceptable`` otherwise, as for
self-pings); the backend does each change and raises a ``GatewayError`` when the network
refuses it. muc#owner asks the backend for its form and hands back what was submitted.
"""

from __future__ import annotations

from typing import Any, cast, get_args
from xml.etree import ElementTree as ET

from transport.core.errors import GatewayError
from transport.core.rooms import AdminItem, Affiliation, Occupant, Role
from transport.xmpp.forms import form_values, make_form
from transport.xmpp.muc import xml
from transport.xmpp.muc.context import MucContext
from transport.xmpp.namespaces import DATA_FORMS
from transport.xmpp.stanzas import bare, xmpp_error

DATA = DATA_FORMS
_ROLES: frozenset[str] = frozenset(get_args(Role))
_AFFILIATIONS: frozenset[str] = frozenset(get_args(Affiliation))


class AdminHandler:
    """Answers muc#admin and muc#owner IQs."""

    def __init__(self, ctx: MucContext) -> None:
        self.ctx = ctx

    async def on_admin(self, iq: Any) -> None:
        room = self.ctx.room_key(iq["to"])
        user, full = bare(iq["from"]), str(iq["from"])
        state = self.ctx.occupancy.get(user, room) if room is not None else None
        if room is None or state is None or full not in state.resources:
            raise xmpp_error(GatewayError("Join the room first", "not-acceptable", "modify"))
        items = [parse_item(e) for e in iq.xml.findall(f".//{{{xml.MUC_ADMIN}}}item")]
        try:
            if iq["type"] == "get":
                wanted = items[0] if items else AdminItem()
                listed = await self.ctx.hooks.admin_list(user, room, wanted)
                if listed is None:
                    listed = self._occupants(user, room, wanted, state.me)
                reply = iq.reply(clear=True)
                query = ET.SubElement(reply.xml, f"{{{xml.MUC_ADMIN}}}query")
                for entry in listed:
                    query.append(item_element(entry))
            elif iq["type"] == "set" and items:
                for item in items:
                    await self.ctx.hooks.admin_change(user, room, item)
                reply = iq.reply(clear=True)
            else:
                raise GatewayError("Expected get, or set with items", "bad-request", "modify")
        except GatewayError as exc:
            raise xmpp_error(exc) from exc
        reply.send()

    def _occupants(self, user: str, room: str, wanted: AdminItem,
                   me: Occupant | None) -> list[AdminItem]:
        """The default list: occupants with the role or affiliation asked for."""
        if wanted.affiliation == "outcast":
            return []
        everyone = [*([me] if me is not None else []), *self.ctx.hooks.occupants(user, room)]
        return [AdminItem(nick=o.nick, jid=o.jid, role=o.role, affiliation=o.affiliation)
                for o in everyone
                if wanted.role in (None, o.role) and wanted.affiliation in (None, o.affiliation)]

    async def on_owner(self, iq: Any) -> None:
        room = self.ctx.room_key(iq["to"])
        if room is None:
            raise xmpp_error(GatewayError("No such room", "item-not-found", "cancel"))
        user = bare(iq["from"])
        try:
            reply = await self._owner(iq, user, room)
        except GatewayError as exc:
            raise xmpp_error(exc) from exc
        reply.send()

    async def _owner(self, iq: Any, user: str, room: str) -> Any:
        reply = iq.reply(clear=True)
        if iq["type"] == "get":
            form = await self.ctx.hooks.config_form(user, room)
            if form is None:
                raise GatewayError("This room cannot be configured", "feature-not-implemented",
                                   "cancel")
            query = ET.SubElement(reply.xml, f"{{{xml.MUC_OWNER}}}query")
            query.append(make_form(self.ctx.xmpp, form.fields, title=form.title).xml)
            return reply
        if iq["type"] != "set":
            raise GatewayError("Expected get or set", "bad-request", "modify")
        x = iq.xml.find(f"{{{xml.MUC_OWNER}}}query/{{{DATA}}}x")
        if x is None or x.get("type") == "cancel":
            return reply
        if x.get("type") != "submit":
            raise GatewayError("Expected a submitted form", "bad-request", "modify")
        form = self.ctx.xmpp.plugin["xep_0004"].build_form(x)
        await self.ctx.hooks.configure(user, room, form_values(form))
        return reply


def parse_item(element: ET.Element) -> AdminItem:
    """A ``muc#admin`` ``<item/>``; unknown roles and affiliations are ``bad-request``."""
    role, affiliation = element.get("role"), element.get("affiliation")
    if role is not None and role not in _ROLES:
        raise xmpp_error(GatewayError(f"No role {role!r}", "bad-request", "modify"))
    if affiliation is not None and affiliation not in _AFFILIATIONS:
        raise xmpp_error(GatewayError(f"No affiliation {affiliation!r}", "bad-request",
                                      "modify"))
    return AdminItem(
        nick=element.get("nick") or None, jid=element.get("jid") or None,
        role=cast("Role | None", role), affiliation=cast("Affiliation | None", affiliation),
        reason=element.findtext(f"{{{xml.MUC_ADMIN}}}reason") or "")


def item_element(entry: AdminItem) -> ET.Element:
    attrs = {name: value for name, value in (
        ("nick", entry.nick), ("role", entry.role), ("affiliation", entry.affiliation),
        ("jid", entry.jid)) if value}
    element = ET.Element(f"{{{xml.MUC_ADMIN}}}item", attrs)
    if entry.reason:
        ET.SubElement(element, f"{{{xml.MUC_ADMIN}}}reason").text = entry.reason
    return element
