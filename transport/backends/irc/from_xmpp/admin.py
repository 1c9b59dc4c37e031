"""``muc#admin`` on a room: occupant and ban lists, kicks, roles, affiliations and bans.

Each change becomes the IRC command biboumi sends (the mode table is in ``channel``; how
ban masks look on the XMPP side is in ``bans``) and is answered when the server echoes
it (KICK, MODE), or with the stanza error matching the numeric it sent instead. A ban
change is also checked against the ban list read right after it, since servers do not
echo a change that changes nothing. The core's MUC service parses the requests and
answers them (only a resource joined to the room may ask).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping

from slixmpp import JID
from slixmpp.jid import InvalidJID

from transport.backends.irc.addressing import check_nick, parse
from transport.backends.irc.context import IrcContext
from transport.backends.irc.from_xmpp import bans
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
from transport.core.rooms import AdminItem

ANSWER_TIMEOUT = 10.0
# XEP-0045 §9.1: a ban by someone without the privilege is <forbidden/>.
BAN_ERRORS: Mapping[str, str] = {"482": "forbidden"}


class MucAdmin:
    """Answers the core's muc#admin hooks: lists (occupants, bans) and changes."""

    def __init__(self, bridge: IrcContext) -> None:
        self.bridge = bridge

    async def listing(self, session: Session, channel: Channel,
                      wanted: AdminItem) -> list[AdminItem]:
        with _as_stanza_errors():
            if wanted.affiliation == "outcast":
                answer = await self._await_answer(session, channel, "bans", "",
                                                  f"MODE {channel.name} +b")
                return bans.outcast_entries(self.bridge.jids, session.host, answer.replies)
            found = []
            for member in channel.members.values():
                role, affiliation = role_affiliation(member.modes, session.isupport)
                if wanted.role in (None, role) and wanted.affiliation in (None, affiliation):
                    found.append(AdminItem(
                        nick=member.nick, role=role, affiliation=affiliation,
                        jid=self.bridge.jids.nick(session.host, member.nick).partition("/")[0]))
            return found

    async def change(self, session: Session, channel: Channel, item: AdminItem) -> None:
        with _as_stanza_errors():
            await self._change(session, channel, item)

    async def _change(self, session: Session, channel: Channel, item: AdminItem) -> None:
        nick, mask = self._target(session, item)
        reason = " ".join(sanitize(item.reason))
        role, affiliation = item.role, item.affiliation
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

    def _target(self, session: Session, item: AdminItem) -> tuple[str, str]:
        """(nick, '') or ('', ban mask) from an item's ``nick`` or ``jid``.

        A JID may be an occupant's ``nick%host`` contact, its in-room JID, or a ban from
        the outcast list (``host@gw/mask``); other JIDs mean nothing on IRC.
        """
        if item.nick:
            return item.nick, ""
        text = item.jid or ""
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


@contextlib.contextmanager
def _as_stanza_errors() -> Iterator[None]:
    """What IRC answered (an error numeric, no answer, a lost link) as a stanza error."""
    try:
        yield
    except PermissionError as exc:
        raise GatewayError(exc.args[1] if len(exc.args) > 1 else "", exc.args[0],
                           "cancel") from exc
    except (TimeoutError, ConnectionError) as exc:
        raise GatewayError("", "remote-server-timeout", "wait") from exc
