"""What a group-capable backend implements: ``Backend.rooms`` is one of these.

The core's MUC service calls these hooks, one user at a time, and answers XEP-0045 from
what they return or raise (a ``GatewayError`` becomes the error the user sees). The
backend keeps its network's member lists; the core pulls occupants from ``occupants``
when it needs them and keeps only which resources sit in which room under which nick.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import ClassVar

from transport.core.errors import GatewayError
from transport.core.rooms import (
    AdminItem,
    ConfigForm,
    FormValues,
    JoinRequest,
    Occupant,
    RoomArchive,
    RoomInfo,
    RoomOutput,
)


class Rooms(ABC):
    """Hooks of a backend's group chats; override the four abstract ones at least.

    Every async hook runs while a user's XMPP request waits: a slow network answers
    later through ``BackendContext.rooms`` (``joined``, ``join_failed``...).
    """

    # Occupants see each other's ``Occupant.jid`` (XEP-0045 status code 100 on join).
    non_anonymous: ClassVar[bool] = False
    # Seconds a resource waits for ``joined`` before an error presence; None: for ever.
    join_timeout: float | None = 60.0
    # History on join and MAM; None: no history, no MAM.
    archive: RoomArchive | None = None
    # Messages the backend holds back in batches of its own, flushed before each room
    # stanza; None: everything it has is handed to ``deliver`` already.
    output: RoomOutput | None = None

    @abstractmethod
    def room_key(self, localpart: str) -> str | None:
        """The room a JID localpart names, as a canonical localpart, or None when the
        localpart is no room (a contact, a server). Called for every MUC stanza: keep it
        cheap."""

    def check_nick(self, nick: str) -> None:
        """Raise a ``GatewayError`` (``jid-malformed``...) for a nick the network refuses."""

    @abstractmethod
    async def join(self, user: str, room: str, request: JoinRequest) -> None:
        """The first resource of ``user`` joins: join on the network as ``request.nick``.

        Report the outcome with ``rooms.joined`` (at once when the user is in already)
        or ``rooms.join_failed``; raising a ``GatewayError`` refuses the join now.
        """

    @abstractmethod
    async def leave(self, user: str, room: str, status: str) -> None:
        """The user's last resource left (``status``: its parting words, maybe '')."""

    @abstractmethod
    def occupants(self, user: str, room: str) -> Iterable[Occupant]:
        """Who else is in the room as the user's connection sees it (not the user).

        Pulled for each join sequence; an iterator over the backend's own list is fine.
        """

    async def join_expired(self, user: str, room: str, last: bool) -> str:
        """A resource waited ``join_timeout`` in vain: the error text it gets.

        ``last``: no other resource wants the room any more, so the backend may stop
        trying (the core forgets the room for the user; ``leave`` is not called).
        """
        return "The room did not let you in in time"

    async def change_nick(self, user: str, room: str, nick: str) -> None:
        """A resource asked for another nick: answer with ``rooms.occupant_renamed``
        (``me=True``) or ``rooms.nick_change_failed``."""
        raise GatewayError("Nick changes are not supported here", "not-allowed", "cancel")

    async def set_subject(self, user: str, room: str, subject: str) -> None:
        """Change the subject; ``rooms.subject_changed`` tells everyone when it is done."""
        raise GatewayError("The subject cannot be changed here", "forbidden", "auth")

    async def invite(self, user: str, room: str, localpart: str, resource: str,
                     reason: str) -> None:
        """Invite someone of the network (a JID under the component) into the room.

        Invitations to other JIDs are sent by the core as XEP-0045 mediated invitations.
        """
        raise GatewayError("Invitations are not supported here", "feature-not-implemented",
                           "cancel")

    async def admin_list(
        self, user: str, room: str, item: AdminItem
    ) -> Sequence[AdminItem] | None:
        """A ``muc#admin`` list: the entries matching ``item``'s role or affiliation.

        None (the default): the core lists the occupants that match (``occupants`` plus
        the user), and an empty ``outcast`` list.
        """
        return None

    async def admin_change(self, user: str, room: str, item: AdminItem) -> None:
        """Apply one ``muc#admin`` change (kick: role ``none``; ban: ``outcast``)."""
        raise GatewayError("Not supported here", "feature-not-implemented", "cancel")

    async def config_form(self, user: str, room: str) -> ConfigForm | None:
        """The ``muc#owner`` form; None: the room cannot be configured."""
        return None

    async def configure(self, user: str, room: str, values: FormValues) -> None:
        """Apply a submitted ``muc#owner`` form (raise ``GatewayError`` to refuse it).

        Values are strings, booleans for boolean fields, lists for multi-value ones.
        """
        raise GatewayError("This room cannot be configured", "feature-not-implemented",
                           "cancel")

    async def room_info(self, user: str, room: str) -> RoomInfo | None:
        """disco#info of the room for ``user``; None: the room key as its name.

        Asked only when ``Backend.disco_info`` returned None for the room.
        """
        return None
