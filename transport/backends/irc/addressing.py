"""biboumi's JID scheme: ``#chan%host``, ``nick%host``, ``host`` and ``%host/nick``.

Localparts arrive XEP-0106 escaped; they are unescaped before parsing and escaped again
for the canonical contact form. Whether ``x%host`` is a channel or a nick depends on the
server's CHANTYPES and folding on its CASEMAPPING, which ``NetworkInfo`` remembers from the
last connection to that host (``#&`` and rfc1459 before any).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal, TypeVar

from slixmpp import JID
from slixmpp.jid import InvalidJID

from transport.backends.irc.protocol import ISupport, casefold
from transport.core.errors import AddressError
from transport.xmpp.escaping import escape_node, unescape_node

Kind = Literal["server", "channel", "nick", "host_pm"]

_HOST = re.compile(r"^[a-z0-9]([a-z0-9.:-]{0,251}[a-z0-9])?$")
_BAD_CHANNEL = re.compile(r"[\s,\x00-\x1f]")
_BAD_NICK = re.compile(r"[\s,!@*?\x00-\x1f]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed localpart. ``name`` is the channel or nick as written ('' for a server)."""

    kind: Kind
    server: str
    name: str = ""


_CACHE_LIMIT = 10_000
K = TypeVar("K")
V = TypeVar("V")


class NetworkInfo:
    """CHANTYPES and CASEMAPPING per host, learnt from the servers' ISUPPORT.

    Also remembers parsed and canonical localparts: every relayed line is addressed by one,
    and reading it again (unescaping, checks, folding) was a visible share of the relay.
    What the server tells us can change both, so learning anything new forgets them.
    """

    def __init__(self) -> None:
        self._known: dict[str, tuple[str, str]] = {}
        self.parsed: dict[str, Address] = {}
        self.canonical: dict[Address, str] = {}

    def learn(self, host: str, isupport: ISupport) -> None:
        known = (isupport.chantypes, isupport.casemapping)
        if self._known.get(host.lower()) != known:
            self._known[host.lower()] = known
            self.parsed.clear()
            self.canonical.clear()

    def chantypes(self, host: str) -> str:
        return self._known.get(host.lower(), ("#&", "rfc1459"))[0]

    def fold(self, host: str, name: str) -> str:
        return casefold(name, self._known.get(host.lower(), ("#&", "rfc1459"))[1])


def parse(localpart: str, info: NetworkInfo) -> Address:
    """Read an (escaped) localpart; raise ``AddressError`` when it names nothing IRC."""
    address = info.parsed.get(localpart)
    return address if address is not None else _remember(
        info.parsed, localpart, _parse(localpart, info))


def _parse(localpart: str, info: NetworkInfo) -> Address:
    text = unescape_node(localpart)
    if "%" not in text:
        return Address("server", _host(text))
    name, _, host = text.rpartition("%")
    server = _host(host)
    if not name:
        return Address("host_pm", server)
    if name[0] in info.chantypes(server):
        if _BAD_CHANNEL.search(name) or len(name.encode()) > 200:
            raise AddressError(f"{name!r} is not a valid IRC channel name")
        return Address("channel", server, name)
    check_nick(name)
    return Address("nick", server, name)


def _host(text: str) -> str:
    host = text.lower()
    if not _HOST.match(host) or ".." in host:
        raise AddressError(f"{text!r} is not an IRC server name")
    return host


def check_nick(nick: str) -> str:
    """A nick usable in IRC commands, or ``AddressError``."""
    if not nick or _BAD_NICK.search(nick) or nick[0] in ":#&" or len(nick.encode()) > 100:
        raise AddressError(f"{nick!r} is not a valid IRC nick")
    return nick


def canonical(address: Address, info: NetworkInfo) -> str:
    """The stable (escaped) contact localpart: host lower-cased, name folded."""
    text = info.canonical.get(address)
    return text if text is not None else _remember(
        info.canonical, address, _canonical(address, info))


def _remember(cache: dict[K, V], key: K, value: V) -> V:
    """Store ``value`` in a bounded cache (emptied when full) and return it."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def _canonical(address: Address, info: NetworkInfo) -> str:
    if address.kind == "server":
        return address.server
    if address.kind == "host_pm":
        return f"%{address.server}"
    folded = info.fold(address.server, address.name)
    return escape_node(f"{folded}%{address.server}")


class Jids:
    """Builds the JIDs the gateway speaks from, under one component domain."""

    def __init__(self, component: str) -> None:
        self.component = component

    def server(self, host: str) -> str:
        return f"{host}@{self.component}"

    def room(self, local: str, nick: str = "") -> str:
        """``local`` is the room's escaped localpart as the user's client wrote it."""
        return f"{local}@{self.component}/{nick}" if nick else f"{local}@{self.component}"

    def nick(self, host: str, nick: str) -> str:
        """``nick%host@gw``, or ``%host@gw/nick`` when no localpart can hold the nick."""
        try:
            if _CONTROL.search(nick):
                raise ValueError("control characters")
            jid = JID(f"{escape_node(nick.lower() + '%' + host)}@{self.component}")
            return str(jid)
        except (InvalidJID, ValueError):
            return self.host_pm(host, nick)

    def host_pm(self, host: str, nick: str) -> str:
        return f"%{host}@{self.component}/{nick}"


def valid_resource(room: str, nick: str) -> bool:
    """Whether ``room/nick`` is a JID at all (occupants whose nick cannot be are skipped)."""
    return occupant_jid(room, nick) is not None


@functools.lru_cache(maxsize=4096)
def occupant_jid(room: str, nick: str) -> str | None:
    """``room/nick`` normalized as slixmpp writes a ``from`` it is given, or None when no
    JID can hold it. Remembered: every relayed channel line asks, for the same few nicks."""
    if _CONTROL.search(nick):
        return None
    try:
        return str(JID(f"{room}/{nick}"))
    except (InvalidJID, ValueError):
        return None
