"""Channel bans as the room's outcast list (muc#admin), both ways — real Prosody + ngIRCd."""

from __future__ import annotations

import time
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from slixmpp.exceptions import IqError
from test_irc_support import GW, HOST, codes, groupchat, join, room, unique

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)
ADMIN = "http://jabber.org/protocol/muc#admin"
SERVER = f"{HOST}@{GW}"


async def outcasts(client: Any, rjid: str) -> list[dict[str, str]]:
    iq = client.make_iq_get(ito=rjid)
    query = ET.SubElement(iq.xml, f"{{{ADMIN}}}query")
    ET.SubElement(query, f"{{{ADMIN}}}item", {"affiliation": "outcast"})
    result = await client.query(iq)
    return [{**item.attrib, "reason": item.findtext(f"{{{ADMIN}}}reason") or ""}
            for item in result.xml.iter(f"{{{ADMIN}}}item")]


async def admin_set(client: Any, rjid: str, reason: str = "", **attrs: str) -> None:
    iq = client.make_iq_set(ito=rjid)
    query = ET.SubElement(iq.xml, f"{{{ADMIN}}}query")
    item = ET.SubElement(query, f"{{{ADMIN}}}item", attrs)
    if reason:
        ET.SubElement(item, f"{{{ADMIN}}}reason").text = reason
    await client.query(iq)


async def test_ban_an_occupant_list_and_lift_the_ban(irc_gateway, users, peers, ngircd):
    channel = unique("#ban")
    rjid = room(channel)
    alice = await users()
    await join(alice, rjid, "aliceban")  # first in: channel operator
    victim = await peers(ngircd)
    await victim.join(channel)
    await alice.expect(lambda s: s.name == "presence" and s["from"].resource == victim.nick)
    assert await outcasts(alice, rjid) == []
    await admin_set(alice, rjid, reason="spam", nick=victim.nick, affiliation="outcast")
    mode = await victim.wait(lambda e: e.command == "MODE" and e.param(1) == "+b")
    mask = mode.param(2)
    assert mask.startswith("*!") and mask.endswith("@127.0.0.1"), "banned by user and host"
    kick = await victim.wait(lambda e: e.command == "KICK" and e.param(1) == victim.nick)
    assert kick.param(2) == "spam"
    gone = await alice.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                              and s["from"].resource == victim.nick)
    assert "307" in codes(gone)
    listed = await outcasts(alice, rjid)
    assert listed == [{"affiliation": "outcast", "jid": f"{SERVER}/{mask}",
                       "reason": listed[0]["reason"]}]
    assert listed[0]["reason"].startswith("Set by aliceban on ")
    await victim.send(f"JOIN {channel}")
    await victim.wait(lambda e: e.command == "474")
    await admin_set(alice, rjid, jid=f"{SERVER}/{mask}", affiliation="none")
    await alice.expect(groupchat(rjid, f"Mode {channel} [-b {mask}] by aliceban"))
    await victim.join(channel)
    assert await outcasts(alice, rjid) == []
    # Banning by the occupant's JID (what clients send) and by a mask works the same way.
    await alice.expect(lambda s: s.name == "presence" and s["from"].resource == victim.nick
                       and s["type"] != "unavailable")
    await admin_set(alice, rjid, jid=f"{victim.nick.lower()}%{HOST}@{GW}", affiliation="outcast")
    await victim.wait(lambda e: e.command == "KICK" and e.param(1) == victim.nick
                      and e.param(2) == "")
    await admin_set(alice, rjid, jid=f"{SERVER}/troll*!*@*", affiliation="outcast")
    masks = sorted(item["jid"] for item in await outcasts(alice, rjid))
    assert masks == sorted([f"{SERVER}/{mask}", f"{SERVER}/troll*!*@*"])


async def banned_channel(users: Any, peers: Any, ngircd: Any, prefix: str,
                         nick: str) -> tuple[Any, Any, str]:
    """An operator's channel banning ``spam*!*@*``, joined by a user who is no operator."""
    channel = unique(prefix)
    op = await peers(ngircd)
    await op.join(channel)
    await op.send(f"MODE {channel} +b spam*!*@*")
    await op.wait(lambda e: e.command == "MODE" and e.param(1) == "+b")
    alice = await users()
    await join(alice, room(channel), nick)
    return op, alice, room(channel)


async def test_bans_set_on_irc_are_listed_and_non_operators_are_refused(
        irc_gateway, users, peers, ngircd):
    op, alice, rjid = await banned_channel(users, peers, ngircd, "#bans", "alicenop")
    listed = await outcasts(alice, rjid)
    assert [item["jid"] for item in listed] == [f"{SERVER}/spam*!*@*"]
    assert listed[0]["reason"].startswith(f"Set by {op.nick}")
    for attrs in ({"nick": op.nick, "affiliation": "outcast"},
                  {"jid": f"{SERVER}/spam*!*@*", "affiliation": "none"}):
        with pytest.raises(IqError) as exc:
            await admin_set(alice, rjid, **attrs)
        assert exc.value.condition == "forbidden"
    with pytest.raises(IqError) as exc:
        await admin_set(alice, rjid, jid="someone@localhost", affiliation="outcast")
    assert exc.value.condition == "not-acceptable"
    assert [item["jid"] for item in await outcasts(alice, rjid)] == [f"{SERVER}/spam*!*@*"]
    assert not op.lines("KICK")


async def timed_set(client: Any, rjid: str, **attrs: str) -> float:
    """How long a muc#admin change takes to be answered (raises its IqError)."""
    start = time.monotonic()
    await admin_set(client, rjid, **attrs)
    return time.monotonic() - start


async def test_ban_changes_irc_does_not_echo_are_answered_at_once(irc_gateway, users, peers,
                                                                   ngircd):
    """Banning what is banned, or lifting what is not, makes the server send nothing: the
    answer comes from the ban list, well before the 10 s an echo would be awaited."""
    channel = unique("#noecho")
    rjid = room(channel)
    alice = await users()
    await join(alice, rjid, "alicenoecho")  # first in: channel operator
    victim = await peers(ngircd)
    await victim.join(channel)
    await alice.expect(lambda s: s.name == "presence" and s["from"].resource == victim.nick)
    source = next(e.source for e in victim.lines("JOIN") if e.nick == victim.nick)
    mask = f"*!{source.user}@{source.host}"
    # A ban on the occupant's mask, set as a mask: the occupant stays.
    assert await timed_set(alice, rjid, jid=f"{SERVER}/{mask}", affiliation="outcast") < 3
    await victim.wait(lambda e: e.command == "MODE" and e.param(1) == "+b")
    # Banning the occupant now changes no ban (no echo) but still removes them.
    assert await timed_set(alice, rjid, nick=victim.nick, affiliation="outcast") < 3
    await victim.wait(lambda e: e.command == "KICK" and e.param(1) == victim.nick)
    # The same mask again, and lifting masks that are not banned: nothing to change.
    assert await timed_set(alice, rjid, jid=f"{SERVER}/{mask}", affiliation="outcast") < 3
    assert await timed_set(alice, rjid, jid=f"{SERVER}/nobody*!*@*", affiliation="none") < 3
    assert await timed_set(alice, rjid, jid=f"{SERVER}/nobody", affiliation="none") < 3
    assert [item["jid"] for item in await outcasts(alice, rjid)] == [f"{SERVER}/{mask}"]
    assert len([e for e in victim.lines("MODE", channel) if e.param(1) == "+b"]) == 1
    # A short mask the server completes: lifting it as typed lifts the stored ban.
    assert await timed_set(alice, rjid, jid=f"{SERVER}/troll", affiliation="outcast") < 3
    assert await timed_set(alice, rjid, jid=f"{SERVER}/troll", affiliation="outcast") < 3
    assert await timed_set(alice, rjid, jid=f"{SERVER}/troll", affiliation="none") < 3
    assert await timed_set(alice, rjid, jid=f"{SERVER}/{mask}", affiliation="none") < 3
    assert await outcasts(alice, rjid) == []


async def test_a_non_operator_changing_nothing_is_still_refused(irc_gateway, users, peers,
                                                                ngircd):
    _op, alice, rjid = await banned_channel(users, peers, ngircd, "#noop", "alicenoop")
    for attrs in ({"jid": f"{SERVER}/spam*!*@*", "affiliation": "outcast"},
                  {"jid": f"{SERVER}/nobody*!*@*", "affiliation": "none"}):
        start = time.monotonic()
        with pytest.raises(IqError) as exc:
            await admin_set(alice, rjid, **attrs)
        assert exc.value.condition == "forbidden"
        assert time.monotonic() - start < 3
