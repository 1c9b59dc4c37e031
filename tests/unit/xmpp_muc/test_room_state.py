"""The per-user room state: waiting resources and nick requests cost nothing when none."""

from __future__ import annotations

from transport.core.rooms import JoinRequest
from transport.xmpp.muc.state import Occupancy, Phase, Waiting


def test_waiting_and_nick_requests_are_per_room_and_taken_once():
    rooms = Occupancy()
    a = rooms.open("u@x", "#a", "#A")
    b = rooms.open("u@x", "#b", "#b")
    assert a.phase is Phase.JOINING and a.empty
    entry = Waiting(JoinRequest("u@x/r", "#A", "me"))
    a.wait("u@x/r", entry)
    a.ask_nick("u@x/r", "other")
    assert b.waiting == {} and b.nick_requests == {}, "another room saw them"
    assert not a.empty and rooms.of_resource("u@x/r") == [("u@x", "#a")]
    assert a.take_waiting() == {"u@x/r": entry} and a.waiting == {}
    assert a.take_nick_requests() == {"u@x/r": "other"} and a.nick_requests == {}
    b.wait("u@x/s", entry)
    assert a.waiting == {}
    assert rooms.drop("u@x", "#a") is a and rooms.get("u@x", "#a") is None
    assert rooms.pairs() == [("u@x", "#b")]


def test_a_backend_without_rooms_is_told_so_when_it_uses_ctx_rooms():
    import pytest

    from transport.xmpp.backend_context import _NoRooms

    with pytest.raises(RuntimeError, match="has no rooms"):
        _NoRooms("transport.backends.echo").resources("u@x", "#r")
