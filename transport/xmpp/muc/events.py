"""Backend -> XMPP: the ``RoomEvents`` a backend calls (``BackendContext.rooms``).

Each event turns into the presences or messages XEP-0045 asks for, to every resource of
the user in the room; events about a room none of them is in are dropped at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import MappingProxyType

from transport.core.errors import GatewayError
from transport.core.events import MucInvite, XmppMessage
from transport.core.rooms import Occupant
from transport.xmpp.muc import xml
from transport.xmpp.muc.context import MucContext
from transport.xmpp.muc.sequence import join_sequence
from transport.xmpp.muc.state import Phase, RoomPresence, Waiting

log = logging.getLogger(__name__)
_NONE: Mapping[str, str] = MappingProxyType({})


class RoomEventsService:
    """Implements ``transport.core.rooms.RoomEvents`` for one component."""

    def __init__(self, ctx: MucContext) -> None:
        self.ctx = ctx
        self._by_key = ctx.occupancy.by_key

    # -- reading ----------------------------------------------------------------------------

    def resources(self, user: str, room: str) -> Mapping[str, str]:
        state = self._by_key((user, room))
        return _NONE if state is None else state.resources

    def room_jid(self, user: str, room: str, nick: str = "") -> str:
        return self.ctx.room_jid(self.ctx.occupancy.get(user, room), room, nick)

    def groupchat(self, user: str, room: str, nick: str, body: str, *,
                  uid: str | None = None) -> list[XmppMessage]:
        state = self.ctx.occupancy.get(user, room)
        if state is None or not state.resources:
            return []
        sender = self.ctx.room_jid(state, room, nick)
        if nick and sender.find("/") < 0:
            body = f"<{nick}> {body}"
        by = self.ctx.room_jid(state, room) if uid else None
        return [XmppMessage(to=full, sender=sender, type="groupchat", body=body, id=uid,
                            stanza_id_by=by) for full in state.resources]

    # -- joining ----------------------------------------------------------------------------

    async def joined(self, user: str, room: str, me: Occupant, *, subject: str | None = None,
                     subject_by: str = "", created: bool = False) -> None:
        state = self.ctx.occupancy.get(user, room)
        if state is None:
            return
        state.phase = Phase.JOINED
        state.me = me
        state.subject, state.subject_by = subject, subject_by
        waiting = state.take_waiting()
        for full, entry in waiting.items():
            _cancel(entry.timer)
            await join_sequence(self.ctx, state, user, room, full, entry.request.nick,
                                entry.request.history, created=created)

    async def join_failed(self, user: str, room: str, error: GatewayError) -> None:
        state = self.ctx.occupancy.get(user, room)
        if state is None:
            return
        waiting = state.take_waiting()
        batch = []
        for full, entry in waiting.items():
            _cancel(entry.timer)
            batch.append(xml.error_presence(self.ctx.room_jid(state, room, entry.request.nick),
                                            full, error.condition, error.etype, error.text))
        log.info("%s could not join %s: %s", user, room, error.condition)
        if state.empty:
            self.ctx.occupancy.drop(user, room)
        if batch:
            await self.ctx.output.presences(user, room, "".join(batch))

    async def rejoining(self, user: str, room: str) -> None:
        state = self.ctx.occupancy.get(user, room)
        if state is not None:
            state.phase = Phase.JOINING

    # -- occupants --------------------------------------------------------------------------

    async def occupant_joined(self, user: str, room: str, occupant: Occupant) -> None:
        await self._to_all(user, room, occupant)

    async def occupant_changed(self, user: str, room: str, occupant: Occupant, *,
                               me: bool = False) -> None:
        if me:
            state = self.ctx.occupancy.get(user, room)
            if state is not None:
                state.me = occupant
        await self._to_all(user, room, occupant, me=me)

    async def occupant_left(self, user: str, room: str, occupant: Occupant, *,
                            status: str | None = None) -> None:
        await self._to_all(user, room, occupant, unavailable=True, status=status)

    async def occupant_renamed(self, user: str, room: str, occupant: Occupant, old_nick: str,
                               *, me: bool = False) -> None:
        state = self.ctx.occupancy.get(user, room)
        if state is None:
            return
        if me:
            state.take_nick_requests()
        old = Occupant(old_nick, occupant.role, occupant.affiliation, occupant.jid)
        batch = self._presences(state, room, old, me=me, unavailable=True,
                                codes=(xml.NEW_NICK,), new_nick=occupant.nick)
        if me:
            state.me = occupant
            for full in state.resources:
                state.resources[full] = occupant.nick
        batch += self._presences(state, room, occupant, me=me)
        if batch:
            await self.ctx.output.presences(user, room, batch)

    async def nick_change_failed(self, user: str, room: str, error: GatewayError) -> None:
        state = self.ctx.occupancy.get(user, room)
        if state is None or not state.nick_requests:
            return
        requests = state.take_nick_requests()
        batch = "".join(
            xml.error_presence(self.ctx.room_jid(state, room, nick), full, error.condition,
                               error.etype, error.text)
            for full, nick in requests.items() if full in state.resources)
        if batch:
            await self.ctx.output.presences(user, room, batch)

    async def subject_changed(self, user: str, room: str, subject: str | None,
                              by: str = "") -> None:
        state = self.ctx.occupancy.get(user, room)
        if state is None:
            return
        state.subject, state.subject_by = subject, by
        sender = self.ctx.room_jid(state, room, by)
        messages = [XmppMessage(to=full, sender=sender, type="groupchat", subject=subject or "")
                    for full in state.resources]
        if messages:
            await self.ctx.output.messages(user, room, messages)

    async def kicked(self, user: str, room: str, occupant: Occupant, *, actor: str | None = None,
                     reason: str | None = None, me: bool = False) -> None:
        await self._removed(user, room, occupant, xml.KICKED, actor, reason, me, "")

    async def banned(self, user: str, room: str, occupant: Occupant, *, actor: str | None = None,
                     reason: str | None = None, me: bool = False) -> None:
        await self._removed(user, room, occupant, xml.BANNED, actor, reason, me, "outcast")

    async def closed(self, user: str, room: str, *, status: str | None = None,
                     shutdown: bool = False) -> None:
        state = self.ctx.occupancy.drop(user, room)
        if state is None:
            return
        codes = (xml.SHUTDOWN,) if shutdown else ()
        sender = self.ctx.room_jid(state, room, state.nick)
        batch = "".join(xml.self_gone(sender, full, codes=codes, status=status)
                        for full in state.resources)
        batch += self._refuse_waiting(state, room, status or "The room is gone")
        if batch:
            await self.ctx.output.presences(user, room, batch)

    async def invited(self, user: str, room: str, inviter: str, *, reason: str = "",
                      password: str = "") -> None:
        message = XmppMessage(to=user, sender=self.room_jid(user, room), type="normal",
                              invite=MucInvite(inviter, reason, password))
        await self.ctx.output.messages(user, room, [message])

    # -- helpers ----------------------------------------------------------------------------

    async def _removed(self, user: str, room: str, occupant: Occupant, code: int,
                       actor: str | None, reason: str | None, me: bool,
                       affiliation: str) -> None:
        if not me:
            await self._to_all(user, room, occupant, unavailable=True, codes=(code,),
                               actor=actor, reason=reason, affiliation=affiliation or None)
            return
        state = self.ctx.occupancy.drop(user, room)
        if state is None:
            return
        sender = self.ctx.room_jid(state, room, state.nick)
        batch = "".join(
            xml.self_gone(sender, full, codes=(code,), actor=actor, reason=reason,
                          affiliation=affiliation or "none")
            for full in state.resources)
        batch += self._refuse_waiting(state, room, reason or "You were removed from the room")
        if batch:
            await self.ctx.output.presences(user, room, batch)

    def _refuse_waiting(self, state: RoomPresence, room: str, text: str) -> str:
        """Error presences for resources still waiting to join a room the user is out of."""
        return "".join(
            xml.error_presence(self.ctx.room_jid(state, room, entry.request.nick), full,
                               "service-unavailable", "cancel", text)
            for full, entry in _cancelled(state.take_waiting()))

    async def _to_all(self, user: str, room: str, occupant: Occupant, *, me: bool = False,
                      unavailable: bool = False, codes: tuple[int, ...] = (),
                      status: str | None = None, actor: str | None = None,
                      reason: str | None = None, affiliation: str | None = None) -> None:
        state = self.ctx.occupancy.get(user, room)
        if state is None or not state.resources:
            return
        batch = self._presences(state, room, occupant, me=me, unavailable=unavailable,
                                codes=codes, status=status, actor=actor, reason=reason,
                                affiliation=affiliation)
        if batch:
            await self.ctx.output.presences(user, room, batch)

    def _presences(self, state: RoomPresence, room: str, occupant: Occupant, *,
                   me: bool = False, unavailable: bool = False, codes: tuple[int, ...] = (),
                   status: str | None = None, new_nick: str | None = None,
                   actor: str | None = None, reason: str | None = None,
                   affiliation: str | None = None) -> str:
        """``occupant``'s presence to each joined resource ('' when no JID holds its nick)."""
        sender = xml.occupant_jid(self.ctx.room_jid(state, room), occupant.nick)
        if sender is None:
            return ""
        if me:
            codes = (*codes, xml.SELF)
        return "".join(
            xml.occupant_presence(sender, full, occupant, jid=full if me else None,
                                  codes=codes, unavailable=unavailable, status=status,
                                  new_nick=new_nick, actor=actor, reason=reason,
                                  affiliation=affiliation)
            for full in state.resources)


def _cancel(timer: asyncio.TimerHandle | None) -> None:
    if timer is not None:
        timer.cancel()


def _cancelled(waiting: dict[str, Waiting]) -> list[tuple[str, Waiting]]:
    for entry in waiting.values():
        _cancel(entry.timer)
    return list(waiting.items())
