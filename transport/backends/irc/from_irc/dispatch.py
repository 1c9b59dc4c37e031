"""IRC -> XMPP, continued: modes, topics, invites, away, lists, MOTD and numerics.

``dispatch`` is the entry point: it picks the handler for a line's command. Numerics
nobody handles become chat messages from the server JID, as in biboumi.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transport.backends.irc.from_irc import inbound
from transport.backends.irc.from_irc import joins_and_parts as membership
from transport.backends.irc.from_irc.inbound import Handler
from transport.backends.irc.from_xmpp import bans
from transport.backends.irc.muc import occupancy as rooms
from transport.backends.irc.protocol import IrcEvent
from transport.backends.irc.session.channel_state import Channel, parse_modes, role_affiliation
from transport.core.errors import GatewayError
from transport.core.events import XmppMessage

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session


async def on_mode(session: Session, ev: IrcEvent) -> None:
    isupport = session.isupport
    target = ev.param(0)
    text = " ".join(ev.params[1:])
    if not isupport.is_channel(target):
        session.server_message(f"User mode for {target} is [{text}]")
        return
    channel = session.channels.get(isupport.fold(target))
    if channel is None:
        return
    if inbound.is_me(session, ev.nick):
        inbound.resolve_pending(session, "mode", channel.folded, "")
    before = dict(channel.members)  # members are immutable: a change replaces one
    prefix_modes = isupport.prefix[0]
    key = channel.key
    for adding, letter, arg in parse_modes(ev.params[1:], isupport):
        if letter == "k" and not adding:
            key = ""
        elif letter == "k" and arg and arg != "*":
            key = arg
        if letter in prefix_modes:
            channel.change_mode(arg, letter, adding, isupport)
    await _learn_key(session, channel, key)
    if not channel.joined:
        return
    room = rooms.room_jid(session, channel)
    told = rooms.events(session)
    for full in told.resources(session.user, channel.room):
        session.emit(XmppMessage(to=full, sender=room, type="groupchat",
                                 body=f"Mode {channel.name} [{text}] by {ev.nick or ''}"))
    for folded, member in list(channel.members.items()):
        old = before.get(folded)
        if old is not member and (old is None or role_affiliation(old.modes, isupport)
                                  != role_affiliation(member.modes, isupport)):
            await told.occupant_changed(session.user, channel.room,
                                        rooms.occupant(session, member),
                                        me=inbound.is_me(session, member.nick))


async def on_channel_modes(session: Session, ev: IrcEvent) -> None:
    """324, the channel's modes (asked by the user): its key, when it has one, is learnt."""
    channel = session.channels.get(session.isupport.fold(ev.param(1)))
    if channel is not None and channel.joined:
        key = ""
        for adding, letter, arg in parse_modes(ev.params[2:], session.isupport):
            if adding and letter == "k":
                key = arg if arg and arg != "*" else channel.key
        await _learn_key(session, channel, key)
    await on_numeric(session, ev)


async def _learn_key(session: Session, channel: Channel, key: str) -> None:
    """The channel's key changed (MODE +k/-k, 324): rejoins, and restarts, need the new one.

    The record is written only once the join completed (it is written then); a key hidden
    from us (``*``) is not learnt.
    """
    if key == channel.key:
        return
    channel.key = key
    if channel.joined:
        await session.bridge.prefs.remember(session.user, session.host, channel.folded,
                                            channel.name, key, session.nick)


async def on_topic(session: Session, ev: IrcEvent) -> None:
    channel = session.channels.get(session.isupport.fold(ev.param(0)))
    if channel is None:
        return
    channel.topic = await inbound.irc_text(session, ev.param(1), channel.folded)
    channel.topic_by = ev.nick or ""
    await rooms.events(session).subject_changed(session.user, channel.room,
                                                channel.topic or None, channel.topic_by)


async def on_topic_reply(session: Session, ev: IrcEvent) -> None:
    channel = session.channels.get(session.isupport.fold(ev.param(1)))
    if channel is None:
        return
    if ev.command == "332":
        channel.topic = await inbound.irc_text(session, ev.param(2), channel.folded)
    elif ev.command == "333":
        channel.topic_by = ev.param(2).partition("!")[0]
    else:  # 331: no topic
        channel.topic, channel.topic_by = None, ""


async def on_invite(session: Session, ev: IrcEvent) -> None:
    name = ev.param(1)
    if not name or not session.isupport.is_channel(name):
        return
    room = rooms.room_key(session.isupport.fold(name), session.host)
    inviter = session.bridge.jids.nick(session.host, ev.nick or "")
    await rooms.events(session).invited(session.user, room, inviter)


async def on_away(session: Session, ev: IrcEvent) -> None:
    for channel in list(session.channels.values()):
        member = channel.set_away(ev.nick or "", bool(ev.params), session.isupport)
        if member is not None and channel.joined:
            await rooms.events(session).occupant_changed(
                session.user, channel.room, rooms.occupant(session, member),
                me=inbound.is_me(session, member.nick))


async def on_chghost(session: Session, ev: IrcEvent) -> None:
    for channel in session.channels.values():
        channel.set_host(ev.nick or "", ev.param(0) or None, ev.param(1) or None,
                         session.isupport)


async def on_list(session: Session, ev: IrcEvent) -> None:
    if ev.command == "321":
        session.listing = []
    elif ev.command == "322":
        try:
            users = int(ev.param(2))
        except ValueError:
            users = 0
        if ev.param(1) and len(session.listing) < 100_000:
            session.listing.append((ev.param(1), users, ev.param(3)))
    elif session.list_done is not None and not session.list_done.done():
        session.list_done.set_result(session.listing)


async def on_motd(session: Session, ev: IrcEvent) -> None:
    if ev.command == "375":
        session.motd = []
    elif ev.command == "372":
        if len(session.motd) < 1000:
            session.motd.append(await inbound.irc_text(session, ev.param(1), None))
    else:
        text = "\n".join(session.motd) if ev.command == "376" else ev.param(1)
        session.motd = []
        if text:
            session.server_message(f"Message of the day:\n{text}" if ev.command == "376" else text)


async def on_error(session: Session, ev: IrcEvent) -> None:
    session.server_message(f"ERROR: {await inbound.irc_text(session, ev.param(-1), None)}")


async def on_nick_error(session: Session, ev: IrcEvent) -> None:
    if not session.nick_requests:
        await on_numeric(session, ev)
        return
    requests, session.nick_requests = session.nick_requests, {}
    for room in requests:
        await rooms.events(session).nick_change_failed(
            session.user, room, GatewayError(ev.param(-1), "conflict", "cancel"))


async def on_numeric(session: Session, ev: IrcEvent) -> None:
    command = ev.command
    text = " ".join(ev.params[1:]) if len(ev.params) > 1 else ev.param(0)
    channel = session.channels.get(session.isupport.fold(ev.param(1))) if ev.param(1) else None
    if command in inbound.JOIN_ERRORS and channel is not None and not channel.joined:
        condition, etype = inbound.JOIN_ERRORS[command]
        await inbound.refuse_waiting(session, channel, condition, etype, ev.param(-1))
        if not rooms.events(session).resources(session.user, channel.room) and (
                not channel.persistent):
            del session.channels[channel.folded]
            await session.bridge.prefs.left(session.user, session.host, channel.folded)
    if command in inbound.OP_ERRORS and _fail(session, command, ev) == "ctcp":
        return  # the iq error says it; a chat message would say it twice
    if command not in inbound.QUIET and text:
        session.server_message(await inbound.irc_text(session, text, None))


async def on_ban_list(session: Session, ev: IrcEvent) -> None:
    """367/368: the ban list a muc#admin query asked for, or a list the user asked for."""
    if not bans.collect(session, ev):
        await on_numeric(session, ev)


def _fail(session: Session, command: str, ev: IrcEvent) -> str:
    """A command failed: answer the pending request (muc#admin, CTCP) it concerns.

    Returns the kind of the request answered, '' when none was waiting.
    """
    isupport = session.isupport
    names = {isupport.fold(p) for p in ev.params[1:-1] if p}
    for pending in session.pending:
        if pending.channel in names or isupport.fold(pending.nick) in names:
            session.pending.remove(pending)
            condition = pending.errors.get(command, inbound.OP_ERRORS[command])
            if not pending.future.done():
                pending.future.set_exception(PermissionError(condition, ev.param(-1)))
            return pending.kind
    return ""


HANDLERS: dict[str, Handler] = {
    "PRIVMSG": inbound.on_message,
    "NOTICE": inbound.on_message,
    "JOIN": membership.on_join,
    "353": membership.on_names,
    "366": membership.on_end_of_names,
    "PART": membership.on_part,
    "QUIT": membership.on_quit,
    "KICK": membership.on_kick,
    "NICK": membership.on_nick,
    "MODE": on_mode,
    "TOPIC": on_topic,
    "331": on_topic_reply,
    "332": on_topic_reply,
    "333": on_topic_reply,
    "324": on_channel_modes,
    "INVITE": on_invite,
    "AWAY": on_away,
    "CHGHOST": on_chghost,
    "321": on_list,
    "322": on_list,
    "323": on_list,
    "375": on_motd,
    "372": on_motd,
    "376": on_motd,
    "422": on_motd,
    "ERROR": on_error,
    "432": on_nick_error,
    "433": on_nick_error,
    "367": on_ban_list,
    "368": on_ban_list,
}


async def dispatch(session: Session, ev: IrcEvent) -> None:
    handler = HANDLERS.get(ev.command)
    if handler is not None:
        await handler(session, ev)
    elif ev.is_numeric:
        await on_numeric(session, ev)
