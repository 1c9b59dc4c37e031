"""XEP-0313 MAM on IRC rooms, and XEP-0045 join history, both read from the channel archive.

A MAM query is interactive and answered while the requester waits, so its results go straight
onto the stream, in order, followed by the iq result carrying ``<fin/>``; nothing here needs
the durable delivery queue. Join history is different: it is returned as ``XmppMessage``s for
the connection side to deliver after the self-presence, in XEP-0045's order.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Final
from xml.etree import ElementTree as ET

from slixmpp import JID, Iq
from slixmpp.exceptions import XMPPError
from slixmpp.jid import InvalidJID
from slixmpp.xmlstream import ElementBase, register_stanza_plugin
from slixmpp.xmlstream.handler import CoroutineCallback

from transport.backends.irc.contracts import ArchivedLine, ChannelHistory, HistoryRequest
from transport.backends.irc.history.archive import MAM_MAX
from transport.core.events import XmppMessage
from transport.xmpp.matchers import IqChild
from transport.xmpp.stanzas import bare

MAM_NS: Final = "urn:xmpp:mam:2"
RSM_NS: Final = "http://jabber.org/protocol/rsm"
FORWARD_NS: Final = "urn:xmpp:forward:0"
DELAY_NS: Final = "urn:xmpp:delay"
DATA_NS: Final = "jabber:x:data"
CLIENT_NS: Final = "jabber:client"
SID_NS: Final = "urn:xmpp:sid:0"
NOTICE_PREFIX: Final = "[notice] "
FORM_FIELDS: Final = (("FORM_TYPE", "hidden"), ("with", "jid-single"),
                      ("start", "text-single"), ("end", "text-single"))
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

RoomResolver = Callable[[JID], tuple[str, str] | None]
QueryCheck = Callable[[str, str, str], Awaitable[bool]]


def line_to_body(line: ArchivedLine) -> str:
    """The body clients show for a line: ``/me ...`` for actions, a marker for notices.

    Characters XML cannot carry are dropped, so an odd line can never break the stream.
    """
    body = _NOT_XML.sub("", line.body)
    if line.kind == "action":
        return f"/me {body}"
    if line.kind == "notice":
        return NOTICE_PREFIX + body
    return body


def sender_and_body(line: ArchivedLine, room: str) -> tuple[str, str]:
    """Who says the line (``room/nick``) and what; a nick no resource can hold (IRC allows
    some) or none at all speaks as the room, the nick then starting the body."""
    body = line_to_body(line)
    if line.nick and occupant_ok(room, line.nick):
        return f"{room}/{line.nick}", body
    return room, f"<{line.nick}> {body}" if line.nick else body


@functools.lru_cache(maxsize=4096)
def occupant_ok(room: str, nick: str) -> bool:
    """Whether ``room/nick`` is a valid JID (cached: the same few nicks speak all day)."""
    try:
        JID(f"{room}/{nick}")
    except (InvalidJID, ValueError):
        return False
    return True


def stamp(timestamp: float) -> str:
    """XEP-0082 date-time in UTC with microseconds (MAM ``start``/``end`` can use it back)."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> float:
    """XEP-0082 date-time -> POSIX time; a value without an offset is taken as UTC."""
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def parse_query(query: ET.Element, room: str) -> dict[str, Any]:
    """A MAM ``<query/>`` -> keyword arguments of ``ChannelHistory.query``; ValueError if bad."""
    params: dict[str, Any] = {"max_results": MAM_MAX}
    form = query.find(f"{{{DATA_NS}}}x")
    for field in form.iter(f"{{{DATA_NS}}}field") if form is not None else ():
        var = field.get("var", "")
        values = [v.text or "" for v in field.iter(f"{{{DATA_NS}}}value")]
        value = values[0].strip() if values else ""
        if var == "FORM_TYPE":
            if value != MAM_NS:
                raise ValueError(f"FORM_TYPE must be {MAM_NS}")
        elif var in ("start", "end"):
            if value:
                params[var] = parse_time(value)
        elif var == "with":
            params["with_nick"] = nick_from_with(value, room) if value else None
        else:
            raise ValueError(f"unknown field {var!r}")
    rsm = query.find(f"{{{RSM_NS}}}set")
    if rsm is not None:
        max_text = rsm.findtext(f"{{{RSM_NS}}}max")
        if max_text is not None:
            params["max_results"] = int(max_text)
            if params["max_results"] < 0:
                raise ValueError("max must not be negative")
        after = rsm.findtext(f"{{{RSM_NS}}}after")
        before = rsm.find(f"{{{RSM_NS}}}before")
        if after and before is not None:
            raise ValueError("after and before together")
        params["after"] = after or None
        params["before"] = None if before is None else (before.text or "").strip()
    return params


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


class MamQuery(ElementBase):
    """``<query xmlns='urn:xmpp:mam:2'/>``, under a name no slixmpp plugin uses."""

    namespace = MAM_NS
    name = "query"
    plugin_attrib = "irc_mam_query"
    interfaces: ClassVar[set[str]] = {"queryid"}


register_stanza_plugin(Iq, MamQuery)


class MamHandler:
    """Answers MAM queries and form discovery on the rooms ``resolve_room`` recognises."""

    def __init__(
        self,
        xmpp: Any,
        archive: ChannelHistory,
        resolve_room: RoomResolver,
        may_query: QueryCheck | None = None,
    ) -> None:
        self.xmpp = xmpp
        self.archive = archive
        self.resolve_room = resolve_room
        self.may_query = may_query
        xmpp.register_handler(
            CoroutineCallback("irc mam", IqChild(MAM_NS, "query"), self._on_iq)
        )

    async def _on_iq(self, iq: Any) -> None:
        if iq["type"] not in ("get", "set"):
            return
        room: JID = iq["to"]
        target = None if room.resource else self.resolve_room(room)
        if target is None:
            raise XMPPError("item-not-found", "This JID has no archive")
        if iq["type"] == "get":
            self._send_form(iq)
            return
        server, channel = target
        user = bare(iq["from"])
        if self.may_query is not None and not await self.may_query(user, server, channel):
            raise XMPPError("forbidden", "You may not read this archive", etype="auth")
        query = iq.xml.find(f"{{{MAM_NS}}}query")
        try:
            params = parse_query(query, room.bare)
        except ValueError as exc:
            raise XMPPError("bad-request", str(exc), etype="modify") from None
        try:
            page = await self.archive.query(user, server, channel, **params)
        except KeyError:
            raise XMPPError("item-not-found", "No such item in this archive") from None
        queryid = query.get("queryid")
        for line in page.lines:
            msg = self.xmpp.make_message(mto=iq["from"], mfrom=room.bare)
            msg.xml.append(result_element(line, room.bare, queryid))
            self.xmpp.send(msg)
        reply = iq.reply(clear=True)
        fin = ET.SubElement(reply.xml, f"{{{MAM_NS}}}fin")
        if page.complete:
            fin.set("complete", "true")
        rsm = ET.SubElement(fin, f"{{{RSM_NS}}}set")
        if page.lines:
            first = ET.SubElement(rsm, f"{{{RSM_NS}}}first")
            first.text = page.lines[0].uid
            if page.first_index is not None:
                first.set("index", str(page.first_index))
            ET.SubElement(rsm, f"{{{RSM_NS}}}last").text = page.lines[-1].uid
        if page.count is not None:
            ET.SubElement(rsm, f"{{{RSM_NS}}}count").text = str(page.count)
        self.xmpp.send(reply)

    def _send_form(self, iq: Any) -> None:
        reply = iq.reply(clear=True)
        query = ET.SubElement(reply.xml, f"{{{MAM_NS}}}query")
        form = ET.SubElement(query, f"{{{DATA_NS}}}x", {"type": "form"})
        for var, ftype in FORM_FIELDS:
            field = ET.SubElement(form, f"{{{DATA_NS}}}field", {"var": var, "type": ftype})
            if var == "FORM_TYPE":
                ET.SubElement(field, f"{{{DATA_NS}}}value").text = MAM_NS
        self.xmpp.send(reply)


def result_element(line: ArchivedLine, room: str, queryid: str | None) -> ET.Element:
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


async def history_messages(
    archive: ChannelHistory,
    user: str,
    server: str,
    channel: str,
    room_jid: str,
    request: HistoryRequest,
    limit: int,
) -> list[XmppMessage]:
    """The join history for ``user`` (the joining resource's full JID), oldest first.

    The bare JID picks the visible lines; ``maxchars`` is applied to the stanzas' size.
    """
    room = bare(room_jid)
    lines = await archive.join_history(bare(user), server, channel, request, limit)
    messages = []
    for line in lines:
        sender, body = sender_and_body(line, room)
        messages.append(XmppMessage(to=user, sender=sender, type="groupchat", body=body,
                                    id=line.uid, delay=line.timestamp, stanza_id_by=room))
    if request.maxchars:
        return _within_chars(messages, request.maxchars)
    return messages


def _within_chars(messages: Sequence[XmppMessage], maxchars: int) -> list[XmppMessage]:
    """The newest messages whose stanzas total at most ``maxchars`` characters."""
    kept: list[XmppMessage] = []
    for message in reversed(messages):
        maxchars -= stanza_chars(message)
        if maxchars < 0:
            break
        kept.append(message)
    return kept[::-1]


def stanza_chars(message: XmppMessage) -> int:
    """About the length of the message as sent (namespace declarations aside)."""
    attrs = {"to": message.to, "from": message.sender, "type": message.type,
             "id": message.id or ""}
    element = ET.Element("message", attrs)
    ET.SubElement(element, "body").text = message.body
    ET.SubElement(element, "delay", {"xmlns": DELAY_NS, "stamp": stamp(message.delay or 0.0),
                                     "from": message.stanza_id_by or ""})
    ET.SubElement(element, "stanza-id", {"xmlns": SID_NS, "by": message.stanza_id_by or "",
                                         "id": message.id or ""})
    return len(ET.tostring(element, encoding="unicode"))
