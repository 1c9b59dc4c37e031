"""A toy chat network living in the gateway's process: rooms, members, a bot.

It stands for the legacy network a real backend talks to over the wire, and knows
nothing of XMPP. Whoever joins a room first owns it; a bot sits in every room and
answers messages that mention it. What happens is told to a ``Listener``.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

BOT = "bot"
HISTORY = 50


@dataclass(slots=True)
class Member:
    """Someone in a room: an account (``user`` is its owner's bare JID) or the bot."""

    nick: str
    user: str | None = None
    owner: bool = False


@dataclass(frozen=True, slots=True)
class Line:
    """One message said in a room."""

    uid: str
    nick: str
    body: str
    timestamp: float


@dataclass(slots=True)
class Room:
    name: str
    subject: str = ""
    subject_by: str = ""
    members: dict[str, Member] = field(default_factory=dict)
    lines: deque[Line] = field(default_factory=lambda: deque(maxlen=HISTORY))

    def by_user(self, user: str) -> Member | None:
        return next((m for m in self.members.values() if m.user == user), None)

    def accounts(self) -> list[Member]:
        return [m for m in self.members.values() if m.user is not None]


class Listener(Protocol):
    """What the network tells its client (the backend) about."""

    async def entered(self, room: Room, member: Member, created: bool) -> None: ...

    async def left(self, room: Room, member: Member) -> None: ...

    async def renamed(self, room: Room, member: Member, old_nick: str) -> None: ...

    async def said(self, room: Room, line: Line) -> None: ...

    async def subject_set(self, room: Room) -> None: ...

    async def kicked(self, room: Room, member: Member, by: str, reason: str) -> None: ...


class NetworkError(Exception):
    """The network refused a request."""


class Network:
    """Every room of the toy network."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.rooms: dict[str, Room] = {}
        self._ids = itertools.count(1)

    async def join(self, name: str, user: str, nick: str) -> Room:
        room = self.rooms.get(name)
        created = room is None
        if room is None:
            room = self.rooms[name] = Room(name, subject=f"Welcome to {name}")
            room.members[BOT] = Member(BOT)
        elif room.by_user(user) is not None:
            return room
        if nick in room.members:
            raise NetworkError(f"{nick} is taken in {name}")
        member = room.members[nick] = Member(nick, user, owner=created)
        await self.listener.entered(room, member, created)
        return room

    async def part(self, name: str, user: str) -> None:
        room = self.rooms.get(name)
        member = room.by_user(user) if room is not None else None
        if room is None or member is None:
            return
        del room.members[member.nick]
        await self.listener.left(room, member)
        if not room.accounts():
            del self.rooms[name]

    async def say(self, name: str, user: str, body: str, uid: str) -> None:
        room = self.rooms.get(name)
        member = room.by_user(user) if room is not None else None
        if room is None or member is None:
            raise NetworkError(f"You are not in {name}")
        await self._say(room, member.nick, body, uid)
        if BOT in body.lower() and member.nick != BOT:
            await self._say(room, BOT, f"{member.nick}: you said {body!r}", "")

    async def _say(self, room: Room, nick: str, body: str, uid: str) -> None:
        line = Line(uid or f"line-{next(self._ids)}", nick, body, time.time())
        room.lines.append(line)
        await self.listener.said(room, line)

    async def rename(self, name: str, user: str, nick: str) -> None:
        room = self.rooms[name]
        member = room.by_user(user)
        if member is None:
            raise NetworkError(f"You are not in {name}")
        if nick in room.members:
            raise NetworkError(f"{nick} is taken in {name}")
        old = member.nick
        del room.members[old]
        member.nick = nick
        room.members[nick] = member
        await self.listener.renamed(room, member, old)

    async def set_subject(self, name: str, user: str, subject: str) -> None:
        room = self.rooms[name]
        member = room.by_user(user)
        if member is None:
            raise NetworkError(f"You are not in {name}")
        room.subject, room.subject_by = subject, member.nick
        await self.listener.subject_set(room)

    async def kick(self, name: str, user: str, nick: str, reason: str) -> None:
        room = self.rooms[name]
        actor = room.by_user(user)
        if actor is None or not actor.owner:
            raise PermissionError("Only the room's owner kicks")
        target = room.members.get(nick)
        if target is None:
            raise KeyError(nick)
        del room.members[nick]
        await self.listener.kicked(room, target, actor.nick, reason)
