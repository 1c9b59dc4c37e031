"""What the MUC service's parts share: the backend's hooks, the state and the output."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from transport.core.errors import GatewayError
from transport.core.events import XmppMessage
from transport.core.room_hooks import Rooms
from transport.core.rooms import RoomOutput
from transport.xmpp.component import GatewayComponent
from transport.xmpp.muc.state import Occupancy, RoomPresence
from transport.xmpp.muc.xml import occupant_jid

DeliverMany = Callable[[Sequence[XmppMessage]], Awaitable[bool]]
SendInTurn = Callable[[str], None]


class OrderedOutput:
    """Room stanzas in turn with the backend's messages: presences behind every message
    queued before them (the pump's ``send_in_turn``), messages through the durable queue,
    each after the backend handed over what it held back (``Rooms.output``)."""

    def __init__(self, deliver_many: DeliverMany, send_in_turn: SendInTurn,
                 held: RoomOutput | None) -> None:
        self.deliver_many = deliver_many
        self.send_in_turn = send_in_turn
        self.held = held

    async def presences(self, user: str, room: str, xml: str) -> None:
        if self.held is not None:
            await self.held.flush(user, room)
        self.send_in_turn(xml)

    async def messages(self, user: str, room: str, messages: Sequence[XmppMessage]) -> None:
        if self.held is not None:
            await self.held.flush(user, room)
        await self.deliver_many(messages)


@dataclass(slots=True)
class MucContext:
    """One component's MUC service state, handed to each of its parts."""

    component_jid: str
    xmpp: GatewayComponent
    hooks: Rooms
    occupancy: Occupancy
    output: OrderedOutput

    def room_key(self, jid: Any) -> str | None:
        """The room a JID addressed to the component names, or None."""
        if not jid.user or jid.domain != self.component_jid:
            return None
        try:
            return self.hooks.room_key(jid.user)
        except GatewayError:
            return None

    def room_jid(self, state: RoomPresence | None, room: str, nick: str = "") -> str:
        """``room@component[/nick]`` as the user spelt the room (the bare room JID when no
        JID can hold ``nick``)."""
        local = state.localpart if state is not None else room
        jid = f"{local}@{self.component_jid}"
        if not nick:
            return jid
        return occupant_jid(jid, nick) or jid
