"""The MUC service of a group-capable backend: registers the XMPP handlers once.

Presences to room JIDs (joins, leaves, nick changes), bodiless room messages (subject,
invitations, client errors), ``muc#admin``, ``muc#owner`` and, when the backend has an
archive, MAM. ``events`` is what the backend sees as ``BackendContext.rooms``.
"""

from __future__ import annotations

from slixmpp.xmlstream.handler import CoroutineCallback

from transport.core.backend import ContactInfo, DataForm, FormField, Identity
from transport.core.room_hooks import Rooms
from transport.xmpp.component import GatewayComponent
from transport.xmpp.matchers import IqChild
from transport.xmpp.muc import xml
from transport.xmpp.muc.admin import AdminHandler
from transport.xmpp.muc.context import DeliverMany, MucContext, OrderedOutput, SendInTurn
from transport.xmpp.muc.events import RoomEventsService
from transport.xmpp.muc.joins import JoinHandler, MayUse
from transport.xmpp.muc.mam import MAM_NS, MamHandler
from transport.xmpp.muc.notices import NoticeHandler
from transport.xmpp.muc.state import Occupancy
from transport.xmpp.namespaces import MUC, MUC_ROOMINFO, MUC_SELF_PING, SID
from transport.xmpp.stanzas import BodilessMessage

MUC_FEATURES = (MUC, "muc#stable_id", SID, MUC_SELF_PING)
ROOMINFO = MUC_ROOMINFO


class MucService:
    """One component's MUC service."""

    def __init__(self, xmpp: GatewayComponent, component_jid: str, hooks: Rooms,
                 deliver_many: DeliverMany, send_in_turn: SendInTurn, may_use: MayUse) -> None:
        output = OrderedOutput(deliver_many, send_in_turn, hooks.output)
        self.ctx = MucContext(component_jid, xmpp, hooks, Occupancy(), output)
        self.events = RoomEventsService(self.ctx)
        self.joins = JoinHandler(self.ctx, may_use)
        self.notices = NoticeHandler(self.ctx, self.joins)
        self.admin = AdminHandler(self.ctx)
        xmpp.add_event_handler("presence", self.joins.on_presence)
        xmpp.register_handler(CoroutineCallback(
            "room messages", BodilessMessage(), self.notices.on_message))
        xmpp.register_handler(CoroutineCallback(
            "muc admin", IqChild(xml.MUC_ADMIN, "query"), self.admin.on_admin))
        xmpp.register_handler(CoroutineCallback(
            "muc owner", IqChild(xml.MUC_OWNER, "query"), self.admin.on_owner))
        if hooks.archive is not None:
            self.mam: MamHandler | None = MamHandler(self.ctx)
            xmpp.register_handler(CoroutineCallback(
                "room mam", IqChild(MAM_NS, "query"), self.mam.on_iq))
        else:
            self.mam = None

    async def room_disco(self, user: str, localpart: str, resource: str) -> ContactInfo | None:
        """disco#info of a room JID from ``Rooms.room_info``; None when it is no room."""
        room = self.ctx.hooks.room_key(localpart)
        if room is None or resource:
            return None
        info = await self.ctx.hooks.room_info(user, room)
        name = info.name if info is not None else room
        features = [*MUC_FEATURES]
        if self.ctx.hooks.non_anonymous:
            features.append("muc_nonanonymous")
        if self.ctx.hooks.archive is not None:
            features.append(MAM_NS)
        if info is not None:
            features += [f for f in info.features if f not in features]
        extensions: tuple[DataForm, ...] = ()
        if info is not None and (info.occupants is not None or info.subject is not None):
            fields: list[FormField] = []
            if info.occupants is not None:
                fields.append(FormField("muc#roominfo_occupants", "Number of occupants",
                                        type="text-single", value=str(info.occupants)))
            if info.subject is not None:
                fields.append(FormField("muc#roominfo_subject", "Subject", value=info.subject))
            extensions = (DataForm(ROOMINFO, tuple(fields)),)
        return ContactInfo(identities=(Identity("conference", "text", name),),
                           features=tuple(features), name=name, extensions=extensions)

    async def shutdown(self) -> None:
        """The gateway stops: every joined resource learns it is out (status 332)."""
        for user, room in self.ctx.occupancy.pairs():
            await self.events.closed(user, room, shutdown=True)
