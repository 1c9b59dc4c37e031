"""Joining a room one is already in (a client whose stream could not be resumed sends its
join again; a second device joins): the gateway answers from what it knows, as biboumi
does — occupants, the self-presence (110), history, subject — and sends IRC nothing."""

from __future__ import annotations

import asyncio

import pytest
from test_irc_support import codes, join, room, unique

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)


def replayed(got: list, op_nick: str, nick: str, topic: str) -> None:
    """``got`` is a complete join sequence: the other occupant, then us (110), then the
    subject."""
    presences = [s for s in got if s.name == "presence"]
    assert [s["from"].resource for s in presences] == [op_nick, nick]
    assert presences[0]["type"] != "unavailable"
    assert {"110", "100"} <= codes(presences[-1])
    assert got[-1].name == "message" and got[-1]["subject"] == topic


async def test_join_again_from_the_same_resource_and_from_another(
        irc_gateway, users, peers, ngircd):
    channel = unique("#again")
    op = await peers(ngircd)
    await op.join(channel)
    await op.send(f"TOPIC {channel} :still here")
    name = unique("rejoiner")
    phone = await users(name=name, resource="phone")
    replayed(await join(phone, room(channel), name), op.nick, name, "still here")
    await op.wait(lambda e: e.command == "JOIN" and e.nick == name)

    await op.send(f"PRIVMSG {channel} :said before")
    await phone.expect(lambda s: s.name == "message" and s["body"] == "said before")

    # The very same join presence again, from the same full JID, asking for history.
    phone.drain()  # what the first join sequence left behind
    got = await join(phone, room(channel), name, history={"maxstanzas": "1"})
    replayed(got, op.nick, name, "still here")
    assert [s["body"] for s in got if s.name == "message" and s["body"]] == ["said before"]
    laptop = await users(name=name, resource="laptop")
    replayed(await join(laptop, room(channel), name), op.nick, name, "still here")

    await op.send(f"PRIVMSG {channel} :to both")
    for client in (phone, laptop):
        await client.expect(lambda s: s.name == "message" and s["body"] == "to both")
    await asyncio.sleep(0.3)
    assert [e.nick for e in op.lines("JOIN", channel)].count(name) == 1, "one JOIN on IRC"
