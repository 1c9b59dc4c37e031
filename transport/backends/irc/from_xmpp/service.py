"""The XMPP side the core does not model: MUC presences, bodiless room messages, room IQs.

Joins and leaves (directed presences), subject changes, mediated invitations and errors
from clients arrive here; so do ``muc#admin`` (kicks, roles, affiliations and bans -> KICK
and MODE, in ``admin``) and ``muc#owner`` (the channel's configure form). Pings and
version queries come through the core's hooks (``ctcp``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from xml.etree import ElementTree as ET

from slixmpp.xmlstream.handler import CoroutineCallback

from transport.backends.irc.addressing import Address, check_nick, parse
from transport.backends.irc.context import IrcContext, log
from transport.backends.irc.from_xmpp.admin import MucAdmin
from transport.backends.irc.history.line_log import history_request
from transport.backends.irc.muc import occupancy as rooms
from transport.backends.irc.muc import stanzas as mucxml
from transport.backends.irc.protocol import sanitize
from transport.backends.irc.session.channel_state import Channel
from transport.backends.irc.session.interface import Session
from transport.backends.irc.session.manager import SessionManager
from transport.core.errors import GatewayError
from transport.xmpp.matchers import IqChild
from transport.xmpp.stanzas import BodilessMessage, bare, error_condition

_SUBSCRIPTIONS = frozenset({"subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe"})
_KICKABLE = frozenset({"recipient-unavailable", "gone", "item-not-found",
                       "service-unavailable", "remote-server-not-found", "not-acceptable"})
OwnerForm = Callable[[str, str, str, Any], Awaitable[Any]]


class MucService:
    """Registers the handlers on the component and routes them to sessions."""

    def __init__(self, bridge: IrcContext, manager: SessionManager) -> None:
        self.bridge = bridge
        self.manager = manager
        self.owner_form: OwnerForm | None = None
        self.admin = MucAdmin(bridge, self._session_channel)
        xmpp = bridge.xmpp
        xmpp.add_event_handler("presence", self._on_presence)
        xmpp.register_handler(CoroutineCallback(
            "irc room messages", BodilessMessage(), self._on_message))
        xmpp.register_handler(CoroutineCallback(
            "irc muc admin", IqChild(mucxml.MUC_ADMIN, "query"),
            self._on_admin))
        xmpp.register_handler(CoroutineCallback(
            "irc muc owner", IqChild(mucxml.MUC_OWNER, "query"),
            self._on_owner))

    def _room(self, jid: Any) -> Address | None:
        if not jid.user or jid.domain != self.bridge.jids.component:
            return None
        try:
            address = parse(jid.user, self.bridge.info)
        except GatewayError:
            return None
        return address if address.kind == "channel" else None

    def _session_channel(self, user: str, address: Address) -> tuple[Session, Channel] | None:
        session = self.manager.get(user, address.server)
        if session is None:
            return None
        channel = session.channels.get(session.isupport.fold(address.name))
        return None if channel is None else (session, channel)

    # -- presences ------------------------------------------------------------------------

    async def _on_presence(self, pres: Any) -> None:
        ptype = pres["type"]
        if ptype in _SUBSCRIPTIONS:
            return
        address = self._room(pres["to"])
        if address is None:
            return
        full, user, nick = str(pres["from"]), bare(pres["from"]), pres["to"].resource
        try:
            if not await self.bridge.ctx.may_use(user):
                raise GatewayError("You may not use this gateway", "forbidden", "auth")
            if ptype == "unavailable" or ptype == "error":
                found = self._session_channel(user, address)
                if found is not None:
                    session, channel = found
                    status = "" if ptype == "error" else pres["status"]
                    await session.run(lambda: rooms.leave(session, full, channel.folded, status))
                elif ptype == "unavailable":
                    await self._unavailable_anyway(pres)
                return
            if not nick:
                raise GatewayError("Join with a nick: room@gateway/nick", "jid-malformed",
                                   "modify")
            check_nick(nick)
            await self._available(pres, address, full, user, nick)
        except GatewayError as exc:
            self.bridge.xmpp.send(mucxml.presence_error(
                self.bridge.xmpp, str(pres["to"]), full, exc.condition, exc.etype, exc.text))

    async def _unavailable_anyway(self, pres: Any) -> None:
        item = mucxml.Item(role="none", affiliation="none")
        self.bridge.xmpp.send(mucxml.occupant(
            self.bridge.xmpp, str(pres["to"]), str(pres["from"]), item, codes=(110,),
            unavailable=True))

    async def _available(self, pres: Any, address: Address, full: str, user: str,
                         nick: str) -> None:
        found = self._session_channel(user, address)
        muc = mucxml.history_request(pres)
        if (muc is None and found is not None
                and (full in found[1].resources or full in found[1].waiting)):
            session = found[0]
            if not session.isupport.equal(nick, session.nick):
                rooms.change_nick(session, full, nick)
            return
        # A join (with <x/>), even from a resource already in the room: its client may
        # have lost the stream without resuming it, and waits for the join sequence. The
        # session replays it to that resource from what it knows, without IRC traffic.
        session = self.manager.ensure(user, address.server, nick)
        local = pres["to"].user
        password = mucxml.join_password(pres)
        request = history_request(muc or {})
        log.info("%s joins %s on %s", full, address.name, address.server)
        await session.run(lambda: rooms.join(session, full, address.name, local, nick, password,
                                             request))

    # -- bodiless messages ------------------------------------------------------------------

    async def _on_message(self, msg: Any) -> None:
        address = self._room(msg["to"])
        if address is None:
            return
        user, full = bare(msg["from"]), str(msg["from"])
        found = self._session_channel(user, address)
        if found is None:
            return
        session, channel = found
        if msg["type"] == "error":
            if error_condition(msg) in _KICKABLE and full in channel.resources:
                await session.run(lambda: rooms.leave(session, full, channel.folded, ""))
            return
        if msg["body"] or full not in channel.resources:
            return
        subject = msg.xml.find(f"{{{msg.namespace}}}subject")
        if subject is not None and msg["type"] == "groupchat":
            text = " ".join(sanitize(subject.text or ""))
            session.write_soon(f"TOPIC {channel.name} :{text}")
        x = msg.xml.find(f"{{{mucxml.MUC_USER}}}x")
        for invite in x.findall(f"{{{mucxml.MUC_USER}}}invite") if x is not None else ():
            self._invite(session, channel, invite, full)

    def _invite(self, session: Session, channel: Channel, invite: ET.Element,
                full: str) -> None:
        to = invite.get("to") or ""
        reason = invite.findtext(f"{{{mucxml.MUC_USER}}}reason") or ""
        local, _, rest = to.partition("@")
        domain, _, resource = rest.partition("/")
        if domain == self.bridge.jids.component:
            try:
                address = parse(local, self.bridge.info)
            except GatewayError:
                return
            nick = address.name if address.kind == "nick" else resource
            if nick:
                session.write_soon(f"INVITE {nick} {channel.name}")
            return
        if not to:
            return
        message = self.bridge.xmpp.make_message(mto=to, mfrom=rooms.room_jid(session, channel))
        message.append(ET.fromstring(mucxml.invite(full, reason)))
        message.send()

    # -- IQs --------------------------------------------------------------------------------

    async def _on_admin(self, iq: Any) -> None:
        await self.admin.handle(iq, self._room(iq["to"]))

    async def _on_owner(self, iq: Any) -> None:
        address = self._room(iq["to"])
        if address is None or self.owner_form is None:
            mucxml.reply_error(iq, "feature-not-implemented")
            return
        try:
            result = await self.owner_form(bare(iq["from"]), iq["to"].user, iq["type"], iq)
        except GatewayError as exc:
            mucxml.reply_error(iq, exc.condition, exc.etype, exc.text)
            return
        result.send()
