"""``muc#admin`` on a room: occupant and ban lists, kicks, roles, affiliations and bans.

Each change becomes the IRC command biboumi sends (the mode table is in ``channel``; how
ban masks look on the XMPP side is in ``bans``) and is answered when the server echoes
it (KICK, MODE), or with the stanza error matching the numeric it sent instead. A ban
change is also checked against the ban list read right after it, since servers do not
echo a change that changes nothing. Only a resource joined to the room may ask
(``not-acceptable`` otherwise, as for self-pings).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree import ElementTree as ET

from slixmpp import JID
from slixmpp.jid import InvalidJID

from transport.backends.irc.addressing import Address, check_nick, parse
from transport.backends.irc.context import IrcContext
from transport.backends.irc.from_xmpp import bans
from transport.backends.irc.muc import stanzas as mucxml
from transport.backends.irc.protocol import sanitize
from transport.backends.irc.session.channel_state import (
    AFFILIATION_MODES,
    ROLE_MODES,
    Channel,
    Pending,
    mode_line,
    role_affiliation,
)
from transport.backends.irc.session.interface import Session
from transport.core.errors import GatewayError
from transport.xmpp.stanzas import bare

ANSWER_TIMEOUT = 10.0
# XEP-0045 §9.1: a ban by someone without the privilege is <forbidden/>.
BAN_ERRORS: Mapping[str, str] = {"482": "forbidden"}
SessionChannel = Callable[[str, Address], tuple[Session, Channel] | None]


class MucAdmin:
    """Answers muc#admin get (lists) and set (changes) on channel JIDs."""

    def __init__(self, bridge: IrcContext, session_channel: SessionChannel) -> None:
        self.bridge = bridge
        self.session_channel = session_channel

    async def handle(self, iq: Any, address: Address | None) -> None:
        found = self.session_channel(bare(iq["from"]), address) if address else None
        if found is None or str(iq["from"]) not in found[1].resources:
            mucxml.reply_error(iq, "not-acceptable", "modify")
            return
        session, channel = found
        items = iq.xml.findall(f".//{{{mucxml.MUC_ADMIN}}}item")
        try:
            if iq["type"] == "get":
                reply = await self._list(iq, session, channel, items)
            elif iq["type"] == "set" and items:
                for item in items:
                    await self._change(session, channel, item)
                reply = iq.reply(clear=True)
            else:
                raise GatewayError("Expected get, or set with items", "bad-request", "modify")
        except PermissionError as exc:
            mucxml.reply_error(iq, exc.args[0], "cancel", exc.args[1] if len(exc.args) > 1
                               else "")
            return
        except (TimeoutError, ConnectionError):
            mucxml.reply_error(iq, "remote-server-timeout", "wait")
            return
        except GatewayError as exc:
            mucxml.reply_error(iq, exc.condition, exc.etype, exc.text)
            return
        reply.send()

    async def _list(self, iq: Any, session: Session, channel: Channel,
                    items: list[ET.Element]) -> Any:
        wanted = items[0].attrib if items else {}
        reply = iq.reply(clear=True)
        query = ET.SubElement(reply.xml, f"{{{mucxml.MUC_ADMIN}}}query")
        if wanted.get("affiliation") == "outcast":
            listing = await self._await_answer(session, channel, "bans", "",
                                               f"MODE {channel.name} +b")
            bans.outcast_items(query, self.bridge.jids, session.host, listing.replies)
            return reply
        for member in channel.members.values():
            role, affiliation = role_affiliation(member.modes, session.isupport)
            if wanted.get("role", role) == role and wanted.get("affiliation",
                                                               affiliation) == affiliation:
                ET.SubElement(query, f"{{{mucxml.MUC_ADMIN}}}item", {
                    "nick": member.nick, "role": role, "affiliation": affiliation,
                    "jid": self.bridge.jids.nick(session.host, member.nick).partition("/")[0]})
        return reply

    async def _change(self, session: Session, channel: Channel, item: ET.Element) -> None:
        nick, mask = self._target(session, item)
        reason = " ".join(sanitize(item.findtext(f"{{{mucxml.MUC_ADMIN}}}reason") or ""))
        role, affiliation = item.get("role"), item.get("affiliation")
        if mask:
            if affiliation not in ("outcast", "none"):
                raise GatewayError("A ban mask can only be banned or unbanned", "bad-request",
                                   "modify")
            await self._ban(session, channel, "+" if affiliation == "outcast" else "-", mask)
            return
        member = channel.member(nick, session.isupport)
        if affiliation == "outcast":
            mask = bans.check_mask(bans.occupant_mask(member, nick))
            await self._ban(session, channel, "+", mask)
            if member is not None:
                await self._await_answer(session, channel, "kick", member.nick,
                                         f"KICK {channel.name} {member.nick} :{reason}",
                                         BAN_ERRORS)
            return
        if member is None:
            raise GatewayError(f"{nick} is not in the room", "item-not-found", "cancel")
        if role == "none":
            await self._await_answer(session, channel, "kick", nick,
                                     f"KICK {channel.name} {nick} :{reason}")
            return
        want = AFFILIATION_MODES.get(affiliation or "") if affiliation else ROLE_MODES.get(
            role or "")
        if want is None:
            raise GatewayError("Not supported on IRC", "feature-not-implemented", "cancel")
        line = mode_line(channel.name, member.nick, member.modes, want, session.isupport)
        if line:
            await self._await_answer(session, channel, "mode", nick, line)

    def _target(self, session: Session, item: ET.Element) -> tuple[str, str]:
        """(nick, '') or ('', ban mask) from an item's ``nick`` or ``jid``.

        A JID may be an occupant's ``nick%host`` contact, its in-room JID, or a ban from
        the outcast list (``host@gw/mask``); other JIDs mean nothing on IRC.
        """
        if item.get("nick"):
            return item.get("nick") or "", ""
        text = item.get("jid") or ""
        if not text:
            raise GatewayError("Which nick?", "bad-request", "modify")
        try:
            jid = JID(text)
        except InvalidJID as exc:
            raise GatewayError(f"{text} is not a JID", "jid-malformed", "modify") from exc
        if jid.domain != self.bridge.jids.component:
            raise GatewayError("IRC bans nicks and masks, not XMPP accounts",
                               "not-acceptable", "modify")
        address = parse(jid.user, self.bridge.info)
        if address.server != session.host:
            raise GatewayError(f"{text} is not on {session.host}", "not-acceptable", "modify")
        if address.kind == "nick":
            return address.name, ""
        if address.kind == "server" and jid.resource:
            return "", bans.check_mask(jid.resource)
        if address.kind in ("channel", "host_pm") and jid.resource:
            return check_nick(jid.resource), ""
        raise GatewayError(f"{text} names no IRC user", "bad-request", "modify")

    async def _ban(self, session: Session, channel: Channel, sign: str, mask: str) -> None:
        """Set (``+``) or lift (``-``) a ban, and say whether it holds.

        A server echoes a change, but not one that changes nothing (a mask already banned,
        or not banned), so the echo alone can leave the request unanswered. The ban list is
        asked for right after the change: the server handles our lines in order, so when
        the list ends the echo or error has come, and otherwise the list shows the outcome.
        """
        change = Pending("mode", channel.folded, "", errors=BAN_ERRORS)
        listing = Pending("bans", channel.folded, "")
        session.pending += (change, listing)
        session.write_soon(f"MODE {channel.name} {sign}b {mask}")
        session.write_soon(f"MODE {channel.name} +b")
        try:
            await asyncio.wait_for(listing.future, ANSWER_TIMEOUT)
        finally:
            for pending in (change, listing):
                if pending in session.pending:
                    session.pending.remove(pending)
                if pending.future.done() and not pending.future.cancelled():
                    pending.future.exception()  # seen here, raised below when it matters
        if change.future.done():
            change.future.result()
        elif bans.listed(listing.replies, mask, session.isupport) != (sign == "+"):
            raise GatewayError(f"{session.host} did not change the ban list", "not-allowed",
                               "cancel")

    async def _await_answer(self, session: Session, channel: Channel, kind: str, nick: str,
                            line: str, errors: Mapping[str, str] | None = None) -> Pending:
        """Send ``line`` and wait for what answers it (see ``Pending``)."""
        pending = Pending(kind, channel.folded, nick, errors=errors or {})
        session.pending.append(pending)
        session.write_soon(line)
        try:
            await asyncio.wait_for(pending.future, ANSWER_TIMEOUT)
        finally:
            if pending in session.pending:
                session.pending.remove(pending)
        return pending
