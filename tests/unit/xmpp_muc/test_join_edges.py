"""Edges of joining: history limits of zero, and a backend that joins after everyone left."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

from transport.core.events import XmppMessage
from transport.core.room_hooks import Rooms
from transport.core.rooms import ArchivedMessage, HistoryRequest, JoinRequest, Occupant
from transport.xmpp.muc.context import MucContext
from transport.xmpp.muc.events import RoomEventsService
from transport.xmpp.muc.sequence import history_messages, join_sequence
from transport.xmpp.muc.state import Occupancy, Waiting

USER = "alice@localhost"
FULL = f"{USER}/phone"
ROOM = "#lobby"
T0 = 1_700_000_000.0


class Archive:
    """Three lines, whatever the request; records the requests it was asked."""

    def __init__(self) -> None:
        self.asked: list[HistoryRequest] = []

    async def join_history(self, user: str, room: str,
                           request: HistoryRequest) -> Sequence[ArchivedMessage]:
        self.asked.append(request)
        return [ArchivedMessage(f"id{i}", "carol", f"line {i}", T0 + i) for i in range(3)]

    async def query(self, user: str, room: str, query: object) -> object:
        raise AssertionError("no MAM here")


class Output:
    """What the service sent, in order."""

    def __init__(self) -> None:
        self.presence_batches: list[str] = []
        self.sent: list[XmppMessage] = []

    async def presences(self, user: str, room: str, xml: str) -> None:
        self.presence_batches.append(xml)

    async def messages(self, user: str, room: str, messages: Sequence[XmppMessage]) -> None:
        self.sent.extend(messages)


class LobbyRooms(Rooms):
    """A room service whose ``leave`` is recorded (and whose ``join`` does nothing)."""

    def __init__(self) -> None:
        self.archive = Archive()  # type: ignore[assignment]
        self.left: list[tuple[str, str]] = []

    def room_key(self, localpart: str) -> str | None:
        return localpart if localpart.startswith("#") else None

    async def join(self, user: str, room: str, request: JoinRequest) -> None:
        return None

    async def leave(self, user: str, room: str, status: str) -> None:
        self.left.append((user, room))

    def occupants(self, user: str, room: str) -> Iterator[Occupant]:
        return iter(())


def context() -> tuple[MucContext, LobbyRooms, Output]:
    rooms, output = LobbyRooms(), Output()
    return MucContext("gw.localhost", None, rooms, Occupancy(), output), rooms, output  # type: ignore[arg-type]


async def test_maxchars_zero_sends_no_history():
    """XEP-0045 7.2.15: ``maxchars='0'`` asks for no history at all."""
    ctx, _, _ = context()
    state = ctx.occupancy.open(USER, ROOM, ROOM)
    assert await history_messages(ctx, state, USER, ROOM, FULL, HistoryRequest(maxchars=0)) == []
    assert await history_messages(ctx, state, USER, ROOM, FULL,
                                  HistoryRequest(maxstanzas=5, maxchars=0)) == []
    assert len(await history_messages(ctx, state, USER, ROOM, FULL, HistoryRequest())) == 3


async def test_join_sequence_with_maxchars_zero_ends_with_the_subject_alone():
    ctx, _, output = context()
    state = ctx.occupancy.open(USER, ROOM, ROOM)
    state.me = Occupant("alice")
    state.subject = "Welcome"
    await join_sequence(ctx, state, USER, ROOM, FULL, "alice", HistoryRequest(maxchars=0))
    assert [(m.subject, m.body) for m in output.sent] == [("Welcome", None)]


async def test_a_backend_that_joins_after_every_resource_left_is_told_to_leave():
    ctx, rooms, output = context()
    events = RoomEventsService(ctx)
    await events.joined(USER, ROOM, Occupant("alice"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert rooms.left == [(USER, ROOM)]
    assert output.presence_batches == [] and output.sent == []


async def test_the_late_leave_is_skipped_when_a_resource_joins_meanwhile():
    ctx, rooms, _ = context()
    events = RoomEventsService(ctx)
    await events.joined(USER, ROOM, Occupant("alice"))
    state = ctx.occupancy.open(USER, ROOM, ROOM)  # a join, before the leave's turn
    state.wait(FULL, Waiting(JoinRequest(FULL, ROOM, "alice")))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert rooms.left == []
    await events.joined(USER, ROOM, Occupant("alice"))
    assert FULL in state.resources, "the waiting resource got its join sequence"
