"""Which XMPP resources sit in which room under which nick: the core's only room state.

One ``RoomPresence`` per (user, room) while at least one of the user's resources is in
the room or waiting to be: all of them share one membership on the legacy network. The
occupant list stays with the backend (``Rooms.occupants``); what is kept here is small
and per user: the resources, the user's nick and own occupant, and the subject.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum

from transport.core.rooms import Affiliation, JoinRequest, Occupant, Role, Show


class Phase(Enum):
    """Where the user's membership stands."""

    JOINING = "joining"  # the backend was asked to join (or rejoins); resources wait
    JOINED = "joined"  # the backend said ``joined``: new resources are answered at once


@dataclass(slots=True)
class Waiting:
    """A resource waiting for the join; ``timer`` is cancelled when it is answered."""

    request: JoinRequest
    timer: asyncio.TimerHandle | None = None


# Shared while nobody waits or asks for a nick (almost always): a user in many rooms keeps
# no empty dicts. Only ``RoomPresence.wait``/``ask_nick`` write, into a dict of its own.
_NO_WAITING: dict[str, Waiting] = {}
_NO_REQUESTS: dict[str, str] = {}


class RoomPresence:
    """The user's membership of one room, shared by their resources."""

    __slots__ = ("_affiliation", "_nick", "_role", "_show", "localpart", "nick_requests",
                 "phase", "resources", "subject", "subject_by", "waiting")

    def __init__(self, localpart: str) -> None:
        self.localpart = localpart
        self.phase = Phase.JOINING
        # The user's own occupant, kept as its fields (no object each per room and user).
        self._nick: str | None = None
        self._role: Role = "participant"
        self._affiliation: Affiliation = "none"
        self._show: Show | None = None
        # Joined full JIDs -> the nick each asked for (a 210 when the room gave another).
        self.resources: dict[str, str] = {}
        self.waiting = _NO_WAITING
        self.nick_requests = _NO_REQUESTS
        self.subject: str | None = None
        self.subject_by = ""

    @property
    def me(self) -> Occupant | None:
        """The user's own occupant, once the backend said ``joined``."""
        if self._nick is None:
            return None
        return Occupant(self._nick, self._role, self._affiliation, None, self._show)

    @me.setter
    def me(self, occupant: Occupant) -> None:
        self._nick, self._role = occupant.nick, occupant.role
        self._affiliation, self._show = occupant.affiliation, occupant.show

    @property
    def nick(self) -> str:
        return self._nick or ""

    def wait(self, full: str, entry: Waiting) -> None:
        if self.waiting is _NO_WAITING:
            self.waiting = {}
        self.waiting[full] = entry

    def take_waiting(self) -> dict[str, Waiting]:
        """The waiting resources, now no longer waiting."""
        waiting, self.waiting = self.waiting, _NO_WAITING
        return waiting

    def ask_nick(self, full: str, nick: str) -> None:
        if self.nick_requests is _NO_REQUESTS:
            self.nick_requests = {}
        self.nick_requests[full] = nick

    def take_nick_requests(self) -> dict[str, str]:
        requests, self.nick_requests = self.nick_requests, _NO_REQUESTS
        return requests

    @property
    def empty(self) -> bool:
        return not self.resources and not self.waiting


class Occupancy:
    """Every user's ``RoomPresence``, by (bare JID, room key)."""

    __slots__ = ("_rooms", "by_key")

    def __init__(self) -> None:
        self._rooms: dict[tuple[str, str], RoomPresence] = {}
        # ``by_key((user, room))``: the dict's own ``get``, for the relay's per-line lookup.
        self.by_key = self._rooms.get

    def get(self, user: str, room: str) -> RoomPresence | None:
        return self._rooms.get((user, room))

    def open(self, user: str, room: str, localpart: str) -> RoomPresence:
        state = self._rooms.get((user, room))
        if state is None:
            state = self._rooms[(user, room)] = RoomPresence(localpart)
        return state

    def drop(self, user: str, room: str) -> RoomPresence | None:
        return self._rooms.pop((user, room), None)

    def of_resource(self, full: str) -> list[tuple[str, str]]:
        """The (user, room) pairs a full JID is in or waits for."""
        user = full.partition("/")[0]
        return [key for key, state in self._rooms.items()
                if key[0] == user and (full in state.resources or full in state.waiting)]

    def pairs(self) -> list[tuple[str, str]]:
        return list(self._rooms)

    def __len__(self) -> int:
        return len(self._rooms)
