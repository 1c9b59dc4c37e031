"""XMPP -> IRC CTCP round trips: XEP-0092 version and XEP-0199 ping queries to a nick.

As in biboumi, an iq to ``nick%host@gw`` or to an occupant ``#chan%host@gw/nick`` becomes
a CTCP VERSION or PING to that nick, and the nick's CTCP reply (a NOTICE) becomes the iq
result. Unlike biboumi, a nick that never answers gets ``remote-server-timeout`` after
``CTCP_TIMEOUT`` seconds, an unknown nick (401) ``item-not-found``, and a user without a
connection to that server ``service-unavailable``. XEP-0410 self-pings (one's own
occupant JID) and queries to one's own nick are answered locally, without IRC traffic.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from typing import TYPE_CHECKING

from transport.backends.irc.addressing import Address, check_nick, parse
from transport.backends.irc.protocol import IrcNotConnected, make_ctcp
from transport.backends.irc.session.channel_state import Pending
from transport.backends.irc.text import clean
from transport.core.backend import SoftwareVersion
from transport.core.errors import AddressError, GatewayError
from transport.xmpp.stanzas import bare

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session, SessionLookup

CTCP_TIMEOUT = 20.0
_COLON_FORM = re.compile(r"^([^:\s][^:]*):(v?\d[^:]*|):([^:]*)$")
_SPACE_FORM = re.compile(r"^(?P<name>.+?)\s+\(?v?(?P<version>\d[\w.+~-]*)\)?(?P<rest>.*)$", re.S)
_OS_MARK = re.compile(r"\s(?:running\s+on|on|/)\s+(?P<os>\S.*)$", re.I)
_tokens = itertools.count()


def parse_version(text: str) -> SoftwareVersion:
    """Read a CTCP VERSION reply: ``name:version:env`` (the CTCP spec) or the usual
    ``Name 1.2.3 ... on OS`` shapes; what cannot be read stays whole in ``name``."""
    text = clean(text).strip()
    colon = _COLON_FORM.match(text)
    if colon:
        return SoftwareVersion(colon[1].strip(), colon[2].strip().removeprefix("v"),
                               colon[3].strip())
    spaced = _SPACE_FORM.match(text)
    if not spaced:
        return SoftwareVersion(text)
    rest = spaced["rest"]
    os_mark = _OS_MARK.search(rest)
    if os_mark:
        rest = rest[:os_mark.start()]
    version = f"{spaced['version']} {rest.strip(' -')}".strip()
    return SoftwareVersion(spaced["name"].strip(), version,
                           os_mark["os"].strip() if os_mark else "")


def _no_connection(host: str) -> GatewayError:
    return GatewayError(f"You are not connected to {host}", "service-unavailable", "cancel")


class CtcpQueries:
    """Implements the backend's ``ping_contact`` and ``contact_version`` hooks."""

    def __init__(self, manager: SessionLookup, timeout: float = CTCP_TIMEOUT) -> None:
        self.manager = manager
        self.timeout = timeout

    def _address(self, localpart: str) -> Address | None:
        try:
            return parse(localpart, self.manager.bridge.info)
        except AddressError:
            return None

    def _session(self, requester: str, host: str) -> Session:
        session = self.manager.get(bare(requester), host)
        if session is None or not session.ready:
            raise _no_connection(host)
        return session

    def _nick(self, address: Address, resource: str) -> str:
        """The nick an iq to a nick, occupant or ``%host/nick`` JID is for ('' for none)."""
        if address.kind == "nick":
            return address.name
        if address.kind in ("channel", "host_pm") and resource:
            try:
                return check_nick(resource)
            except AddressError as exc:
                raise GatewayError(exc.text, "item-not-found", "cancel") from exc
        return ""

    async def ping(self, requester: str, localpart: str, resource: str) -> None:
        address = self._address(localpart)
        if address is None:
            return
        if (address.kind == "channel" and resource
                and not self._occupant_ping(requester, address, resource)):
            return
        nick = self._nick(address, resource)
        if not nick:
            return
        session = self._session(requester, address.server)
        if session.isupport.equal(nick, session.nick):
            return
        token = f"{int(time.time() * 1000)}{next(_tokens) % 1000:03d}"
        await self._round_trip(session, nick, "PING", token)

    def _occupant_ping(self, requester: str, address: Address, nick: str) -> bool:
        """XEP-0410: pinging one's own occupant JID is answered here (False); pinging
        another occupant needs a CTCP round trip (True). Errors say the user is not joined
        (``not-acceptable``) or the nick is not in the room."""
        session = self.manager.get(bare(requester), address.server)
        channel = session.channels.get(session.isupport.fold(address.name)) if session else None
        joined = session.bridge.ctx.rooms.resources(session.user, channel.room) if (
            session is not None and channel is not None) else {}
        if session is None or channel is None or requester not in joined:
            raise GatewayError("You are not in this room", "not-acceptable", "modify")
        isupport = session.isupport
        if isupport.equal(nick, session.nick) or isupport.equal(nick, joined[requester]):
            return False
        if channel.member(nick, isupport) is None:
            raise GatewayError(f"{nick} is not in the room", "item-not-found", "cancel")
        return True

    async def version(self, requester: str, localpart: str,
                      resource: str) -> SoftwareVersion | None:
        address = self._address(localpart)
        nick = self._nick(address, resource) if address is not None else ""
        if address is None or not nick:
            return None
        session = self._session(requester, address.server)
        if session.isupport.equal(nick, session.nick):
            return None  # the gateway is this nick's IRC client
        text = await self._round_trip(session, nick, "VERSION", "")
        return parse_version(text)

    async def _round_trip(self, session: Session, nick: str, command: str,
                          argument: str) -> str:
        """Send the CTCP request; return the text of the matching reply."""
        pending = Pending("ctcp", "", nick, token=f"{command} {argument}".strip())
        session.pending.append(pending)
        try:
            for line in make_ctcp(nick, command, argument):
                session.write(line)
            await asyncio.wait_for(pending.future, self.timeout)
        except TimeoutError as exc:
            raise GatewayError(f"{nick} did not answer the CTCP {command} in time",
                               "remote-server-timeout", "wait") from exc
        except PermissionError as exc:
            text = exc.args[1] if len(exc.args) > 1 else ""
            raise GatewayError(f"{nick}: {text}" if text else nick, exc.args[0],
                               "cancel") from exc
        except (ConnectionError, IrcNotConnected) as exc:
            raise _no_connection(session.host) from exc
        except ValueError as exc:
            raise GatewayError(str(exc), "jid-malformed", "modify") from exc
        finally:
            if pending in session.pending:
                session.pending.remove(pending)
        return pending.replies[0][0] if pending.replies else ""


def resolve_ctcp(session: Session, nick: str, command: str, text: str) -> bool:
    """A CTCP reply (NOTICE) from ``nick``: answer the oldest request it matches."""
    isupport = session.isupport
    for pending in session.pending:
        if pending.kind != "ctcp" or not isupport.equal(pending.nick, nick):
            continue
        wanted, _, argument = pending.token.partition(" ")
        if wanted != command or (command == "PING" and text.strip() != argument):
            continue
        session.pending.remove(pending)
        pending.replies.append((text,))
        if not pending.future.done():
            pending.future.set_result(None)
        return True
    return False
