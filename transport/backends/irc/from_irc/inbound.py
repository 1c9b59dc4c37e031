"""IRC -> XMPP: what each IRC line means for the user's rooms, contacts and server JID.

Runs inside the session's serial worker, so handlers may read and change session state
freely. Channel lines go to every joined resource as one durable batch; presences flush
that batch first (see ``IrcSession.server_presence``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from transport.backends.irc.addressing import valid_resource
from transport.backends.irc.contracts import LineKind
from transport.backends.irc.from_irc import autoreply
from transport.backends.irc.from_xmpp.ctcp import resolve_ctcp
from transport.backends.irc.muc import occupancy as rooms
from transport.backends.irc.protocol import IrcEvent, make_ctcp
from transport.backends.irc.session.channel_state import Channel
from transport.backends.irc.text import clean
from transport.core.errors import GatewayError
from transport.core.events import XmppMessage

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session

Handler = Callable[["Session", IrcEvent], Awaitable[None]]
VERSION = "xmpp-transport IRC gateway"
QUIET = frozenset({"004", "005", "324", "329", "333", "353", "366", "321", "322", "323",
                    "375", "372", "376", "422", "396"})
JOIN_ERRORS = {
    "471": ("service-unavailable", "wait"),
    "473": ("registration-required", "auth"),
    "474": ("forbidden", "auth"),
    "475": ("not-authorized", "auth"),
    "403": ("item-not-found", "cancel"),
    "405": ("not-allowed", "cancel"),
    "437": ("resource-constraint", "wait"),
    "477": ("not-allowed", "cancel"),
    "489": ("not-allowed", "cancel"),
}
OP_ERRORS = {"482": "not-allowed", "401": "item-not-found", "441": "item-not-found",
              "442": "not-allowed", "472": "bad-request", "502": "not-allowed"}
_ROUTED_NOTICE = re.compile(r"^\[([^\]\s]+)\]\s?(.*)$", re.S)


def is_me(session: Session, nick: str | None) -> bool:
    return nick is not None and session.isupport.equal(nick, session.nick)


async def irc_text(session: Session, text: str, folded: str | None) -> str:
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        encoding = await session.bridge.encoding_in(session.user, session.host, folded)
        return clean(text, encoding)
    return clean(text)


def _from_server(ev: IrcEvent) -> bool:
    return ev.source is None or ("!" not in str(ev.source) and "." in (ev.nick or ""))


# -- life cycle --------------------------------------------------------------------------


async def registered(session: Session) -> None:
    bridge = session.bridge
    await session.server_presence(available=True)
    secure = " (encrypted)" if session.tls else ""
    session.server_message(f"Connected to IRC server {session.host}:{session.port}{secure}.")
    prefs = await bridge.prefs.server_prefs(session.user, session.host)
    for command in prefs.after_connect_commands:
        for line in command.splitlines():
            if line.strip():
                session.write_soon(line.strip(), throttle=False)
    for channel in session.channels.values():
        if channel.wanted:
            rooms.send_join(session, channel)


async def disconnected(session: Session, reason: str, closing: bool) -> None:
    for channel in session.channels.values():
        if channel.joined:
            channel.before_rejoin = dict(channel.members)
            await rooms.events(session).rejoining(session.user, channel.room)
        channel.members = {}
        channel.joined = False
        channel.ready.clear()
    for pending in session.pending:
        if not pending.future.done():
            pending.future.set_exception(ConnectionError(reason))
    session.pending.clear()
    if session.list_done is not None and not session.list_done.done():
        session.list_done.set_exception(ConnectionError(reason))
    await session.server_presence(available=False)
    if not closing:
        session.server_message(f"Connection lost: {reason}")


async def session_over(session: Session) -> None:
    for channel in list(session.channels.values()):
        await refuse_waiting(session, channel, "remote-server-not-found", "cancel",
                             "Disconnected from the IRC server")
        await rooms.events(session).closed(session.user, channel.room, shutdown=True,
                                           status="Disconnected from the IRC server")
        await rooms.close_window(session, channel)
    session.channels.clear()


async def connection_failed(session: Session, error: str) -> None:
    """A session that never registered gave up: its waiting joins get an error to show."""
    if "in use" in error:
        condition, etype = "conflict", "cancel"
    elif not session.retryable:
        condition, etype = "remote-server-not-found", "cancel"
    elif "timed out" in error:  # retried with backoff, in vain
        condition, etype = "remote-server-timeout", "wait"
    else:
        condition, etype = "service-unavailable", "wait"
    text = f"Could not connect to {session.host}: {error}"
    for channel in list(session.channels.values()):
        await refuse_waiting(session, channel, condition, etype, text)
    await session.server_presence(available=False)


async def refuse_waiting(session: Session, channel: Channel, condition: str, etype: str,
                         text: str) -> None:
    """The channel cannot be joined: resources waiting for it get the error."""
    await rooms.events(session).join_failed(session.user, channel.room,
                                            GatewayError(text, condition, etype))


# -- messages ----------------------------------------------------------------------------


async def channel_line(session: Session, channel: Channel, nick: str, kind: LineKind,
                       body: str, stamp: float | None, msg_id: str | None = None) -> None:
    """One line said in a channel: archived once, shown to every joined resource."""
    if not body:
        return
    isupport = session.isupport
    if msg_id is None and is_me(session, nick):
        for index, (r_kind, r_body, r_id) in enumerate(channel.reflections):
            if r_kind == kind and r_body == body:
                msg_id = r_id
                del channel.reflections[index]
                break
    uid = None
    if channel.recording:
        uid = session.bridge.lines.uid_for(
            session, session.host, channel.folded, isupport.fold(nick), kind, body,
            stamp or time.time())
    shown = f"/me {body}" if kind == "action" else f"[notice] {body}" if kind == "notice" else body
    room = rooms.room_jid(session, channel)
    sender = rooms.room_jid(session, channel, nick)
    if not valid_resource(room, nick):
        sender, shown = room, f"<{nick}> {shown}"
    by = room if uid else None
    for full in rooms.events(session).resources(session.user, channel.room):
        session.emit(XmppMessage(to=full, sender=sender, type="groupchat", body=shown,
                                 id=msg_id or uid, delay=stamp, stanza_id=uid,
                                 stanza_id_by=by))


def _ctcp(text: str) -> tuple[str, str] | None:
    if not text.startswith("\x01"):
        return None
    inner = text[1:].removesuffix("\x01")
    command, _, argument = inner.partition(" ")
    return command.upper(), argument


async def on_message(session: Session, ev: IrcEvent) -> None:
    target, raw = ev.param(0), ev.param(1)
    nick = ev.nick or ""
    if not target or not raw:
        return
    notice = ev.command == "NOTICE"
    isupport = session.isupport
    bare_target = target.lstrip(isupport.statusmsg) or target
    ctcp = _ctcp(raw)
    if isupport.is_channel(bare_target):
        channel = session.channels.get(isupport.fold(bare_target))
        if channel is None or (ctcp is not None and (notice or ctcp[0] != "ACTION")):
            return
        kind: LineKind = "action" if ctcp else "notice" if notice else "message"
        body = await irc_text(session, ctcp[1] if ctcp else raw, channel.folded)
        await channel_line(session, channel, nick, kind, body, ev.time)
        return
    if _from_server(ev) or session.state != "registered":
        session.server_message(await irc_text(session, raw, None))
        return
    if is_me(session, nick):
        return  # echo-message copy of our own private message
    if ctcp is not None:
        await _private_ctcp(session, nick, ctcp, notice)
        return
    text = await irc_text(session, raw, None)
    if notice:
        routed = _ROUTED_NOTICE.match(text)
        channel = session.channels.get(isupport.fold(routed.group(1))) if routed else None
        if routed and channel is not None:
            await channel_line(session, channel, nick, "notice", routed.group(2), ev.time)
            return
        if isupport.fold(nick) not in session.pm_nicks:
            session.server_message(f"[notice] {nick}: {text}")
            return
        text = f"[notice] {text}"
    session.emit(XmppMessage(to=session.user, sender=session.bridge.jids.nick(session.host, nick),
                             type="chat", body=text, delay=ev.time))


async def _private_ctcp(session: Session, nick: str, ctcp: tuple[str, str],
                        notice: bool) -> None:
    command, argument = ctcp
    if notice:  # a reply: it may answer a version or ping query sent from XMPP
        resolve_ctcp(session, nick, command, await irc_text(session, argument, None))
        return
    if command == "ACTION":
        body = await irc_text(session, argument, None)
        session.emit(XmppMessage(to=session.user, type="chat", body=f"/me {body}",
                                 sender=session.bridge.jids.nick(session.host, nick)))
    elif command in ("VERSION", "PING", "TIME"):
        answer = VERSION if command == "VERSION" else argument
        if command == "TIME":
            answer = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
        autoreply.answer(session, nick, make_ctcp(nick, command, answer, reply=True))


def resolve_pending(session: Session, kind: str, folded: str, nick: str) -> None:
    isupport = session.isupport
    for pending in session.pending:
        if pending.kind == kind and pending.channel == folded and (
                not nick or isupport.equal(pending.nick, nick)):
            session.pending.remove(pending)
            if not pending.future.done():
                pending.future.set_result(None)
            return
