"""The XEP-0045 §7.2 join sequence to one resource: occupants, self, history, subject.

The presences leave as one write: in a room of hundreds, that is hundreds fewer queue
entries and system calls for each join. History and subject follow through the durable
queue, after them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from transport.core.events import XmppMessage
from transport.core.rooms import ArchivedMessage, HistoryRequest, Occupant
from transport.xmpp.muc import xml
from transport.xmpp.muc.context import MucContext
from transport.xmpp.muc.state import RoomPresence
from transport.xmpp.namespaces import DELAY, SID


def occupants_batch(ctx: MucContext, state: RoomPresence, user: str, room: str,
                    full: str) -> list[str]:
    """Every other occupant's presence to ``full`` (nicks no JID can hold are skipped)."""
    room_jid = ctx.room_jid(state, room)
    batch = []
    for occupant in ctx.hooks.occupants(user, room):
        sender = xml.occupant_jid(room_jid, occupant.nick)
        if sender is not None:
            batch.append(xml.occupant_presence(sender, full, occupant))
    return batch


def self_presence(ctx: MucContext, state: RoomPresence, room: str, full: str,
                  codes: tuple[int, ...] = ()) -> str:
    me = state.me or Occupant(nick=state.nick)
    return xml.occupant_presence(ctx.room_jid(state, room, me.nick), full, me, jid=full,
                                 codes=(*codes, xml.SELF))


def subject_message(ctx: MucContext, state: RoomPresence, room: str, full: str) -> XmppMessage:
    """The subject (an empty one when there is none), which ends the join sequence."""
    return XmppMessage(
        to=full, sender=ctx.room_jid(state, room, state.subject_by), type="groupchat",
        subject=state.subject or "")


async def join_sequence(ctx: MucContext, state: RoomPresence, user: str, room: str, full: str,
                        asked: str, history: HistoryRequest, *, created: bool = False) -> None:
    """Send the join sequence to ``full``, which asked for nick ``asked``."""
    presences = occupants_batch(ctx, state, user, room, full)
    codes: list[int] = [xml.NON_ANONYMOUS] if ctx.hooks.non_anonymous else []
    if created:
        codes.append(xml.CREATED)
    if asked != state.nick:
        codes.append(xml.NICK_CHANGED)
    presences.append(self_presence(ctx, state, room, full, tuple(codes)))
    batch = "".join(presences)
    del presences
    await ctx.output.presences(user, room, batch)
    state.resources[full] = asked
    messages = await history_messages(ctx, state, user, room, full, history)
    messages.append(subject_message(ctx, state, room, full))
    await ctx.output.messages(user, room, messages)


async def history_messages(ctx: MucContext, state: RoomPresence, user: str, room: str,
                           full: str, request: HistoryRequest) -> list[XmppMessage]:
    archive = ctx.hooks.archive
    if archive is None or request.maxstanzas == 0 or request.maxchars == 0:
        return []
    room_jid = ctx.room_jid(state, room)
    lines = await archive.join_history(user, room, request)
    messages = [history_message(line, room_jid, full) for line in lines]
    if request.maxchars:
        return within_chars(messages, request.maxchars)
    return messages


def sender_and_body(line: ArchivedMessage, room_jid: str) -> tuple[str, str]:
    """Who says the line (``room/nick``) and what; a nick no JID can hold (or none) speaks
    as the room, the nick then starting the body."""
    sender = xml.occupant_jid(room_jid, line.nick) if line.nick else None
    if sender is not None:
        return sender, line.body
    return room_jid, f"<{line.nick}> {line.body}" if line.nick else line.body


def history_message(line: ArchivedMessage, room_jid: str, full: str) -> XmppMessage:
    sender, body = sender_and_body(line, room_jid)
    return XmppMessage(to=full, sender=sender, type="groupchat", body=body, id=line.uid,
                       delay=line.timestamp, stanza_id_by=room_jid)


def within_chars(messages: Sequence[XmppMessage], maxchars: int) -> list[XmppMessage]:
    """The newest messages whose stanzas total at most ``maxchars`` characters."""
    kept: list[XmppMessage] = []
    for message in reversed(messages):
        maxchars -= stanza_chars(message)
        if maxchars < 0:
            break
        kept.append(message)
    return kept[::-1]


def stamp(timestamp: float) -> str:
    """XEP-0082 date-time in UTC with microseconds."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def stanza_chars(message: XmppMessage) -> int:
    """About the length of the message as sent (namespace declarations aside)."""
    attrs = {"to": message.to, "from": message.sender, "type": message.type,
             "id": message.id or ""}
    element = ET.Element("message", attrs)
    ET.SubElement(element, "body").text = message.body
    ET.SubElement(element, "delay", {"xmlns": DELAY, "stamp": stamp(message.delay or 0.0),
                                     "from": message.stanza_id_by or ""})
    ET.SubElement(element, "stanza-id", {"xmlns": SID, "by": message.stanza_id_by or "",
                                         "id": message.id or ""})
    return len(ET.tostring(element, encoding="unicode"))
