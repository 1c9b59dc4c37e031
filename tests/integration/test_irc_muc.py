"""Channels as MUC rooms against real Prosody + ngIRCd: joins, messages, topic, nicks."""

from __future__ import annotations

import asyncio
from xml.etree import ElementTree as ET

import pytest
from slixmpp.exceptions import IqError
from test_irc_support import (
    GW,
    MUC_USER,
    codes,
    groupchat,
    item,
    join,
    join_presence,
    nick_jid,
    room,
    unique,
)

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)


async def test_join_sequence_in_xep0045_order(irc_gateway, users, peers, ngircd):
    channel = unique("#j")
    op = await peers(ngircd, unique("op"))
    await op.join(channel)
    await op.send(f"TOPIC {channel} :the topic")
    alice = await users()
    got = await join(alice, room(channel), "alice")
    kinds = [(s.name, s["from"].resource) for s in got]
    assert kinds[0] == ("presence", op.nick)
    assert item(got[0])["role"] == "moderator" and item(got[0])["affiliation"] == "admin"
    self_presence = got[1]
    assert self_presence["from"].resource == "alice"
    assert {"110", "100"} <= codes(self_presence) and "210" not in codes(self_presence)
    assert got[-1]["subject"] == "the topic"
    await op.wait(lambda e: e.command == "JOIN" and e.nick == "alice")


async def test_messages_both_ways(irc_gateway, users, peers, ngircd):
    channel = unique("#m")
    op = await peers(ngircd)
    await op.join(channel)
    alice = await users()
    await join(alice, room(channel), "alice2")
    msg = alice.make_message(mto=room(channel), mbody="hello irc", mtype="groupchat")
    msg["id"] = "m1"
    msg.send()
    assert (await op.privmsgs(channel, 1)) == ["hello irc"]
    reflection = await alice.expect(groupchat(room(channel), "hello irc"))
    assert reflection["id"] == "m1" and reflection["from"].resource == "alice2"
    await op.send(f"PRIVMSG {channel} :hi xmpp")
    got = await alice.expect(groupchat(room(channel), "hi xmpp"))
    assert got["from"].resource == op.nick
    await op.send(f"PRIVMSG {channel} :\x01ACTION waves\x01")
    await alice.expect(groupchat(room(channel), "/me waves"))
    await op.send(f"NOTICE {channel} :attention")
    await alice.expect(groupchat(room(channel), "[notice] attention"))
    alice.make_message(mto=room(channel), mbody="/me dances", mtype="groupchat").send()
    await op.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "\x01ACTION dances\x01")
    _ = join_presence


async def test_multiline_long_lines_and_injection(irc_gateway, users, peers, ngircd):
    channel = unique("#l")
    op = await peers(ngircd)
    await op.join(channel)
    alice = await users()
    await join(alice, room(channel), "alice3")
    long_text = "é" * 600 + " end"
    # XML cannot carry NUL (the protocol layer's unit tests cover it); CR and LF can.
    body = f"one\ntwo\r\nQUIT :injected\rNICK evil\n{long_text}"
    alice.make_message(mto=room(channel), mbody=body, mtype="groupchat").send()
    await op.wait(lambda e: e.command == "PRIVMSG" and e.param(1).endswith("end"))
    texts = [e.param(1) for e in op.lines("PRIVMSG", channel)]
    assert texts[:4] == ["one", "two", "QUIT :injected", "NICK evil"]
    assert len(texts) > 5, "the long line was split"
    assert "".join(texts[4:]).replace(" ", "") == long_text.replace(" ", "")
    for event in op.lines("PRIVMSG", channel):
        assert len(event.raw.encode()) + 2 <= 512
    assert not op.lines("QUIT") and not op.lines("NICK")
    assert await op.wait(lambda e: e.command == "PRIVMSG") is not None


async def test_topic_nick_change_part_and_quit(irc_gateway, users, peers, ngircd):
    channel = unique("#t")
    op = await peers(ngircd)
    await op.join(channel)
    other = await peers(ngircd)
    await other.join(channel)
    alice = await users()
    rjid = room(channel)
    await join(alice, rjid, "alice4")
    subject = alice.make_message(mto=rjid, mtype="groupchat")
    subject["subject"] = "new\ntopic"
    subject.send()
    await op.wait(lambda e: e.command == "TOPIC" and e.param(1) == "new topic")
    got = await alice.expect(lambda s: s.name == "message" and s["subject"] == "new topic")
    assert got["from"].resource == "alice4"
    alice.make_presence(pto=f"{rjid}/alice5").send()
    gone = await alice.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                              and "303" in codes(s))
    assert item(gone)["nick"] == "alice5" and "110" in codes(gone)
    await op.wait(lambda e: e.command == "NICK" and e.param(0) == "alice5")
    await other.send(f"NICK {other.nick}x")
    gone = await alice.expect(lambda s: s.name == "presence" and "303" in codes(s)
                              and "110" not in codes(s))
    assert item(gone)["nick"] == f"{other.nick}"
    await other.send(f"PART {channel} :bye all")
    left = await alice.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                              and s["from"].resource == other.nick)
    assert left["status"] == "bye all"


async def test_kick_and_modes_both_ways(irc_gateway, users, peers, ngircd):
    channel = unique("#k")
    alice = await users()
    rjid = room(channel)
    await join(alice, rjid, "alicek")  # first in: channel operator
    victim = await peers(ngircd)
    await victim.join(channel)
    await alice.expect(lambda s: s.name == "presence" and s["from"].resource == victim.nick)
    iq = alice.make_iq_set(ito=rjid)
    query = ET.SubElement(iq.xml, "{http://jabber.org/protocol/muc#admin}query")
    ET.SubElement(query, "{http://jabber.org/protocol/muc#admin}item",
                  {"nick": victim.nick, "affiliation": "member"})
    await alice.query(iq)
    await victim.wait(lambda e: e.command == "MODE" and e.param(1) == "+v")
    voiced = await alice.expect(lambda s: s.name == "presence" and s["from"].resource ==
                                victim.nick and item(s).get("affiliation") == "member")
    assert item(voiced)["role"] == "participant"
    await alice.expect(groupchat(rjid, f"Mode {channel} [+v {victim.nick}] by alicek"))
    iq = alice.make_iq_set(ito=rjid)
    query = ET.SubElement(iq.xml, "{http://jabber.org/protocol/muc#admin}query")
    kick = ET.SubElement(query, "{http://jabber.org/protocol/muc#admin}item",
                         {"nick": victim.nick, "role": "none"})
    ET.SubElement(kick, "{http://jabber.org/protocol/muc#admin}reason").text = "out"
    await alice.query(iq)
    await victim.wait(lambda e: e.command == "KICK" and e.param(2) == "out")
    kicked = await alice.expect(lambda s: s.name == "presence" and "307" in codes(s))
    assert kicked["from"].resource == victim.nick
    # An IRC operator kicks the XMPP user: 307 + 110.
    await victim.join(channel)
    await alice.expect(lambda s: s.name == "presence" and s["from"].resource == victim.nick)
    iq = alice.make_iq_set(ito=rjid)
    query = ET.SubElement(iq.xml, "{http://jabber.org/protocol/muc#admin}query")
    ET.SubElement(query, "{http://jabber.org/protocol/muc#admin}item",
                  {"nick": victim.nick, "affiliation": "admin"})
    await alice.query(iq)
    await alice.expect(groupchat(rjid, f"Mode {channel} [+o {victim.nick}] by alicek"))
    await victim.send(f"KICK {channel} alicek :go away")
    me_kicked = await alice.expect(lambda s: s.name == "presence" and {"307", "110"} <= codes(s))
    assert me_kicked.xml.find(f".//{{{MUC_USER}}}reason").text == "go away"
    # Talking in a room one was kicked from is refused.
    alice.make_message(mto=rjid, mbody="still here?", mtype="groupchat").send()
    err = await alice.expect(lambda s: s.name == "message" and s["type"] == "error")
    assert err["error"]["condition"] == "not-acceptable"


@pytest.mark.parametrize(("mode", "condition"), [
    ("+k secret", "not-authorized"),
    ("+i", "registration-required"),
    ("+l 1", "service-unavailable"),
])
async def test_join_errors_complete_the_join(irc_gateway, users, peers, ngircd, mode,
                                             condition):
    channel = unique("#e")
    op = await peers(ngircd)
    await op.join(channel)
    await op.send(f"MODE {channel} {mode}")
    await op.wait(lambda e: e.command == "MODE" and e.param(0) == channel)
    alice = await users()
    got = await join(alice, room(channel), "alicee")
    assert got[-1]["type"] == "error" and got[-1]["error"]["condition"] == condition
    if mode.startswith("+k"):
        got = await join(alice, room(channel), "alicee", password="secret")
        assert got[-1].xml.find("{jabber:client}subject") is not None
        assert got[-1]["type"] == "groupchat"


async def test_banned_and_nick_in_use(irc_gateway, users, peers, ngircd):
    channel = unique("#b")
    op = await peers(ngircd)
    await op.join(channel)
    await op.send(f"MODE {channel} +b bad*!*@*")
    await op.wait(lambda e: e.command == "MODE" and e.param(1) == "+b")
    alice = await users()
    got = await join(alice, room(channel), unique("bad"))
    assert got[-1]["error"]["condition"] == "forbidden"
    bob = await users()
    got = await join(bob, room(channel), op.nick)
    assert got[-1]["error"]["condition"] == "conflict"


async def test_groupchat_from_unjoined_resource_and_self_ping(irc_gateway, users, ngircd):
    channel = unique("#s")
    alice = await users()
    rjid = room(channel)
    alice.make_message(mto=rjid, mbody="not joined", mtype="groupchat").send()
    err = await alice.expect(lambda s: s.name == "message" and s["type"] == "error")
    assert err["error"]["condition"] == "not-acceptable"
    with pytest.raises(IqError) as exc:
        await alice.plugin["xep_0199"].send_ping(f"{rjid}/alices", timeout=5)
    assert exc.value.condition == "not-acceptable"
    await join(alice, rjid, "alices")
    await alice.plugin["xep_0199"].send_ping(f"{rjid}/alices", timeout=5)


async def test_invites_both_ways(irc_gateway, users, peers, ngircd):
    channel = unique("#i")
    alice = await users()
    rjid = room(channel)
    await join(alice, rjid, "alicei")
    friend = await peers(ngircd)
    msg = alice.make_message(mto=rjid)
    x = ET.SubElement(msg.xml, f"{{{MUC_USER}}}x")
    ET.SubElement(x, f"{{{MUC_USER}}}invite", {"to": nick_jid(friend.nick)})
    msg.send()
    await friend.wait(lambda e: e.command == "INVITE" and e.param(1) == channel)
    other = unique("#o")
    await friend.join(other)
    await friend.send(f"INVITE alicei {other}")
    invite = await alice.expect(lambda s: s.name == "message"
                                and s.xml.find(f".//{{{MUC_USER}}}invite") is not None)
    assert invite["from"].bare == room(other)
    assert GW in invite["from"].bare


async def test_muc_owner_form_makes_a_channel_persistent(irc_gateway, users, peers, ngircd):
    channel = unique("#own")
    bob = await peers(ngircd)
    await bob.join(channel)
    alice = await users()
    rjid = room(channel)
    await join(alice, rjid, "aliceown")
    get = alice.make_iq_get(queryxmlns="http://jabber.org/protocol/muc#owner", ito=rjid)
    form = (await alice.query(get)).xml.find(".//{jabber:x:data}x")
    assert "persistent" in {f.get("var") for f in form}
    iq = alice.make_iq_set(ito=rjid)
    query = ET.SubElement(iq.xml, "{http://jabber.org/protocol/muc#owner}query")
    x = ET.SubElement(query, "{jabber:x:data}x", {"type": "submit"})
    field = ET.SubElement(x, "{jabber:x:data}field", {"var": "persistent"})
    ET.SubElement(field, "{jabber:x:data}value").text = "true"
    await alice.query(iq)
    alice.make_presence(pto=f"{rjid}/aliceown", ptype="unavailable").send()
    await alice.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                       and "110" in codes(s))
    await bob.send(f"PRIVMSG {channel} :while you were away")
    await asyncio.sleep(0.3)
    assert not [e for e in bob.lines("PART") if e.nick == "aliceown"]
    got = await join(alice, rjid, "aliceown")
    assert "while you were away" in [s["body"] for s in got if s.name == "message"]
    joins = [e for e in bob.lines("JOIN") if e.nick == "aliceown"]
    assert len(joins) == 1, "the rejoin is replayed locally"
