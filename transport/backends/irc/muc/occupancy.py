"""MUC occupancy on IRC: the JOINs and PARTs behind the core's MUC service.

The core keeps which resources sit in which room and speaks XEP-0045; this module joins
and parts channels when the core asks (``from_xmpp.rooms``), says ``joined`` when NAMES
ends, and shows IRC members as occupants (biboumi's roles and affiliations; the JID is
the member's ``nick%host`` contact).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from transport.backends.irc.context import log
from transport.backends.irc.session.channel_state import Channel, Member, role_affiliation
from transport.core.rooms import JoinRequest, Occupant, RoomEvents
from transport.xmpp.escaping import escape_node

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session


def room_key(folded: str, host: str) -> str:
    """The MUC service's name for a channel: its canonical localpart."""
    return escape_node(f"{folded}%{host}")


def room_jid(session: Session, channel: Channel, nick: str = "") -> str:
    return session.bridge.jids.room(channel.room_local, nick)


def events(session: Session) -> RoomEvents:
    return session.bridge.ctx.rooms


def occupant(session: Session, member: Member) -> Occupant:
    role, affiliation = role_affiliation(member.modes, session.isupport)
    jid = session.bridge.jids.nick(session.host, member.nick).partition("/")[0]
    return Occupant(member.nick, role, affiliation, jid, "away" if member.away else None)


def me(session: Session, channel: Channel) -> Occupant:
    """The user's own occupant (without a JID: the service shows the resource's own)."""
    member = channel.member(session.nick, session.isupport) or Member(session.nick)
    role, affiliation = role_affiliation(member.modes, session.isupport)
    return Occupant(member.nick, role, affiliation, None, "away" if member.away else None)


def others(session: Session, channel: Channel) -> Iterator[Occupant]:
    isupport = session.isupport
    for member in list(channel.members.values()):
        if not isupport.equal(member.nick, session.nick):
            yield occupant(session, member)


async def report_joined(session: Session, channel: Channel) -> None:
    """The user is in the channel: resources waiting for it get the join sequence."""
    await events(session).joined(session.user, channel.room, me(session, channel),
                                 subject=channel.topic or None, subject_by=channel.topic_by)


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


async def join(session: Session, room: str, name: str, request: JoinRequest) -> None:
    """The user's first resource joins: ``joined`` at once when the channel is joined,
    else JOIN on IRC (the end of NAMES says ``joined``)."""
    isupport = session.isupport
    folded = isupport.fold(name)
    channel = session.channels.get(folded)
    if channel is None:
        channel = session.channels[folded] = Channel(name, folded, request.localpart,
                                                     request.password, room=room)
        bridge = session.bridge
        channel.persistent = await bridge.persistent(session.user, session.host, folded)
        channel.recording = await bridge.recording(session.user, session.host, folded)
    channel.room_local = request.localpart
    channel.in_use = True
    if request.password and not channel.joined:
        # Once in, the key that let the gateway in stays (MODE/324 keep it current): a
        # password it cannot check must not break the next JOIN after a reconnect.
        channel.key = request.password
    if channel.joined:
        await report_joined(session, channel)
    elif session.ready:
        send_join(session, channel)


def expired(session: Session, name: str) -> str:
    """Why a join is still waiting (the server is slow to accept, or keeps dropping)."""
    why = f" ({session.connect_error})" if session.connect_error and not session.ready else ""
    log.info("Join of %s to %s on %s timed out", session.user, name, session.host)
    return f"{session.host} did not let the gateway into {name} in time{why}"


async def give_up(session: Session, folded: str) -> None:
    """No resource waits for the channel any more: a persistent one stays, else PART."""
    channel = session.channels.get(folded)
    if channel is None:
        return
    if channel.persistent:  # the gateway stays on it (a restore may be the one waiting)
        channel.in_use = False
        return
    await leave(session, folded, "")


def send_join(session: Session, channel: Channel) -> None:
    line = f"JOIN {channel.name} {channel.key}" if channel.key else f"JOIN {channel.name}"
    session.write_soon(line)


async def leave(session: Session, folded: str, status: str) -> None:
    """The user's last resource left: PART, unless the channel is persistent."""
    channel = session.channels.get(folded)
    if channel is None:
        return
    channel.in_use = False
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
