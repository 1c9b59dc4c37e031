"""IRC -> XMPP for channel membership: JOIN, NAMES, PART, QUIT, KICK, NICK.

Runs in the session's serial worker like ``inbound``, and tells the core's MUC service
(``ctx.rooms``) what changed; after a reconnect the end of NAMES tells joined resources
what changed while the connection was down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transport.backends.irc.from_irc.inbound import irc_text, is_me, resolve_pending
from transport.backends.irc.muc import occupancy as rooms
from transport.backends.irc.protocol import IrcEvent
from transport.backends.irc.session.channel_state import Channel, Member, role_affiliation

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session


async def on_join(session: Session, ev: IrcEvent) -> None:
    name = ev.param(0)
    isupport = session.isupport
    folded = isupport.fold(name)
    channel = session.channels.get(folded)
    if is_me(session, ev.nick):
        if channel is None:  # the server put us there: invite the user (biboumi does)
            local = rooms.room_key(folded, session.host)
            channel = session.channels[folded] = Channel(name, folded, local)
            channel.recording = await session.bridge.recording(session.user, session.host, folded)
            await rooms.events(session).invited(session.user, channel.room,
                                                session.bridge.jids.server(session.host))
        channel.name = name
        channel.members = {}
        channel.joined = False
        channel.add_member(str(ev.source), isupport)
        return
    if channel is None:
        return
    member = channel.add_member(str(ev.source), isupport)
    if channel.joined:
        await rooms.events(session).occupant_joined(session.user, channel.room,
                                                    rooms.occupant(session, member))


async def on_names(session: Session, ev: IrcEvent) -> None:
    channel = session.channels.get(session.isupport.fold(ev.param(2)))
    if channel is None:
        return
    for name in ev.param(3).split():
        if channel.joined and channel.member(name.lstrip(session.isupport.prefix[1]).partition(
                "!")[0], session.isupport):
            continue
        channel.add_member(name, session.isupport)


async def on_end_of_names(session: Session, ev: IrcEvent) -> None:
    channel = session.channels.get(session.isupport.fold(ev.param(1)))
    if channel is None or channel.joined:
        return
    channel.joined = True
    session.bridge.totals.joins += 1
    channel.name = ev.param(1) or channel.name  # as the server spells it, for display
    channel.ready.set()
    await rooms.open_window(session, channel)
    if channel.before_rejoin is not None:
        await _resync(session, channel, channel.before_rejoin)
        channel.before_rejoin = None
    else:  # a rejoin after a reconnect was recorded by the first join
        await session.bridge.prefs.remember(session.user, session.host, channel.folded,
                                            channel.name, channel.key, session.nick)
    await rooms.report_joined(session, channel)


async def _resync(session: Session, channel: Channel, before: dict[str, Member]) -> None:
    """After a reconnect: tell joined resources who left and came while we were away."""
    isupport = session.isupport
    told = rooms.events(session)
    for folded, member in before.items():
        if folded not in channel.members and not isupport.equal(member.nick, session.nick):
            await told.occupant_left(session.user, channel.room, rooms.occupant(session, member))
    for folded, member in list(channel.members.items()):
        old = before.get(folded)
        if old is None and is_me(session, member.nick):
            continue
        if old is None or role_affiliation(old.modes, isupport) != role_affiliation(
                member.modes, isupport):
            await told.occupant_changed(session.user, channel.room,
                                        rooms.occupant(session, member),
                                        me=is_me(session, member.nick))
    session.server_message(f"Rejoined {channel.name}")


async def on_part(session: Session, ev: IrcEvent) -> None:
    channel = session.channels.get(session.isupport.fold(ev.param(0)))
    if channel is None:
        return
    reason = await irc_text(session, ev.param(1), channel.folded)
    if is_me(session, ev.nick):
        del session.channels[channel.folded]
        await rooms.events(session).closed(session.user, channel.room, status=reason or None)
        await rooms.parted(session, channel)
        return
    member = channel.remove_member(ev.nick or "", session.isupport)
    if member is not None and channel.joined:
        await rooms.events(session).occupant_left(
            session.user, channel.room, rooms.occupant(session, member), status=reason or None)


async def on_quit(session: Session, ev: IrcEvent) -> None:
    if is_me(session, ev.nick):
        return
    reason = await irc_text(session, ev.param(0), None)
    for channel in list(session.channels.values()):
        member = channel.remove_member(ev.nick or "", session.isupport)
        if member is not None and channel.joined:
            await rooms.events(session).occupant_left(
                session.user, channel.room, rooms.occupant(session, member),
                status=reason or None)


async def on_kick(session: Session, ev: IrcEvent) -> None:
    isupport = session.isupport
    channel = session.channels.get(isupport.fold(ev.param(0)))
    if channel is None:
        return
    target, reason = ev.param(1), await irc_text(session, ev.param(2), channel.folded)
    if is_me(session, ev.nick):
        resolve_pending(session, "kick", channel.folded, target)
    actor = ev.nick or ""
    if isupport.equal(target, session.nick):
        del session.channels[channel.folded]
        await rooms.events(session).kicked(session.user, channel.room, rooms.me(session, channel),
                                           actor=actor, reason=reason or None, me=True)
        await rooms.parted(session, channel)
        return
    member = channel.remove_member(target, isupport)
    if member is not None:
        await rooms.events(session).kicked(session.user, channel.room,
                                           rooms.occupant(session, member), actor=actor,
                                           reason=reason or None)


async def on_nick(session: Session, ev: IrcEvent) -> None:
    old, new = ev.nick or "", ev.param(0)
    if not new:
        return
    me = is_me(session, old)
    if me:
        session.nick = new
        await session.bridge.prefs.renamed(session.user, session.host, new)
        session.nick_requests.clear()
    for channel in list(session.channels.values()):
        member = channel.rename(old, new, session.isupport)
        if member is None or not channel.joined:
            continue
        await rooms.events(session).occupant_renamed(
            session.user, channel.room, rooms.occupant(session, member), old, me=me)


