"""XEP-0313 MAM on room JIDs, read from the backend's ``RoomArchive``.

A MAM query is interactive and answered while the requester waits, so its results go
straight onto the stream, in order, followed by the iq result carrying ``<fin/>``; nothing
here needs the durable delivery queue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Final
from xml.etree import ElementTree as ET

from slixmpp import Iq
from slixmpp.exceptions import XMPPError
from slixmpp.xmlstream import ElementBase, register_stanza_plugin

from transport.core.rooms import ArchivedMessage, ArchiveQuery
from transport.xmpp.muc.context import MucContext
from transport.xmpp.muc.sequence import sender_and_body, stamp
from transport.xmpp.namespaces import CLIENT, DATA_FORMS, DELAY, FORWARD, MAM, RSM, SID
from transport.xmpp.stanzas import bare

MAM_NS: Final = MAM
RSM_NS: Final = RSM
FORWARD_NS: Final = FORWARD
DELAY_NS: Final = DELAY
DATA_NS: Final = DATA_FORMS
CLIENT_NS: Final = CLIENT
SID_NS: Final = SID
MAM_MAX: Final = 100
FORM_FIELDS: Final = (("FORM_TYPE", "hidden"), ("with", "jid-single"),
                      ("start", "text-single"), ("end", "text-single"))


class MamQuery(ElementBase):
    """``<query xmlns='urn:xmpp:mam:2'/>``, under a name no slixmpp plugin uses."""

    namespace = MAM_NS
    name = "query"
    plugin_attrib = "room_mam_query"
    interfaces: ClassVar[set[str]] = {"queryid"}


register_stanza_plugin(Iq, MamQuery)


def parse_time(text: str) -> float:
    """XEP-0082 date-time -> POSIX time; a value without an offset is taken as UTC."""
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def nick_from_with(value: str, room: str) -> str | None:
    """``with``: an occupant JID ``room/nick`` (or a bare nick) -> the nick; the room -> None."""
    jid, slash, resource = value.partition("/")
    same_room = jid.lower() == room.lower()
    if slash:
        if not same_room or not resource:
            raise ValueError("with must be an occupant of this room")
        return resource
    if same_room:
        return None
    if "@" in jid:
        raise ValueError("with must be an occupant of this room")
    return value


def parse_query(query: ET.Element, room: str) -> ArchiveQuery:
    """A MAM ``<query/>`` -> ``ArchiveQuery``; ValueError when it is malformed."""
    start = end = None
    with_nick: str | None = None
    max_results = MAM_MAX
    after: str | None = None
    before: str | None = None
    form = query.find(f"{{{DATA_NS}}}x")
    for field in form.iter(f"{{{DATA_NS}}}field") if form is not None else ():
        var = field.get("var", "")
        values = [v.text or "" for v in field.iter(f"{{{DATA_NS}}}value")]
        value = values[0].strip() if values else ""
        if var == "FORM_TYPE":
            if value != MAM_NS:
                raise ValueError(f"FORM_TYPE must be {MAM_NS}")
        elif var == "start":
            start = parse_time(value) if value else None
        elif var == "end":
            end = parse_time(value) if value else None
        elif var == "with":
            with_nick = nick_from_with(value, room) if value else None
        else:
            raise ValueError(f"unknown field {var!r}")
    rsm = query.find(f"{{{RSM_NS}}}set")
    if rsm is not None:
        max_text = rsm.findtext(f"{{{RSM_NS}}}max")
        if max_text is not None:
            max_results = int(max_text)
            if max_results < 0:
                raise ValueError("max must not be negative")
        after = rsm.findtext(f"{{{RSM_NS}}}after") or None
        before_element = rsm.find(f"{{{RSM_NS}}}before")
        if after and before_element is not None:
            raise ValueError("after and before together")
        before = None if before_element is None else (before_element.text or "").strip()
    return ArchiveQuery(start, end, with_nick, after, before, max_results)


def result_element(line: ArchivedMessage, room: str, queryid: str | None) -> ET.Element:
    """``<result><forwarded><delay/><message type='groupchat' from='room/nick'/>``."""
    attrs = {"id": line.uid} if queryid is None else {"queryid": queryid, "id": line.uid}
    result = ET.Element(f"{{{MAM_NS}}}result", attrs)
    forwarded = ET.SubElement(result, f"{{{FORWARD_NS}}}forwarded")
    ET.SubElement(forwarded, f"{{{DELAY_NS}}}delay", {"stamp": stamp(line.timestamp)})
    sender, body = sender_and_body(line, room)
    inner = ET.SubElement(forwarded, f"{{{CLIENT_NS}}}message",
                          {"type": "groupchat", "from": sender, "id": line.uid})
    ET.SubElement(inner, f"{{{CLIENT_NS}}}body").text = body
    ET.SubElement(inner, f"{{{SID_NS}}}stanza-id", {"by": room, "id": line.uid})
    return result


class MamHandler:
    """Answers MAM queries and form discovery on room JIDs."""

    def __init__(self, ctx: MucContext) -> None:
        self.ctx = ctx

    async def on_iq(self, iq: Any) -> None:
        if iq["type"] not in ("get", "set"):
            return
        room_jid = iq["to"]
        room = None if room_jid.resource else self.ctx.room_key(room_jid)
        archive = self.ctx.hooks.archive
        if room is None or archive is None:
            raise XMPPError("item-not-found", "This JID has no archive")
        if iq["type"] == "get":
            self._send_form(iq)
            return
        user = bare(iq["from"])
        query = iq.xml.find(f"{{{MAM_NS}}}query")
        try:
            params = parse_query(query, room_jid.bare)
        except ValueError as exc:
            raise XMPPError("bad-request", str(exc), etype="modify") from None
        try:
            page = await archive.query(user, room, params)
        except KeyError:
            raise XMPPError("item-not-found", "No such item in this archive") from None
        queryid = query.get("queryid")
        for line in page.messages:
            msg = self.ctx.xmpp.make_message(mto=iq["from"], mfrom=room_jid.bare)
            msg.xml.append(result_element(line, room_jid.bare, queryid))
            self.ctx.xmpp.send(msg)
        reply = iq.reply(clear=True)
        fin = ET.SubElement(reply.xml, f"{{{MAM_NS}}}fin")
        if page.complete:
            fin.set("complete", "true")
        rsm = ET.SubElement(fin, f"{{{RSM_NS}}}set")
        if page.messages:
            first = ET.SubElement(rsm, f"{{{RSM_NS}}}first")
            first.text = page.messages[0].uid
            if page.first_index is not None:
                first.set("index", str(page.first_index))
            ET.SubElement(rsm, f"{{{RSM_NS}}}last").text = page.messages[-1].uid
        if page.count is not None:
            ET.SubElement(rsm, f"{{{RSM_NS}}}count").text = str(page.count)
        self.ctx.xmpp.send(reply)

    def _send_form(self, iq: Any) -> None:
        reply = iq.reply(clear=True)
        query = ET.SubElement(reply.xml, f"{{{MAM_NS}}}query")
        form = ET.SubElement(query, f"{{{DATA_NS}}}x", {"type": "form"})
        for var, ftype in FORM_FIELDS:
            field = ET.SubElement(form, f"{{{DATA_NS}}}field", {"var": var, "type": ftype})
            if var == "FORM_TYPE":
                ET.SubElement(field, f"{{{DATA_NS}}}value").text = MAM_NS
        self.ctx.xmpp.send(reply)
