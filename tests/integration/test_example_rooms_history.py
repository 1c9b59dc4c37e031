"""History on join in the worked example's rooms: ``maxchars='0'`` sends none (XEP-0045
7.2.15), where the same room with no limit replays what was said."""

from __future__ import annotations

import pytest
from test_example_rooms import join, member, said, say

from examples.roomchat import RoomChatBackend

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def transport_backend() -> type[RoomChatBackend]:
    return RoomChatBackend


async def test_maxchars_zero_sends_no_history(gateway, users):
    alice = await member(users, "alice")
    await join(alice, "alice")
    say(alice, "hello bot")
    await alice.expect(said("alice: you said 'hello bot'"))

    bob = await member(users, "bob")
    got = await join(bob, "bob", history={"maxchars": "0"})
    assert [s for s in got if s.name == "message" and s["body"]] == []
    assert got[-1]["subject"] == "Welcome to #lobby", "the join still ends with the subject"

    carol = await member(users, "carol")
    got = await join(carol, "carol")
    assert [s["body"] for s in got if s.name == "message" and s["body"]] == [
        "hello bot", "alice: you said 'hello bot'"]
