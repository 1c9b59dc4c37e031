"""Edges of joining: history limits of zero, and a backend that joins after everyone left."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

from transport.core.events import XmppMessage
from transport.core.room_hooks import Rooms
from transport.core.rooms import ArchivedMessage, HistoryRequest, JoinRequest, Occupant
from transport.xmpp.muc.context import MucContext
from transport.xmpp.muc.events import RoomEventsService
from transport.xmpp.muc.joins import JoinHandler
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


async def turns() -> None:
    """Let the tasks the service started run."""
    for _ in range(3):
        await asyncio.sleep(0)


def waiting_join(ctx: MucContext) -> None:
    """A resource waits for the backend's join (its ``join`` was called)."""
    state = ctx.occupancy.open(USER, ROOM, ROOM)
    state.wait(FULL, Waiting(JoinRequest(FULL, ROOM, "alice")))


async def may_use(user: str) -> bool:
    return True


async def test_a_backend_that_joins_after_every_resource_left_is_told_to_leave():
    ctx, rooms, output = context()
    events, joins = RoomEventsService(ctx), JoinHandler(ctx, may_use)
    waiting_join(ctx)
    await joins.leave(USER, ROOM, FULL, "")
    assert rooms.left == [(USER, ROOM)], "asked to leave while it was still joining"
    await events.joined(USER, ROOM, Occupant("alice"))
    await turns()
    assert rooms.left == [(USER, ROOM)] * 2, "joined after all: it leaves again"
    assert output.presence_batches == [] and output.sent == []
    assert not events._leaving


async def test_a_backend_put_in_a_room_with_no_resource_there_leaves():
    """The network put the user there (or a restore did): the backend is told to leave,
    and keeps a membership it wants (a persistent channel) in its ``leave``."""
    ctx, rooms, _ = context()
    await RoomEventsService(ctx).joined(USER, ROOM, Occupant("alice"))
    await turns()
    assert rooms.left == [(USER, ROOM)]


async def test_the_late_leave_is_skipped_when_a_resource_joins_meanwhile():
    ctx, rooms, _ = context()
    events, joins = RoomEventsService(ctx), JoinHandler(ctx, may_use)
    waiting_join(ctx)
    await joins.leave(USER, ROOM, FULL, "")
    await events.joined(USER, ROOM, Occupant("alice"))
    waiting_join(ctx)  # joins again before the late leave's turn
    await turns()
    assert rooms.left == [(USER, ROOM)], "the second join wants the membership"
    await events.joined(USER, ROOM, Occupant("alice"))
    assert FULL in ctx.occupancy.get(USER, ROOM).resources, "it got its join sequence"
