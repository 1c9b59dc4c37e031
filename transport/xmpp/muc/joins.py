"""XMPP -> backend for occupancy: joins, leaves and nick changes (directed presences).

The first resource of a user to join asks the backend (``Rooms.join``); the others wait
for the same ``joined``, or, once the user is in, get the join sequence at once, without
legacy traffic (a client that lost its stream without resuming it joins again and waits
for the whole sequence). The last resource to leave makes the backend leave.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from transport.core.errors import GatewayError
from transport.core.rooms import HistoryRequest, JoinRequest
from transport.xmpp.muc import xml
from transport.xmpp.muc.context import MucContext
from transport.xmpp.muc.sequence import join_sequence
from transport.xmpp.muc.state import Phase, Waiting
from transport.xmpp.stanzas import bare

log = logging.getLogger(__name__)
_SUBSCRIPTIONS = frozenset({"subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe"})
MayUse = Callable[[str], Awaitable[bool]]


class JoinHandler:
    """Handles presences to room JIDs."""

    def __init__(self, ctx: MucContext, may_use: MayUse) -> None:
        self.ctx = ctx
        self.may_use = may_use
        self._expiries: set[asyncio.Task[None]] = set()

    async def on_presence(self, pres: Any) -> None:
        ptype = pres["type"]
        if ptype in _SUBSCRIPTIONS:
            return
        to = pres["to"]
        room = self.ctx.room_key(to)
        if room is None:
            return
        full, user, nick = str(pres["from"]), bare(pres["from"]), to.resource
        try:
            if not await self.may_use(user):
                raise GatewayError("You may not use this gateway", "forbidden", "auth")
            if ptype in ("unavailable", "error"):
                await self._unavailable(pres, user, room, full, ptype == "error")
                return
            if not nick:
                raise GatewayError("Join with a nick: room@gateway/nick", "jid-malformed",
                                   "modify")
            self.ctx.hooks.check_nick(nick)
            await self._available(pres, user, room, full, nick)
        except GatewayError as exc:
            await self.ctx.output.presences(user, room, xml.error_presence(
                str(to), full, exc.condition, exc.etype, exc.text))

    async def _unavailable(self, pres: Any, user: str, room: str, full: str,
                           errored: bool) -> None:
        if self.ctx.occupancy.get(user, room) is not None:
            await self.leave(user, room, full, "" if errored else pres["status"])
        elif not errored:  # not in the room as far as we know: say so anyway
            await self.ctx.output.presences(user, room, xml.self_gone(
                str(pres["to"]), full, show_jid=False))

    async def _available(self, pres: Any, user: str, room: str, full: str, nick: str) -> None:
        state = self.ctx.occupancy.get(user, room)
        muc = pres.xml.find(f"{{{xml.MUC}}}x")
        if muc is None and state is not None and (
                full in state.resources or full in state.waiting):
            if full in state.resources and nick != state.nick:
                state.ask_nick(full, nick)
                await self.ctx.hooks.change_nick(user, room, nick)
            return
        request = JoinRequest(full, pres["to"].user, nick, join_password(muc),
                              history_request(muc))
        log.info("%s joins %s", full, room)
        if state is not None and state.phase is Phase.JOINED:
            entry = state.waiting.pop(full, None)
            if entry is not None and entry.timer is not None:
                entry.timer.cancel()
            await join_sequence(self.ctx, state, user, room, full, nick, request.history)
            return
        first = state is None
        state = self.ctx.occupancy.open(user, room, pres["to"].user)
        old = state.waiting.get(full)
        if old is not None and old.timer is not None:
            old.timer.cancel()
        state.wait(full, Waiting(request, self._arm(user, room, full, request)))
        if not first:
            return
        try:
            await self.ctx.hooks.join(user, room, request)
        except GatewayError:
            self._forget(user, room, full)
            raise

    def _forget(self, user: str, room: str, full: str) -> None:
        state = self.ctx.occupancy.get(user, room)
        if state is None:
            return
        entry = state.waiting.pop(full, None)
        if entry is not None and entry.timer is not None:
            entry.timer.cancel()
        if state.empty:
            self.ctx.occupancy.drop(user, room)

    def _arm(self, user: str, room: str, full: str,
             request: JoinRequest) -> asyncio.TimerHandle | None:
        timeout = self.ctx.hooks.join_timeout
        if timeout is None:
            return None

        def expire() -> None:
            task = asyncio.get_running_loop().create_task(
                self._expired(user, room, full, request))
            self._expiries.add(task)
            task.add_done_callback(self._expiries.discard)

        return asyncio.get_running_loop().call_later(timeout, expire)

    async def _expired(self, user: str, room: str, full: str, request: JoinRequest) -> None:
        """A join still waiting after ``join_timeout`` ends in an error the client can
        show, never pending for ever."""
        state = self.ctx.occupancy.get(user, room)
        entry = state.waiting.get(full) if state is not None else None
        if state is None or entry is None or entry.request is not request:
            return
        del state.waiting[full]
        last = state.empty
        if last:
            self.ctx.occupancy.drop(user, room)
        log.info("Join of %s to %s timed out", full, room)
        text = await self.ctx.hooks.join_expired(user, room, last)
        await self.ctx.output.presences(user, room, xml.error_presence(
            self.ctx.room_jid(state, room, request.nick), full, "remote-server-timeout", "wait",
            text))

    async def leave(self, user: str, room: str, full: str, status: str) -> None:
        """A resource leaves (or errored); the last one makes the backend leave."""
        state = self.ctx.occupancy.get(user, room)
        if state is None:
            return
        was_in = state.resources.pop(full, None) is not None
        entry = state.waiting.pop(full, None)
        if entry is not None and entry.timer is not None:
            entry.timer.cancel()
        state.nick_requests.pop(full, None)
        if was_in:
            await self.ctx.output.presences(user, room, xml.self_gone(
                self.ctx.room_jid(state, room, state.nick), full, status=status or None))
        if not state.empty:
            return
        self.ctx.occupancy.drop(user, room)
        await self.ctx.hooks.leave(user, room, status)

    async def remove_resource(self, full: str) -> None:
        """A resource went away: take it out of every room it is in."""
        for user, room in self.ctx.occupancy.of_resource(full):
            await self.leave(user, room, full, "")


def join_password(muc: Any) -> str:
    if muc is None:
        return ""
    return (muc.findtext(f"{{{xml.MUC}}}password") or "").strip()


def history_request(muc: Any) -> HistoryRequest:
    """XEP-0045 ``<history/>`` attributes -> request (bad numbers are ignored)."""
    history = muc.find(f"{{{xml.MUC}}}history") if muc is not None else None
    if history is None:
        return HistoryRequest()
    attrs = history.attrib

    def number(name: str) -> int | None:
        try:
            value = int(attrs[name])
        except (KeyError, ValueError):
            return None
        return value if value >= 0 else None

    since: float | None = None
    if "since" in attrs:
        try:
            since = datetime.fromisoformat(attrs["since"].replace("Z", "+00:00")).timestamp()
        except ValueError:
            since = None
    return HistoryRequest(number("maxstanzas"), number("maxchars"), number("seconds"), since)
