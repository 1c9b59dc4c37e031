"""A backend with rooms and a registration form, on the toy network of ``network``.

Users register a nickname (XEP-0077 or the ``register`` command), then join rooms as
``#name@component/anything``: the network gives them their registered nickname (a 210
status code when they asked for another). The core's MUC service does all of XEP-0045;
this file only maps the network's events to ``ctx.rooms`` and the hooks to the network.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from examples.roomchat.archive import LineArchive
from examples.roomchat.network import BOT, Line, Member, Network, NetworkError, Room
from transport.core.backend import (
    Backend,
    BackendContext,
    FormField,
    Identity,
    RegistrationSpec,
)
from transport.core.errors import AddressError, DeliveryRefused, GatewayError, RegistrationRefused
from transport.core.events import OutgoingMessage, Registration, SendOutcome
from transport.core.room_hooks import Rooms
from transport.core.rooms import (
    AdminItem,
    ConfigForm,
    FormValues,
    JoinRequest,
    Occupant,
    RoomInfo,
)
from transport.xmpp.namespaces import MUC


def occupant(member: Member) -> Occupant:
    """How a member shows in the room: its owner moderates, accounts are members."""
    if member.owner:
        return Occupant(member.nick, "moderator", "owner")
    return Occupant(member.nick, "participant", "none" if member.user is None else "member")


class ChatRooms(Rooms):
    """The room hooks: each one a call on the network.

    A hook only asks; the answer comes back as an event on ``ctx.rooms`` (``joined``,
    ``occupant_renamed``...), told by ``Relay`` when the network says it happened.
    """

    join_timeout = 10.0  # seconds a joining resource waits for ``joined``

    def __init__(self, ctx: BackendContext, network: Network) -> None:
        self.ctx = ctx
        self.network = network
        self.archive = LineArchive(network)  # history on join and MAM; None: neither

    def room_key(self, localpart: str) -> str | None:
        """``#Lobby`` and ``#lobby`` are one room; any other localpart is no room."""
        return localpart.lower() if localpart.startswith("#") and len(localpart) > 1 else None

    async def join(self, user: str, room: str, request: JoinRequest) -> None:
        known = self.network.rooms.get(room)
        member = known.by_user(user) if known is not None else None
        if known is not None and member is not None:  # in already: say so at once
            await self.ctx.rooms.joined(user, room, occupant(member), subject=known.subject,
                                        subject_by=known.subject_by)
            return
        # Only registered users reach this hook (``registration`` is set): the network
        # knows them by the nick they registered, whatever nick the join asked for.
        registration = await self.ctx.registered_user(user)
        nick = registration.data.get("nick", request.nick) if registration else request.nick
        try:
            await self.network.join(room, user, nick)  # ``Relay.entered`` says ``joined``
        except NetworkError as exc:
            await self.ctx.rooms.join_failed(user, room, GatewayError(str(exc), "conflict"))

    async def leave(self, user: str, room: str, status: str) -> None:
        await self.network.part(room, user)

    def occupants(self, user: str, room: str) -> Iterator[Occupant]:
        """Everyone but the user: the core adds the user's own occupant itself."""
        known = self.network.rooms.get(room)
        for member in known.members.values() if known is not None else ():
            if member.user != user:
                yield occupant(member)

    async def change_nick(self, user: str, room: str, nick: str) -> None:
        try:
            await self.network.rename(room, user, nick)
        except NetworkError as exc:
            await self.ctx.rooms.nick_change_failed(user, room,
                                                    GatewayError(str(exc), "conflict"))

    async def set_subject(self, user: str, room: str, subject: str) -> None:
        await self.network.set_subject(room, user, subject)

    async def admin_change(self, user: str, room: str, item: AdminItem) -> None:
        """``muc#admin`` set: a kick is ``role="none"``; the network's refusals become the
        XMPP errors the user sees."""
        if item.role != "none" or not item.nick:
            raise GatewayError("Only kicks by nick are supported", "feature-not-implemented")
        try:
            await self.network.kick(room, user, item.nick, item.reason)
        except PermissionError as exc:
            raise GatewayError(str(exc), "forbidden", "auth") from exc
        except KeyError as exc:
            raise GatewayError(f"{item.nick} is not here", "item-not-found") from exc

    async def config_form(self, user: str, room: str) -> ConfigForm | None:
        known = self.network.rooms.get(room)
        subject = known.subject if known is not None else ""
        return ConfigForm(f"Configure {room}", (FormField("subject", "Subject", value=subject),))

    async def configure(self, user: str, room: str, values: FormValues) -> None:
        subject = values.get("subject")
        if isinstance(subject, str):
            await self.set_subject(user, room, subject)

    async def room_info(self, user: str, room: str) -> RoomInfo | None:
        known = self.network.rooms.get(room)
        if known is None:
            return RoomInfo(room, features=("muc_open", "muc_temporary"))
        return RoomInfo(room, subject=known.subject, occupants=len(known.members),
                        features=("muc_open", "muc_temporary"))


class Relay:
    """The network's events, told to each account's user through ``ctx.rooms``."""

    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx

    async def entered(self, room: Room, member: Member, created: bool) -> None:
        if member.user is not None:
            await self.ctx.rooms.joined(member.user, room.name, occupant(member),
                                        subject=room.subject, subject_by=room.subject_by,
                                        created=created)
        for other in room.accounts():
            if other is not member and other.user is not None:
                await self.ctx.rooms.occupant_joined(other.user, room.name, occupant(member))

    async def left(self, room: Room, member: Member) -> None:
        for other in room.accounts():
            if other.user is not None:
                await self.ctx.rooms.occupant_left(other.user, room.name, occupant(member))

    async def renamed(self, room: Room, member: Member, old_nick: str) -> None:
        for other in room.accounts():
            if other.user is not None:
                await self.ctx.rooms.occupant_renamed(other.user, room.name, occupant(member),
                                                      old_nick, me=other is member)

    async def said(self, room: Room, line: Line) -> None:
        for other in room.accounts():
            if other.user is not None:
                await self.ctx.deliver_many(self.ctx.rooms.groupchat(
                    other.user, room.name, line.nick, line.body, uid=line.uid))

    async def subject_set(self, room: Room) -> None:
        for other in room.accounts():
            if other.user is not None:
                await self.ctx.rooms.subject_changed(other.user, room.name, room.subject,
                                                     room.subject_by)

    async def kicked(self, room: Room, member: Member, by: str, reason: str) -> None:
        for other in [*room.accounts(), member]:
            if other.user is not None:
                await self.ctx.rooms.kicked(other.user, room.name, occupant(member), actor=by,
                                            reason=reason or None, me=other is member)


class RoomChatBackend(Backend[None]):
    """Rooms of the toy network as MUC rooms; a nickname as registration."""

    name = "roomchat"
    # "conference/text" makes clients offer the domain as a group chat service.
    identities = (Identity("conference", "text", "Room chat"),
                  Identity("gateway", "roomchat", "Room chat"))
    features = (MUC,)
    legacy_key_name = "nickname"  # "This nickname is already registered by another user"
    registration = RegistrationSpec(
        "Choose the nickname you go by in every room.",
        (FormField("nick", "Nickname", required=True),))

    def __init__(self, ctx: BackendContext, settings: None) -> None:
        super().__init__(ctx, settings)
        self.network = Network(Relay(ctx))
        self.rooms = ChatRooms(ctx, self.network)

    def normalize_contact(self, localpart: str) -> str:
        if not localpart.startswith("#"):
            raise AddressError("Only rooms (#name) live here")
        return localpart.lower()

    def addressing_help(self, component_jid: str) -> str:
        return f"Join rooms as #NAME@{component_jid}."

    async def validate_registration(self, user: str, values: Mapping[str, str]) -> Registration:
        nick = values.get("nick", "").strip()
        if not 0 < len(nick) <= 32 or " " in nick or nick.lower() == BOT:
            raise RegistrationRefused("A nickname has 1 to 32 characters, no spaces")
        # The legacy key is unique per component: no two users register one nickname.
        return Registration(legacy_key=nick.lower(), data={"nick": nick})

    async def on_unregistered(self, user: str, registration: Registration) -> None:
        for name in [n for n, r in self.network.rooms.items() if r.by_user(user)]:
            await self.network.part(name, user)

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """A message to a room (``contact`` is its key). The network echoes it to every
        member through ``Relay.said``, the sender included, as a room does."""
        if message.type != "groupchat" or message.resource:  # a chat, or a private message
            raise DeliveryRefused("Only messages to a whole room are carried",
                                  "feature-not-implemented")
        try:
            await self.network.say(message.contact, message.user, message.body,
                                   message.stanza_id)
        except NetworkError as exc:
            raise DeliveryRefused(str(exc), "not-acceptable", "modify") from exc
        return SendOutcome(confirmed=True)  # the network took it: all it will ever say
