"""What goes wrong in real life: the IRC server restarts, Prosody restarts, the gateway
restarts with persistent channels, and an IRC server misbehaves in every way we know."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from test_irc_support import (
    GW,
    SECRET,
    Peer,
    codes,
    groupchat,
    irc_options,
    join,
    nick_jid,
    room,
    unique,
)

from transport.backends.irc.config.prefs import ChannelPrefs, PrefsStore
from transport.testing.gateway import ComponentSpec, running_gateway
from transport.testing.servers import NgircdServer
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import send_chat

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def own_ngircd():
    server = NgircdServer()
    await server.astart()
    yield server
    await server.aclose()


async def test_irc_server_restart_reconnects_rejoins_and_sends_queued(
        irc_settings, users, own_ngircd):
    channel = unique("#re")
    async with running_gateway(irc_settings(irc_server=own_ngircd)):
        alice = await users()
        rjid = room(channel, own_ngircd.host)
        await join(alice, rjid, "alicere")
        await own_ngircd.arestart()
        lost = await alice.expect(lambda s: s.name == "message" and "Connection lost" in (
            s["body"] or ""), timeout=15)
        assert lost["from"].bare.endswith(GW)
        alice.make_message(mto=rjid, mbody="said while down", mtype="groupchat").send()
        peer = Peer()
        try:
            for _ in range(50):
                with contextlib.suppress(Exception):
                    await peer.connect(own_ngircd, unique("w"))
                    break
                peer = Peer()
                await asyncio.sleep(0.1)
            await peer.join(channel)
            await peer.wait(lambda e: e.command == "JOIN" and e.nick == "alicere", timeout=20)
            await peer.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "said while down",
                            timeout=20)
            await alice.expect(groupchat(rjid, "said while down"), timeout=20)
            await peer.send(f"PRIVMSG {channel} :welcome back")
            await alice.expect(groupchat(rjid, "welcome back"))
        finally:
            peer.close()


async def test_prosody_restart_loses_nothing_said_on_irc(gateway_settings, users, fresh_prosody,
                                                        ngircd, peers, tmp_path):
    server = fresh_prosody()
    spec = ComponentSpec("irc", GW, SECRET, irc_options(ngircd))
    async with running_gateway(gateway_settings(server, component=spec)) as app:
        name = unique("pr")
        alice = await users(server=server, name=name)
        bob = await peers(ngircd)
        alice_nick = name
        send_chat(alice, nick_jid(bob.nick), "ping")
        await bob.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "ping")
        await alice.logout()
        await server.astop()
        for i in range(3):
            await bob.send(f"PRIVMSG {alice_nick} :while prosody was down {i}")
        await asyncio.sleep(0.3)
        await server.astart()
        await asyncio.wait_for(app.runtimes[0].xmpp.online.wait(), 20)
        again = TestClient(f"{name}@{server.domain}/back", "pw", "127.0.0.1", server.c2s_port)
        await again.login()
        try:
            for i in range(3):
                await again.expect_message(sender=nick_jid(bob.nick),
                                           body=f"while prosody was down {i}", timeout=20)
        finally:
            await again.logout()


async def test_gateway_restart_keeps_persistent_channel(irc_settings, users, peers, ngircd):
    channel = unique("#per")
    rjid = room(channel)
    settings = irc_settings()
    bob = await peers(ngircd)
    await bob.join(channel)
    name = unique("keeper")
    async with running_gateway(settings) as app:
        alice = await users(name=name)
        await join(alice, rjid, name)
        prefs: PrefsStore = app.runtimes[0].gateway.backend.prefs
        await prefs.set_channel(
            str(alice.boundjid.bare), ngircd.host, channel.lower(), ChannelPrefs(persistent=True))
        # Settings saved by the configure forms apply to live channels at once; here the
        # preference is written directly, so the channel is joined again to pick it up.
        alice.make_presence(pto=f"{rjid}/{name}", ptype="unavailable").send()
        await alice.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                           and s["from"].bare == rjid)
        await bob.wait(lambda e: e.command == "PART" and e.nick == name)
        await join(alice, rjid, name)
        alice.make_presence(pto=f"{rjid}/{name}", ptype="unavailable").send()
        await alice.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                           and s["from"].bare == rjid)
        await bob.send(f"PRIVMSG {channel} :while alice was away")
        await asyncio.sleep(0.3)
        assert len([e for e in bob.lines("PART") if e.nick == name]) == 1
    await bob.wait(lambda e: e.command == "QUIT" and e.nick == name)
    async with running_gateway(settings):
        await bob.wait(lambda e: e.command == "JOIN" and e.nick == name and
                       len([j for j in bob.lines("JOIN") if j.nick == name]) == 3, timeout=20)
        await bob.send(f"PRIVMSG {channel} :after the restart")
        await asyncio.sleep(0.3)
        got = await join(alice, rjid, name, history={"maxstanzas": "10"})
        bodies = [s["body"] for s in got if s.name == "message" and s["body"]]
        assert "after the restart" in bodies
        assert all(s.xml.find("{urn:xmpp:delay}delay") is not None
                   for s in got if s.name == "message" and s["body"])


FAKE_WELCOME = (
    ":fake.irc 001 {n} :Welcome {n}!~u@h\r\n"
    ":fake.irc 005 {n} CHANTYPES=# PREFIX=(ov)@+ CASEMAPPING=ascii :ok\r\n"
    ":fake.irc 376 {n} :End of MOTD\r\n"
)


async def _misbehave(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Registers the client, then answers its JOIN with everything a server can get wrong."""
    nick = "x"
    try:
        while True:
            line = (await reader.readline()).decode("utf-8", "replace").strip()
            if not line:
                return
            words = line.split()
            if words[0] == "NICK":
                nick = words[1]
            elif words[0] == "USER":
                writer.write(FAKE_WELCOME.format(n=nick).encode())
            elif words[0] == "JOIN":
                chan = words[1]
                names = " ".join(f"user{i}" for i in range(5000))
                out = [
                    f":{nick}!~u@h JOIN {chan}".encode(),
                    b":fake.irc 353",
                    b":fake.irc 366",
                    b":fake.irc 332",
                    b"PRIVMSG",
                    f":fake.irc 353 {nick} = {chan} :@op +v1 \x01odd bad\x7fnick {names}".encode(),
                    f":fake.irc 366 {nick} {chan} :End".encode(),
                    f":op!o@h PRIVMSG {chan} :".encode() + b"A" * 10_000,
                    f":op!o@h PRIVMSG {chan} :bare\rcr and\nlf".encode(),
                    f":op!o@h PRIVMSG {chan} :nul\x00byte".encode(),
                    f":op!o@h PRIVMSG {chan} :caf\xe9 latin1".encode("latin-1"),
                    f"@time=bogus;x=y :op!o@h PRIVMSG {chan} :tagged".encode(),
                    f":op!o@h PRIVMSG {chan} :\x02bold\x02 \x0304red\x03 ctl\x07".encode(),
                    f":a\x01b!u@h PRIVMSG {chan} :from an odd nick".encode(),
                    f":op!o@h MODE {chan}".encode(),
                    f":op!o@h KICK {chan}".encode(),
                    f":op!o@h PRIVMSG {chan} :last".encode(),
                ]
                writer.write(b"\r\n".join(out) + b"\r\n" + b":op!o@h PRIVMSG " + chan.encode())
                await writer.drain()
                await asyncio.sleep(0.5)
                writer.close()
                return
    except ConnectionError:
        return


async def test_misbehaving_server_never_stops_other_users(gateway_settings, users, peers,
                                                         ngircd):
    fake = await asyncio.start_server(_misbehave, "127.0.0.1", 0)
    fake_port = fake.sockets[0].getsockname()[1]
    options = irc_options(ngircd)
    options["servers"]["localhost"] = {"port": fake_port, "tls": False}
    spec = ComponentSpec("irc", GW, SECRET, options)
    try:
        async with running_gateway(gateway_settings(component=spec)):
            channel = unique("#ok")
            bob = await peers(ngircd)
            await bob.join(channel)
            carol = await users()
            await join(carol, room(channel), "carol9")
            victim = await users()
            got = await join(victim, room("#bad", "localhost"), "victim")
            occupants = [s for s in got if s.name == "presence"]
            assert len(occupants) > 1000  # the 45 KB NAMES line is cut at 16 KB
            bodies = []
            while "last" not in bodies:
                msg = await victim.expect(groupchat(room("#bad", "localhost")), timeout=15)
                bodies.append(msg["body"])
            assert "café latin1" in bodies
            assert "bold red ctl" in bodies
            assert "<a\x01b> from an odd nick" not in bodies
            assert any(b.startswith("AAAA") for b in bodies)
            await bob.send(f"PRIVMSG {channel} :still flowing")
            await carol.expect(groupchat(room(channel), "still flowing"))
            carol.make_message(mto=room(channel), mbody="and back", mtype="groupchat").send()
            await bob.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "and back")
    finally:
        fake.close()


async def test_gateway_shutdown_tells_joined_resources(irc_settings, users):
    """On shutdown each joined resource sees itself leave (110 + 332), before the stream ends."""
    channel = unique("#bye")
    rjid = room(channel)
    name = unique("leaver")
    async with running_gateway(irc_settings()):
        alice = await users(name=name)
        await join(alice, rjid, name)
    gone = await alice.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                              and s["from"] == f"{rjid}/{name}")
    assert {"110", "332"} <= codes(gone)
