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


class DirectOutput:
    """The default ``RoomOutput``: presences straight onto the stream, messages queued."""

    def __init__(self, xmpp: GatewayComponent, deliver_many: DeliverMany) -> None:
        self.xmpp = xmpp
        self.deliver_many = deliver_many

    async def presences(self, user: str, room: str, xml: str) -> None:
        self.xmpp.send(xml)  # the stream's queue: in order with the stanzas before it

    async def messages(self, user: str, room: str, messages: Sequence[XmppMessage]) -> None:
        await self.deliver_many(messages)


@dataclass(slots=True)
class MucContext:
    """One component's MUC service state, handed to each of its parts."""

    component_jid: str
    xmpp: GatewayComponent
    hooks: Rooms
    occupancy: Occupancy
    output: RoomOutput

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
