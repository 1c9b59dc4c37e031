"""One joined IRC channel as seen by one user's connection: members, modes, topic.

Roles and affiliations follow biboumi's table: the most powerful prefix mode a member
holds decides (q/a: moderator+owner, o: moderator+admin, h: moderator+member,
v: participant+member, none: participant+none).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from transport.backends.irc.protocol import ISupport
from transport.backends.irc.protocol.lite import Flag
from transport.backends.irc.session.member_pool import POOL, intern
from transport.backends.irc.session.member_pool import Member as Member  # where callers look for it
from transport.core.rooms import Affiliation, Role

_BY_MODE: dict[str, tuple[Role, Affiliation]] = {
    "q": ("moderator", "owner"),
    "a": ("moderator", "owner"),
    "o": ("moderator", "admin"),
    "h": ("moderator", "member"),
    "v": ("participant", "member"),
}
# What a muc#admin change asks of IRC: modes to add, held modes to remove (biboumi).
AFFILIATION_MODES = {
    "none": ("", "vhoaq"),
    "member": ("v", "hoaq"),
    "admin": ("o", "aq"),
    "owner": ("a", "q"),
}
ROLE_MODES = {
    "moderator": ("h", "oaq"),
    "participant": ("", "h"),
    "visitor": ("", "vh"),
}


def role_affiliation(modes: str, isupport: ISupport) -> tuple[Role, Affiliation]:
    for letter in isupport.prefix[0]:
        if letter in modes and letter in _BY_MODE:
            return _BY_MODE[letter]
    for letter in modes:
        if letter in _BY_MODE:
            return _BY_MODE[letter]
    return ("participant", "none")


def parse_modes(args: list[str], isupport: ISupport) -> list[tuple[bool, str, str]]:
    """``["+o-k", "a", "key"]`` -> ``[(True, "o", "a"), (False, "k", "key")]``."""
    if not args:
        return []
    changes: list[tuple[bool, str, str]] = []
    params = list(args[1:])
    adding = True
    for letter in args[0]:
        if letter in "+-":
            adding = letter == "+"
            continue
        arg = params.pop(0) if isupport.mode_takes_param(letter, adding) and params else ""
        changes.append((adding, letter, arg))
    return changes


def mode_line(channel: str, nick: str, held: str, want: tuple[str, str], isupport: ISupport) -> str:
    """The MODE command for a muc#admin change, or '' when nothing needs changing."""
    available = isupport.prefix[0]
    add = [m for m in want[0] if m in available and m not in held]
    remove = [m for m in want[1] if m in available and m in held]
    if not add and not remove:
        return ""
    letters = ("+" + "".join(add) if add else "") + ("-" + "".join(remove) if remove else "")
    return f"MODE {channel} {letters} " + " ".join([nick] * (len(add) + len(remove)))


class Channel:
    """Channel state of one user's connection; which of the user's resources are in the
    room is the MUC service's to know (``ctx.rooms.resources(user, channel.room)``).

    ``members`` maps folded nicks to shared, immutable members (see ``members``): change
    them through the methods here, which put another member in their place.
    """

    __slots__ = ("_reflections", "before_rejoin", "folded", "in_use", "joined", "key",
                 "members", "name", "persistent", "ready", "recording", "room",
                 "room_local", "topic", "topic_by", "window_open")

    def __init__(self, name: str, folded: str, room_local: str, key: str = "", *,
                 room: str = "") -> None:
        self.name = name
        self.folded = folded
        self.room_local = room_local
        self.key = key
        self.members: dict[str, Member] = {}
        self.topic: str | None = None
        self.topic_by = ""
        # The MUC service's name for the room (``IrcRooms.room_key``), and whether any of
        # the user's resources is in it or waits for it there.
        self.room = room or room_local
        self.in_use = False
        self.joined = False
        self.persistent = False
        self.recording = False
        self.before_rejoin: dict[str, Member] | None = None
        self.ready = Flag()
        self._reflections: deque[tuple[str, str, str]] | None = None
        self.window_open = False

    @property
    def reflections(self) -> deque[tuple[str, str, str]]:
        """Lines we sent, awaiting their echo (echo-message); made when first needed."""
        if self._reflections is None:
            self._reflections = deque(maxlen=1000)
        return self._reflections

    @property
    def wanted(self) -> bool:
        """Someone (a resource, a waiting join or persistence) still wants this channel."""
        return self.in_use or self.persistent

    def add_member(self, name: str, isupport: ISupport) -> Member:
        """A NAMES entry (``@+nick`` or ``nick!user@host``) or a JOIN source: the member
        now in the list (its modes merged with those already known)."""
        modes, rest = isupport.split_prefixes(name)
        nick, _, userhost = rest.partition("!")
        user, _, host = userhost.partition("@")
        folded = isupport.fold(nick)
        old = self.members.get(folded)
        if old is not None:
            modes = old.modes + modes
        if modes:
            held = set(modes)
            order = isupport.prefix[0]
            modes = "".join(m for m in order if m in held) + "".join(sorted(held - set(order)))
        known: tuple[str | None, str | None] = (None, None)
        if user:
            known = (user, host or None)
        elif old is not None:
            known = (old.user, old.host)
        member = POOL.get(nick, modes, *known, old.away if old is not None else False)
        self.members[intern(folded)] = member
        return member

    def member(self, nick: str, isupport: ISupport) -> Member | None:
        return self.members.get(isupport.fold(nick))

    def remove_member(self, nick: str, isupport: ISupport) -> Member | None:
        return self.members.pop(isupport.fold(nick), None)

    def rename(self, old: str, new: str, isupport: ISupport) -> Member | None:
        """NICK: the member under its new nick (None when it is not here)."""
        member = self.members.pop(isupport.fold(old), None)
        if member is not None:
            member = self.members[intern(isupport.fold(new))] = POOL.changed(member, nick=new)
        return member

    def change_mode(self, nick: str, letter: str, adding: bool,
                    isupport: ISupport) -> Member | None:
        """A prefix mode given or taken: the member as it is now (None when not here)."""
        folded = isupport.fold(nick)
        member = self.members.get(folded)
        if member is None:
            return None
        held = set(member.modes)
        (held.add if adding else held.discard)(letter)
        modes = "".join(m for m in isupport.prefix[0] if m in held)
        if modes != member.modes:
            member = self.members[folded] = POOL.changed(member, modes=modes)
        return member

    def set_away(self, nick: str, away: bool, isupport: ISupport) -> Member | None:
        """AWAY: the member when this changed its away state, else None."""
        folded = isupport.fold(nick)
        member = self.members.get(folded)
        if member is None or member.away == away:
            return None
        member = self.members[folded] = POOL.changed(member, away=away)
        return member

    def set_host(self, nick: str, user: str | None, host: str | None,
                 isupport: ISupport) -> Member | None:
        """CHGHOST: the member with its new user and host (None when not here)."""
        folded = isupport.fold(nick)
        member = self.members.get(folded)
        if member is None:
            return None
        member = self.members[folded] = POOL.changed(member, user=user, host=host,
                                                     userhost=True)
        return member


@dataclass(slots=True)
class Pending:
    """A request waiting for the server's answer or an error numeric.

    ``kind`` says what answers it: ``kick``/``mode`` (the echo of a muc#admin change),
    ``bans`` (a ban list, collected in ``replies``), ``ctcp`` (the CTCP reply of ``nick``
    whose command and argument match ``token``; its text lands in ``replies``).
    ``errors`` maps IRC error numerics to stanza conditions where this request differs
    from the usual ones.
    """

    kind: str
    channel: str
    nick: str
    token: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)
    replies: list[tuple[str, ...]] = field(default_factory=list)
    future: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
