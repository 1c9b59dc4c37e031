"""MUC occupancy: joins, leaves and nick changes from XMPP; presences and the join sequence.

The join sequence follows XEP-0045 section 7.2 exactly: every other occupant, then the
user's own presence (110, plus 210 when IRC gave another nick than asked for), then the
history, then the subject (empty when there is none). The presences go out directly; the
history and subject go through the durable queue after them.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import TYPE_CHECKING

from transport.backends.irc.addressing import occupant_jid
from transport.backends.irc.context import log
from transport.backends.irc.contracts import HistoryRequest
from transport.backends.irc.history.mam import history_messages
from transport.backends.irc.muc import stanzas as mucxml
from transport.backends.irc.session.channel_state import (
    Channel,
    JoinRequest,
    Member,
    role_affiliation,
)
from transport.core.events import XmppMessage

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session

SHUTDOWN = 332


def room_jid(session: Session, channel: Channel, nick: str = "") -> str:
    return session.bridge.jids.room(channel.room_local, nick)


def item_for(
    session: Session, member: Member | None, nick: str, real: str | None
) -> mucxml.Item:
    role, affiliation = role_affiliation(member.modes if member else "", session.isupport)
    jid = real if real is not None else session.bridge.jids.nick(session.host, nick).partition(
        "/")[0]
    return mucxml.Item(affiliation=affiliation, role=role, jid=jid)


def presence_of(
    session: Session, channel: Channel, member: Member, to: str, *,
    unavailable: bool = False, codes: tuple[int, ...] = (), status: str | None = None,
    new_nick: str | None = None, actor: str | None = None, reason: str | None = None,
    me: bool | None = None,
) -> str:
    """One occupant's presence to one resource, as XML text ('' when no JID can hold the
    nick: such occupants are skipped)."""
    sender = occupant_jid(room_jid(session, channel), member.nick)
    if sender is None:
        return ""
    if me is None:
        me = session.isupport.equal(member.nick, session.nick)
    item = item_for(session, member, member.nick, to if me else None)
    item = mucxml.Item(item.affiliation, "none" if unavailable else item.role, item.jid,
                       new_nick, actor, reason)
    if me:
        codes = (*codes, 110)
    return mucxml.occupant_xml(
        sender, to, item, codes=codes, unavailable=unavailable, status=status,
        show="away" if member.away and not unavailable else None)


async def to_all(session: Session, channel: Channel, member: Member, **kwargs: object) -> None:
    for full in list(channel.resources):
        stanza = presence_of(session, channel, member, full, **kwargs)  # type: ignore[arg-type]
        if stanza:
            await session.presence(stanza)


async def join_sequence(
    session: Session, channel: Channel, full: str, request: JoinRequest
) -> None:
    """Occupants, self-presence, history, subject — to one resource.

    The presences leave as one write: in a channel of hundreds, that is hundreds fewer
    queue entries and system calls for each join.
    """
    isupport = session.isupport
    presences = [presence_of(session, channel, member, full)
                 for member in list(channel.members.values())
                 if not isupport.equal(member.nick, session.nick)]
    me = channel.member(session.nick, isupport) or Member(session.nick)
    codes = (100,) if request.nick == session.nick else (100, 210)
    presences.append(presence_of(session, channel, me, full, codes=codes))
    batch = "".join(presences)
    del presences
    if batch:
        await session.presence(batch)
    channel.resources[full] = request.nick
    if channel.recording:
        await replay_history(session, channel, full, request.history)
    subject = XmppMessage(
        to=full, sender=room_jid(session, channel, channel.topic_by), type="groupchat",
        subject=channel.topic or None,
        extra_xml=() if channel.topic else (mucxml.empty_subject(),))
    session.emit(subject)


async def replay_history(session: Session, channel: Channel, full: str,
                         request: HistoryRequest) -> None:
    bridge = session.bridge
    limit = (await bridge.prefs.global_prefs(session.user)).max_history_length
    if limit <= 0 or request.maxstanzas == 0 or request.maxchars == 0:
        return
    messages = await history_messages(bridge.history, full, session.host, channel.folded,
                                      room_jid(session, channel), request, limit)
    for message in messages:
        session.emit(message)


async def self_unavailable(session: Session, channel: Channel, full: str, *,
                           status: str | None = None, codes: tuple[int, ...] = ()) -> None:
    nick = channel.resources.get(full) or session.nick
    sender = room_jid(session, channel, session.nick if session.nick else nick)
    item = mucxml.Item(role="none", affiliation="none", jid=full)
    await session.presence(mucxml.occupant(
        session.bridge.xmpp, sender, full, item, codes=(*codes, 110), unavailable=True,
        status=status))


async def open_window(session: Session, channel: Channel) -> None:
    if channel.recording and not channel.window_open:
        channel.window_open = True
        await session.bridge.history.opened(session.user, session.host, channel.folded,
                                            time.time())


async def close_window(session: Session, channel: Channel) -> None:
    if channel.window_open:
        channel.window_open = False
        await session.bridge.history.closed(session.user, session.host, channel.folded,
                                            time.time())


async def parted(session: Session, channel: Channel) -> None:
    """The gateway is out of the channel for good: stop archiving it for the user, and
    forget it so that a restart does not join it again."""
    await close_window(session, channel)
    await session.bridge.prefs.left(session.user, session.host, channel.folded)


async def join(session: Session, full: str, name: str, room_local: str, nick: str,
               password: str, history: HistoryRequest) -> None:
    """A resource joins: replay locally when the channel is joined, else JOIN on IRC."""
    isupport = session.isupport
    folded = isupport.fold(name)
    channel = session.channels.get(folded)
    if channel is None:
        channel = session.channels[folded] = Channel(name, folded, room_local, password)
        bridge = session.bridge
        channel.persistent = await bridge.persistent(session.user, session.host, folded)
        channel.recording = await bridge.recording(session.user, session.host, folded)
    if password and not channel.joined:
        # Once in, the key that let the gateway in stays (MODE/324 keep it current): a
        # password it cannot check must not break the next JOIN after a reconnect.
        channel.key = password
    request = JoinRequest(nick, history)
    if channel.joined:
        channel.waiting.pop(full, None)
        await join_sequence(session, channel, full, request)
        return
    # One JOIN per channel: none while another resource waits for it, nor for a resource
    # already in, whose channel waits for the rejoin a reconnect sent (``inbound.registered``).
    first = not channel.waiting and full not in channel.resources
    channel.waiting[full] = request
    asyncio.get_running_loop().call_later(
        session.bridge.settings.queue_timeout, session.submit,
        functools.partial(_join_expired, session, channel, full, request))
    if first and session.ready:
        send_join(session, channel)


async def _join_expired(session: Session, channel: Channel, full: str,
                        request: JoinRequest) -> None:
    """A join still waiting after ``queue_timeout`` (the server is slow to accept, or keeps
    dropping the link) ends in an error the client can show, never pending forever."""
    if channel.waiting.get(full) is not request or session.channels.get(
            channel.folded) is not channel:
        return
    why = f" ({session.connect_error})" if session.connect_error and not session.ready else ""
    text = f"{session.host} did not let the gateway into {channel.name} in time{why}"
    log.info("Join of %s to %s on %s timed out", full, channel.name, session.host)
    await session.presence(mucxml.presence_error(
        session.bridge.xmpp, room_jid(session, channel, request.nick), full,
        "remote-server-timeout", "wait", text))
    if channel.persistent:  # the gateway stays on it (a restore may be the one waiting)
        del channel.waiting[full]
    else:
        await leave(session, full, channel.folded, "")


def send_join(session: Session, channel: Channel) -> None:
    line = f"JOIN {channel.name} {channel.key}" if channel.key else f"JOIN {channel.name}"
    session.write_soon(line)


async def leave(session: Session, full: str, folded: str, status: str) -> None:
    """A resource leaves; the last one parts the channel unless it is persistent."""
    channel = session.channels.get(folded)
    if channel is None:
        return
    was_in = channel.resources.pop(full, None) is not None
    channel.waiting.pop(full, None)
    if was_in:
        await self_unavailable(session, channel, full, status=status or None)
    if channel.resources or channel.waiting:
        return
    if channel.persistent and channel.joined:
        return
    del session.channels[folded]
    await parted(session, channel)
    text = " ".join(status.split())
    session.write_soon(f"PART {channel.name} :{text}"[:400] if text else f"PART {channel.name}")
    if not session.channels:
        session.submit(lambda: _quit_later(session, text))


async def _quit_later(session: Session, text: str) -> None:
    if not session.channels:
        session.manager.background(session.quit(text))


def change_nick(session: Session, full: str, nick: str) -> None:
    session.nick_requests[full] = nick
    session.write_soon(f"NICK {nick}")


async def remove_resource(session: Session, full: str) -> None:
    """A resource went away (or errored): take it out of every channel of the session."""
    for folded in list(session.channels):
        channel = session.channels[folded]
        if full in channel.resources or full in channel.waiting:
            await leave(session, full, folded, "")
