"""Group chats as neutral data: occupants, join and history requests, archive pages.

A group-capable backend sets ``Backend.rooms`` to a ``transport.core.room_hooks.Rooms``;
the core's MUC service (``transport.xmpp.muc``) then speaks XEP-0045 for it, and the
backend reports what happens on its network through ``BackendContext.rooms`` (a
``RoomEvents``). Rooms are named by a *room key*: the canonical name the backend gives a
room JID's localpart (``Rooms.room_key``), so that two spellings of one room are one room.
Nothing here knows slixmpp or any network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from transport.core.commands import FormField
from transport.core.commands import FormValues as FormValues  # what a submitted form holds
from transport.core.errors import GatewayError
from transport.core.events import XmppMessage

Role = Literal["moderator", "participant", "visitor", "none"]
Affiliation = Literal["owner", "admin", "member", "outcast", "none"]
Show = Literal["away", "chat", "dnd", "xa"]


@dataclass(frozen=True, slots=True)
class Occupant:
    """Someone in a room as users see them.

    ``jid`` is what the room tells users about who they are (a contact JID under the
    component, for a non-anonymous room), or None; the user's own occupant always shows
    the user's full JID, whatever this says.
    """

    nick: str
    role: Role = "participant"
    affiliation: Affiliation = "none"
    jid: str | None = None
    show: Show | None = None


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """XEP-0045 ``<history/>`` limits of a join (``maxchars=0`` means none); all optional."""

    maxstanzas: int | None = None
    maxchars: int | None = None
    seconds: int | None = None
    since: float | None = None


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """A join the core hands the backend: the first of a user's resources to ask.

    ``localpart`` is the room JID's localpart as the user wrote it.
    """

    resource: str
    localpart: str
    nick: str
    password: str = ""
    history: HistoryRequest = HistoryRequest()


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """What disco#info tells about a room (the core adds the MUC features)."""

    name: str
    subject: str | None = None
    occupants: int | None = None
    features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConfigForm:
    """A room's ``muc#owner`` configuration form."""

    title: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True, slots=True)
class AdminItem:
    """A ``muc#admin`` item: one entry of a list, or one change asked for.

    A change names its target by ``nick`` or ``jid`` (as the user typed it) and sets a
    ``role`` or an ``affiliation``; a list entry has what the room knows.
    """

    nick: str | None = None
    jid: str | None = None
    role: Role | None = None
    affiliation: Affiliation | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ArchivedMessage:
    """One archived room message; ``uid`` is its XEP-0359 stanza-id and MAM id.

    ``body`` is as users see it (``/me ...`` for actions, say).
    """

    uid: str
    nick: str
    body: str
    timestamp: float


@dataclass(frozen=True, slots=True)
class ArchiveQuery:
    """An XEP-0313 query on a room: ``before=""`` asks for the last page."""

    start: float | None = None
    end: float | None = None
    with_nick: str | None = None
    after: str | None = None
    before: str | None = None
    max_results: int = 100


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """A MAM result page, oldest first; ``complete`` when nothing is left that way."""

    messages: tuple[ArchivedMessage, ...]
    complete: bool
    count: int | None = None
    first_index: int | None = None


class RoomArchive(Protocol):
    """History on join and MAM for rooms (``Rooms.archive``)."""

    async def join_history(
        self, user: str, room: str, request: HistoryRequest
    ) -> Sequence[ArchivedMessage]:
        """What a joining resource of ``user`` (bare JID) sees again, oldest first.

        The core applies ``maxchars``; the archive applies the rest, and its own limits.
        """

    async def query(self, user: str, room: str, query: ArchiveQuery) -> ArchivePage:
        """A MAM page; an unknown ``after``/``before`` id raises ``KeyError``."""


class RoomOutput(Protocol):
    """Messages a backend holds back before handing them to ``deliver`` (``Rooms.output``).

    The core sends its room stanzas behind every message handed to ``deliver`` before
    them. A backend that collects messages into batches of its own first sets one, so
    that the core's stanzas do not overtake what is still in its hands.
    """

    async def flush(self, user: str, room: str) -> None:
        """Hand ``deliver``/``deliver_many`` what is held for ``user``; called before each
        room stanza the core sends to ``user`` about ``room``."""


class RoomEvents(Protocol):
    """``BackendContext.rooms``: what the backend tells the core about its rooms.

    Every method takes the user's bare JID and the room key. Events about a room none of
    the user's resources is in (a room the backend keeps joined on its own) cost nothing.
    """

    def resources(self, user: str, room: str) -> Mapping[str, str]:
        """The full JIDs of ``user`` in the room (joined, not waiting), each with the nick
        it asked for; for relaying to each of them. A live view: copy it to keep it."""

    def room_jid(self, user: str, room: str, nick: str = "") -> str:
        """The room's JID as the user joined it (``room/nick`` when ``nick``; the bare room
        when no JID can hold ``nick``)."""

    def groupchat(
        self, user: str, room: str, nick: str, body: str, *, uid: str | None = None
    ) -> list[XmppMessage]:
        """The groupchat messages saying ``body`` as ``nick`` to each joined resource,
        for ``BackendContext.deliver_many`` (``uid`` becomes the stanza-id)."""

    async def joined(
        self, user: str, room: str, me: Occupant, *, subject: str | None = None,
        subject_by: str = "", created: bool = False,
    ) -> None:
        """The user is in the room as ``me``: waiting resources get the join sequence.

        Call it once per ``Rooms.join`` (at once when the room is already joined), and
        after a rejoin (``rejoining``)."""

    async def join_failed(self, user: str, room: str, error: GatewayError) -> None:
        """The room refused the user: waiting resources get an error presence."""

    async def rejoining(self, user: str, room: str) -> None:
        """The backend lost the room for a while (a reconnect): new joins wait for the
        next ``joined`` instead of being answered from what the core knows."""

    async def occupant_joined(self, user: str, room: str, occupant: Occupant) -> None:
        """Someone came in."""

    async def occupant_changed(
        self, user: str, room: str, occupant: Occupant, *, me: bool = False
    ) -> None:
        """An occupant's role, affiliation or show changed (``me``: the user's own)."""

    async def occupant_left(
        self, user: str, room: str, occupant: Occupant, *, status: str | None = None
    ) -> None:
        """Someone left (``status``: their parting words)."""

    async def occupant_renamed(
        self, user: str, room: str, occupant: Occupant, old_nick: str, *, me: bool = False
    ) -> None:
        """``old_nick`` is now ``occupant.nick`` (``me``: the user changed nick)."""

    async def nick_change_failed(self, user: str, room: str, error: GatewayError) -> None:
        """The nick a resource asked for (``Rooms.change_nick``) was refused."""

    async def subject_changed(
        self, user: str, room: str, subject: str | None, by: str = ""
    ) -> None:
        """The room's subject is now ``subject`` (None: no subject), set by nick ``by``."""

    async def kicked(
        self, user: str, room: str, occupant: Occupant, *, actor: str | None = None,
        reason: str | None = None, me: bool = False,
    ) -> None:
        """An occupant was kicked (``me``: the user was, and is out of the room)."""

    async def banned(
        self, user: str, room: str, occupant: Occupant, *, actor: str | None = None,
        reason: str | None = None, me: bool = False,
    ) -> None:
        """An occupant was banned (``me``: the user was, and is out of the room)."""

    async def closed(
        self, user: str, room: str, *, status: str | None = None, shutdown: bool = False
    ) -> None:
        """The user is out of the room (parted from elsewhere, the room went away, or
        ``shutdown``: the gateway stops); every resource gets its unavailable presence."""

    async def invited(
        self, user: str, room: str, inviter: str, *, reason: str = "", password: str = ""
    ) -> None:
        """Someone (``inviter``, a JID) invites the user into the room (XEP-0045 §7.8.2)."""
