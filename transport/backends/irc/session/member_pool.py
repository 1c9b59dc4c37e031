"""Channel members shared by every connection that sees them.

Each user's IRC connection keeps its own member list of each channel it is in, so N users
in one channel of N people hold N x N entries. What an entry says (nick, prefix modes,
user, host, away) is almost always the same for every connection, so a member is an
immutable value interned in a pool: a connection's list holds references to shared
members, and a change (mode, away, host, nick) makes that list point at another one. Its
strings are interned too, the folded nicks used as keys included.
"""

from __future__ import annotations

import sys
import weakref
from dataclasses import dataclass

_Key = tuple[str, str, str | None, str | None, bool]


@dataclass(frozen=True, slots=True, weakref_slot=True)
class Member:
    """One occupant of a channel: never changed in place (see ``MemberPool``)."""

    nick: str
    modes: str = ""
    user: str | None = None
    host: str | None = None
    away: bool = False


def intern(text: str) -> str:
    """The one shared copy of ``text`` (freed when nothing uses it any more)."""
    return sys.intern(text)


def _intern_or_none(text: str | None) -> str | None:
    return None if text is None else sys.intern(text)


class MemberPool:
    """Hands out one shared ``Member`` per distinct value, for as long as one is in use.

    Members are held weakly: when no member list refers to one any more, it goes.
    """

    __slots__ = ("_live",)

    def __init__(self) -> None:
        self._live: weakref.WeakValueDictionary[_Key, Member] = weakref.WeakValueDictionary()

    def __len__(self) -> int:
        return len(self._live)

    def get(self, nick: str, modes: str = "", user: str | None = None,
            host: str | None = None, away: bool = False) -> Member:
        key = (nick, modes, user, host, away)
        member = self._live.get(key)
        if member is None:
            member = Member(sys.intern(nick), sys.intern(modes), _intern_or_none(user),
                            _intern_or_none(host), away)
            self._live[(member.nick, member.modes, member.user, member.host, away)] = member
        return member

    def changed(self, member: Member, *, nick: str | None = None, modes: str | None = None,
                user: str | None = None, host: str | None = None, away: bool | None = None,
                userhost: bool = False) -> Member:
        """``member`` with some fields changed (``userhost``: set user and host, even to
        None), from the pool."""
        return self.get(
            member.nick if nick is None else nick,
            member.modes if modes is None else modes,
            user if userhost else member.user,
            host if userhost else member.host,
            member.away if away is None else away)


POOL = MemberPool()
"""The process's pool: members are plain values, so every channel and server can share it."""
