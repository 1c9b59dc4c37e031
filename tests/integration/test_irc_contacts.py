"""Private messages, the server JID (raw commands, MOTD, presence), disco and LIST paging,
several resources and several users — against real Prosody + ngIRCd."""

from __future__ import annotations

import asyncio

import pytest
from slixmpp.plugins.xep_0059 import ResultIterator  # noqa: F401 -- registers RSM stanzas
from test_irc_support import (
    GW,
    HOST,
    groupchat,
    join,
    nick_jid,
    room,
    unique,
)

from transport.testing.gateway import running_gateway
from transport.testing.xmpp_steps import send_chat

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)
SERVER = f"{HOST}@{GW}"


async def test_private_messages_both_ways(irc_gateway, users, peers, ngircd):
    bob = await peers(ngircd)
    alice = await users()
    send_chat(alice, nick_jid(bob.nick), "hi bob\nsecond line")
    await bob.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "second line")
    sender = bob.lines("PRIVMSG")[0].nick
    await bob.send(f"PRIVMSG {sender} :hello alice")
    got = await alice.expect_message(sender=nick_jid(bob.nick), body="hello alice")
    assert got["type"] == "chat"
    await bob.send(f"PRIVMSG {sender} :\x01ACTION smiles\x01")
    await alice.expect_message(sender=nick_jid(bob.nick), body="/me smiles")
    await bob.send(f"PRIVMSG {sender} :\x01VERSION\x01")
    reply = await bob.wait(lambda e: e.command == "NOTICE" and "VERSION" in e.param(1))
    assert "xmpp-transport" in reply.param(1)
    long_text = "ü" * 700
    send_chat(alice, nick_jid(bob.nick), long_text)
    await bob.wait(lambda e: e.command == "PRIVMSG" and e.param(1).endswith("üüü")
                   and len(e.param(1)) < 700)
    await asyncio.sleep(0.2)
    texts = [e.param(1) for e in bob.lines("PRIVMSG") if e.param(1).startswith("ü")]
    assert "".join(texts) == long_text
    assert all(len(e.raw.encode()) + 2 <= 512 for e in bob.lines("PRIVMSG"))


async def test_in_room_pm_and_host_pm(irc_gateway, users, peers, ngircd):
    channel = unique("#pm")
    bob = await peers(ngircd)
    await bob.join(channel)
    alice = await users()
    await join(alice, room(channel), "alicepm")
    send_chat(alice, f"{room(channel)}/{bob.nick}", "via the room")
    await bob.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "via the room"
                   and e.nick == "alicepm")
    send_chat(alice, f"%{HOST}@{GW}/{bob.nick}", "via the host")
    await bob.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "via the host")


async def test_server_jid_raw_commands_motd_and_presence(irc_gateway, users, peers, ngircd):
    bob = await peers(ngircd)
    alice = await users()
    send_chat(alice, SERVER, f"WHOIS {bob.nick}")
    motd = await alice.expect_message(sender=SERVER, body=None, timeout=15,
                                      mtype="chat")
    while "Message of the day" not in motd["body"]:
        motd = await alice.expect_message(sender=SERVER, mtype="chat")
    assert "test server" in motd["body"]
    await alice.expect(lambda s: s.name == "presence" and s["from"].bare == SERVER
                       and s["type"] != "unavailable")
    whois = await alice.expect(lambda s: s.name == "message" and s["from"].bare == SERVER
                               and bob.nick in (s["body"] or ""))
    assert whois["type"] == "chat"
    send_chat(alice, SERVER, "QUIT :done here")
    await alice.expect(lambda s: s.name == "presence" and s["from"].bare == SERVER
                       and s["type"] == "unavailable")


async def test_a_probe_of_the_server_jid_answers_what_was_pushed_last(irc_gateway, users):
    alice = await users()
    send_chat(alice, SERVER, "VERSION")
    await alice.expect(lambda s: s.name == "presence" and s["from"].bare == SERVER
                       and s["type"] != "unavailable", timeout=15)
    alice.send_presence(pto=SERVER, ptype="probe")
    assert (await alice.expect_presence(SERVER))["type"] == "available"
    send_chat(alice, SERVER, "QUIT :done here")
    await alice.expect_presence(SERVER, "unavailable")
    alice.send_presence(pto=SERVER, ptype="probe")
    assert (await alice.expect_presence(SERVER))["type"] == "unavailable"


async def test_disco_room_and_channel_list_with_rsm(irc_gateway, users, peers, ngircd):
    prefix = unique("#d")
    owner = await peers(ngircd)
    for i in range(5):
        await owner.join(f"{prefix}{i}")
    alice = await users()
    info = await alice.plugin["xep_0030"].get_info(GW)
    identities = {(i[0], i[1]) for i in info["disco_info"]["identities"]}
    assert {("conference", "irc"), ("gateway", "irc")} <= identities
    iq = alice.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#items", ito=SERVER)
    iq["disco_items"]["rsm"]["max"] = "2"
    page = await alice.query(iq, timeout=20)
    names = [i[0] for i in page["disco_items"]["items"]]
    assert len(names) == 2
    assert int(page["disco_items"]["rsm"]["count"]) >= 5
    iq = alice.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#items", ito=SERVER)
    iq["disco_items"]["rsm"]["max"] = "2"
    iq["disco_items"]["rsm"]["after"] = page["disco_items"]["rsm"]["last"]
    second = await alice.query(iq)
    assert not set(names) & {i[0] for i in second["disco_items"]["items"]}
    rjid = room(f"{prefix}0")
    await join(alice, rjid, "alicedisco")
    info = await alice.plugin["xep_0030"].get_info(rjid)
    features = info["disco_info"]["features"]
    for feature in ("http://jabber.org/protocol/muc", "muc#stable_id", "urn:xmpp:mam:2",
                    "http://jabber.org/protocol/muc#self-ping-optimization"):
        assert feature in features
    form = info.xml.find(".//{jabber:x:data}x")
    values = {f.get("var"): f.findtext("{jabber:x:data}value") for f in form}
    assert values["muc#roominfo_occupants"] == "2"


async def test_two_resources_share_one_connection(irc_gateway, users, peers, ngircd):
    channel = unique("#r")
    bob = await peers(ngircd)
    await bob.join(channel)
    name = unique("multi")
    phone = await users(name=name, resource="phone")
    laptop = await users(name=name, resource="laptop")
    await join(phone, room(channel), "multi")
    await join(laptop, room(channel), "multi")
    await bob.send(f"PRIVMSG {channel} :to both")
    for client in (phone, laptop):
        await client.expect(groupchat(room(channel), "to both"))
    phone.make_message(mto=room(channel), mbody="from phone", mtype="groupchat").send()
    await bob.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "from phone")
    for client in (phone, laptop):
        await client.expect(groupchat(room(channel), "from phone"))
    joins = [e for e in bob.lines("JOIN") if e.nick == "multi"]
    assert len(joins) == 1, "one IRC connection for both resources"
    phone.make_presence(pto=f"{room(channel)}/multi", ptype="unavailable").send()
    await phone.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                       and s["from"].bare == room(channel))
    await bob.send(f"PRIVMSG {channel} :still there?")
    await laptop.expect(groupchat(room(channel), "still there?"))
    assert not bob.lines("PART")


async def test_two_users_in_one_channel_and_a_burst(irc_gateway, users, peers, ngircd):
    channel = unique("#u")
    bob = await peers(ngircd)
    await bob.join(channel)
    alice, carol = await users(), await users()
    await join(alice, room(channel), "alice7")
    await join(carol, room(channel), "carol7")
    await alice.expect(lambda s: s.name == "presence" and s["from"].resource == "carol7")
    for i in range(200):
        await bob.send(f"PRIVMSG {channel} :irc line {i}")
    for client in (alice, carol):
        got = [(await client.expect(groupchat(room(channel)), timeout=20))["body"]
               for _ in range(200)]
        assert got == [f"irc line {i}" for i in range(200)]
    for i in range(200):
        alice.make_message(mto=room(channel), mbody=f"xmpp line {i}", mtype="groupchat").send()
    texts = await bob.privmsgs(channel, 200, timeout=30)
    assert texts == [f"xmpp line {i}" for i in range(200)]
    seen = [(await carol.expect(groupchat(room(channel)), timeout=20))["body"]
            for _ in range(200)]
    assert seen == texts


async def test_raw_commands_skip_the_throttle(irc_settings, users, peers, ngircd):
    """A raw WHOIS is answered while a paced backlog of channel lines is still draining."""
    async with running_gateway(irc_settings(throttle_limit=1)):
        channel = unique("#fl")
        bob = await peers(ngircd)
        await bob.join(channel)
        alice = await users()
        await join(alice, room(channel), "aliceflood")
        lines = [f"flood {i}" for i in range(12)]  # one body: all queued at once, 1 line/s
        alice.make_message(mto=room(channel), mbody="\n".join(lines), mtype="groupchat").send()
        await bob.privmsgs(channel, 1)
        send_chat(alice, SERVER, f"WHOIS {bob.nick}")
        whois = await alice.expect(lambda s: s.name == "message" and s["from"].bare == SERVER
                                   and bob.nick in (s["body"] or ""), timeout=5)
        assert "127.0.0.1" in whois["body"]
        assert len(bob.lines("PRIVMSG", channel)) < len(lines) - 4, "the backlog still drains"
        assert await bob.privmsgs(channel, len(lines), timeout=30) == lines
