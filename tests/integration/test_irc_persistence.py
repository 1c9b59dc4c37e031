"""Gateway restarts with channels persistent by a default rather than by their own setting:
the user's gateway-wide ``persistent`` (ad-hoc ``configure``) and the config's
``persistent_by_default``. The gateway must be back in the channels the user was in."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from test_irc_support import GW, HOST, codes, join, room, unique

from transport.backends.irc.config.prefs import PrefsStore
from transport.testing.gateway import running_gateway
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import run_command

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(90)


async def configure(client: TestClient, jid: str, values: dict[str, Any]) -> None:
    """Run the ``configure`` ad-hoc command on ``jid`` and submit ``values``."""
    done = await run_command(client, jid, "configure", values)
    assert done["command"]["notes"] == [("info", "Configuration successfully applied.")]


async def leave(client: TestClient, room_jid: str, nick: str) -> None:
    client.make_presence(pto=f"{room_jid}/{nick}", ptype="unavailable").send()
    await client.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                        and s["from"].bare == room_jid)


def joins(peer: Any, nick: str, channel: str) -> int:
    return len([e for e in peer.lines("JOIN", channel) if e.nick == nick])


async def test_restart_rejoins_channels_kept_by_the_users_default(irc_settings, users, peers,
                                                                   ngircd):
    channel = unique("#dflt")
    rjid = room(channel)
    settings = irc_settings()
    bob = await peers(ngircd)
    await bob.join(channel)
    name = unique("dflt")
    async with running_gateway(settings):
        alice = await users(name=name)
        await configure(alice, GW, {"persistent": True})
        await join(alice, rjid, name)
        await leave(alice, rjid, name)
        await bob.send(f"PRIVMSG {channel} :while alice was away")
        await asyncio.sleep(0.3)
        assert not [e for e in bob.lines("PART") if e.nick == name]
    await bob.wait(lambda e: e.command == "QUIT" and e.nick == name)
    async with running_gateway(settings):
        await bob.wait(lambda e: e.command == "JOIN" and e.nick == name
                       and joins(bob, name, channel) == 2, timeout=20)
        await bob.send(f"NAMES {channel}")
        names = await bob.wait(lambda e: e.command == "353" and e.param(2).lower() == channel
                               and name in e.param(3).replace("@", "").split(), timeout=10)
        assert names is not None
        await bob.send(f"PRIVMSG {channel} :after the restart")
        await asyncio.sleep(0.3)
        got = await join(alice, rjid, name, history={"maxstanzas": "10"})
        bodies = [s["body"] for s in got if s.name == "message" and s["body"]]
        assert "while alice was away" in bodies and "after the restart" in bodies
        assert not [e for e in bob.lines("PART") if e.nick == name]


async def test_restart_rejoins_channels_kept_by_persistent_by_default(irc_settings, users, peers,
                                                                      ngircd):
    kept, dropped = unique("#pbd"), unique("#pbx")
    settings = irc_settings(persistent_by_default=True)
    bob = await peers(ngircd)
    await bob.join(kept)
    await bob.join(dropped)
    name = unique("pbd")
    async with running_gateway(settings):
        alice = await users(name=name)
        for channel in (kept, dropped):
            await join(alice, room(channel), name)
            await leave(alice, room(channel), name)
        # Turned off while not in the channel: the next start must not join it again.
        await configure(alice, room(dropped), {"persistent": "false"})
        await bob.send(f"PRIVMSG {kept} :while alice was away")
        await asyncio.sleep(0.3)
        assert not [e for e in bob.lines("PART", kept) if e.nick == name]
    await bob.wait(lambda e: e.command == "QUIT" and e.nick == name)
    await bob.send(f"PRIVMSG {kept} :while the gateway was down")
    async with running_gateway(settings) as app:
        await bob.wait(lambda e: e.command == "JOIN" and e.nick == name
                       and joins(bob, name, kept) == 2, timeout=20)
        await bob.send(f"PRIVMSG {kept} :after the restart")
        await asyncio.sleep(0.3)
        assert joins(bob, name, dropped) == 1
        user = str(alice.boundjid.bare)
        recorded = [j[:3] for j in await PrefsStore(app.store.backend_storage("irc"), GW).joined()]
        assert (user, HOST, kept.lower()) in recorded
        assert (user, HOST, dropped.lower()) not in recorded
        got = await join(alice, room(kept), name, history={"maxstanzas": "10"})
        bodies = [s["body"] for s in got if s.name == "message" and s["body"]]
        assert "while alice was away" in bodies and "after the restart" in bodies
        assert "while the gateway was down" not in bodies


async def restarted_and_back(settings: Any, bob: Any, alice: TestClient, channel: str,
                             name: str) -> list[Any]:
    """Wait for the gateway's QUIT, start it again, see it JOIN the channel again (from
    IRC), have bob speak, and return the join sequence of alice's next join."""
    await bob.wait(lambda e: e.command == "QUIT" and e.nick == name)
    async with running_gateway(settings):
        await bob.wait(lambda e: e.command == "JOIN" and e.nick == name
                       and joins(bob, name, channel) == 2, timeout=20)
        await bob.send(f"PRIVMSG {channel} :after the restart")
        await asyncio.sleep(0.3)
        got = await join(alice, room(channel.lower()), name, history={"maxstanzas": "10"})
    bodies = [s["body"] for s in got if s.name == "message" and s["body"]]
    assert "after the restart" in bodies
    return got


async def test_a_persistent_channel_with_a_key_is_joined_again_after_a_restart(
        irc_settings, users, peers, ngircd, caplog):
    caplog.set_level(logging.DEBUG)
    key = unique("sesame")
    channel = unique("#Keyed")  # the display name keeps its case; JIDs are lower-case
    rjid = room(channel.lower())
    settings = irc_settings()
    bob = await peers(ngircd)
    await bob.join(channel)
    await bob.send(f"MODE {channel} +k {key}")
    await bob.wait(lambda e: e.command == "MODE" and e.param(1) == "+k")
    name = unique("key")
    async with running_gateway(settings) as app:
        alice = await users(name=name)
        got = await join(alice, rjid, name, password=key)
        assert any(s.name == "presence" and "110" in codes(s) for s in got)
        await configure(alice, rjid, {"persistent": True})
        form = await alice.plugin["xep_0050"].send_command(rjid, "configure")
        assert key not in str(form)
        user = str(alice.boundjid.bare)
        recorded = await PrefsStore(app.store.backend_storage("irc"), GW).joined()
        assert [(j.name, j.key) for j in recorded if j[:3] == (user, HOST, channel.lower())] == [
            (channel, key)]
        await bob.send(f"PRIVMSG {channel} :before the restart")
        await alice.expect(lambda s: s.name == "message" and s["body"] == "before the restart")
    got = await restarted_and_back(settings, bob, alice, channel, name)
    assert not [e for e in bob.events if getattr(e, "command", "") == "475"]
    # slixmpp's raw stream log (DEBUG) shows every stanza, passwords included; ours must not.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("transport")]
    assert ours and not [line for line in ours if key in line], "a key is a password"


async def test_a_key_changed_on_irc_is_used_after_a_restart(irc_settings, users, peers,
                                                             ngircd):
    channel = unique("#rekey")
    rjid = room(channel)
    settings = irc_settings()
    bob = await peers(ngircd)
    await bob.join(channel)
    name = unique("rekey")
    async with running_gateway(settings):
        alice = await users(name=name)
        await join(alice, rjid, name)
        await configure(alice, rjid, {"persistent": True})
        for change in ("+k first", "-k first", "+k second"):
            await bob.send(f"MODE {channel} {change}")
            shown = f"Mode {channel} [{change[:2]} "  # ngIRCd shows -k as "-k *"
            await alice.expect(lambda s, shown=shown: s.name == "message"
                               and (s["body"] or "").startswith(shown))
        await leave(alice, rjid, name)
    await restarted_and_back(settings, bob, alice, channel, name)


async def test_a_second_resource_with_a_wrong_key_does_not_replace_the_working_one(
        irc_settings, users, peers, ngircd):
    """The gateway cannot check a password for a channel it is already in; the key that
    let it in is the one to keep for the next JOIN."""
    key = unique("right")
    channel = unique("#twokeys")
    rjid = room(channel)
    settings = irc_settings()
    bob = await peers(ngircd)
    await bob.join(channel)
    await bob.send(f"MODE {channel} +k {key}")
    await bob.wait(lambda e: e.command == "MODE" and e.param(1) == "+k")
    name = unique("twokeys")
    async with running_gateway(settings) as app:
        phone = await users(name=name, resource="phone")
        await join(phone, rjid, name, password=key)
        laptop = await users(name=name, resource="laptop")
        await join(laptop, rjid, name, password="wrong")
        user = str(phone.boundjid.bare)
        session = app.runtimes[0].gateway.backend.manager.get(user, HOST)
        assert session.channels[channel].key == key  # what a reconnect will JOIN with
        await configure(phone, rjid, {"persistent": True})
        recorded = await PrefsStore(app.store.backend_storage("irc"), GW).joined()
        assert [j.key for j in recorded if j[:3] == (user, HOST, channel)] == [key]
    await restarted_and_back(settings, bob, phone, channel, name)
    assert not [e for e in bob.events if getattr(e, "command", "") == "475"]


async def test_a_restart_keeps_the_nick_the_channel_was_joined_with(irc_settings, users, peers,
                                                                    ngircd):
    channel = unique("#nick")
    settings = irc_settings(persistent_by_default=True)
    bob = await peers(ngircd)
    await bob.join(channel)
    localpart, nick = unique("loc"), unique("nk")
    async with running_gateway(settings) as app:
        alice = await users(name=localpart)
        await join(alice, room(channel), nick)
        await bob.wait(lambda e: e.command == "JOIN" and e.nick == nick, timeout=10)
        recorded = await PrefsStore(app.store.backend_storage("irc"), GW).joined()
        assert [j.nick for j in recorded if j.channel == channel.lower()] == [nick]
    await bob.wait(lambda e: e.command == "QUIT" and e.nick == nick)
    async with running_gateway(settings):
        await bob.wait(lambda e: e.command == "JOIN" and joins(bob, nick, channel) == 2,
                       timeout=20)
        assert joins(bob, localpart, channel) == 0, "the localpart is not the nick"
