"""XEP-0092 version and XEP-0199 ping queries to IRC nicks become CTCP round trips —
against real Prosody + ngIRCd, with a plain IRC client playing the queried nick."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slixmpp.exceptions import IqError
from test_irc_support import GW, HOST, join, nick_jid, room, unique

from transport import SOFTWARE_NAME
from transport.testing.gateway import running_gateway

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)
VERSION_NS = "jabber:iq:version"
SERVER = f"{HOST}@{GW}"


def version_of(client: Any, jid: str) -> asyncio.Future[Any]:
    return asyncio.ensure_future(client.query(client.make_iq_get(queryxmlns=VERSION_NS, ito=jid),
                                              timeout=15))


def ping(client: Any, jid: str) -> asyncio.Future[Any]:
    return asyncio.ensure_future(client.plugin["xep_0199"].send_ping(jid, timeout=15))


def ctcp_request(command: str) -> Any:
    return lambda e: e.command == "PRIVMSG" and e.param(1).startswith(f"\x01{command}")


def fields(result: Any) -> tuple[str, str, str]:
    version = result["software_version"]
    return version["name"], version["version"], version["os"]


async def connected(users: Any, peers: Any, ngircd: Any, nick: str) -> tuple[Any, Any, str]:
    """A user in a channel with an IRC peer; returns (user, peer, room JID)."""
    channel = unique("#q")
    bob = await peers(ngircd)
    await bob.join(channel)
    alice = await users()
    await join(alice, room(channel), nick)
    return alice, bob, room(channel)


async def test_version_of_a_nick_and_of_an_occupant(irc_gateway, users, peers, ngircd):
    alice, bob, rjid = await connected(users, peers, ngircd, "alicever")
    pending = version_of(alice, nick_jid(bob.nick))
    request = await bob.wait(ctcp_request("VERSION"))
    assert request.param(1) == "\x01VERSION\x01" and request.nick == "alicever"
    await bob.send("NOTICE alicever :\x01VERSION irssi v1.4.3 - running on Linux x86_64\x01")
    assert fields(await pending) == ("irssi", "1.4.3", "Linux x86_64")
    bob.events.clear()
    pending = version_of(alice, f"{rjid}/{bob.nick}")
    await bob.wait(ctcp_request("VERSION"))
    await bob.send("NOTICE alicever :\x01VERSION a client without numbers\x01")
    assert fields(await pending) == ("a client without numbers", "", "")


async def test_ping_of_a_nick_and_of_an_occupant(irc_gateway, users, peers, ngircd):
    alice, bob, rjid = await connected(users, peers, ngircd, "aliceping")
    for target in (nick_jid(bob.nick), f"{rjid}/{bob.nick}"):
        bob.events.clear()
        pending = ping(alice, target)
        request = await bob.wait(ctcp_request("PING "))
        token = request.param(1)[len("\x01PING "):-1]
        assert token
        await bob.send(f"NOTICE aliceping :\x01PING not-{token}\x01")
        await asyncio.sleep(0.3)
        assert not pending.done(), "a reply with another token answers nothing"
        await bob.send(f"NOTICE aliceping :\x01PING {token}\x01")
        result = await pending
        assert result["type"] == "result" and str(result["from"]) == target
    # XEP-0410: the own occupant JID and the own nick are answered without IRC traffic.
    bob.events.clear()
    await alice.plugin["xep_0199"].send_ping(f"{rjid}/aliceping", timeout=5)
    await alice.plugin["xep_0199"].send_ping(nick_jid("aliceping"), timeout=5)
    version = await version_of(alice, nick_jid("aliceping"))
    assert fields(version)[0] == SOFTWARE_NAME
    await asyncio.sleep(0.3)
    assert not [e for e in bob.events if getattr(e, "command", "") == "PRIVMSG"]


async def test_unknown_nick_silence_and_no_connection(irc_settings, users, peers, ngircd):
    async with running_gateway(irc_settings()) as app:
        app.runtimes[0].gateway.backend.ctcp.timeout = 1.0
        alice, bob, rjid = await connected(users, peers, ngircd, "alicefail")
        with pytest.raises(IqError) as exc:
            await ping(alice, nick_jid(unique("nobody")))
        assert exc.value.condition == "item-not-found"
        with pytest.raises(IqError) as exc:
            await version_of(alice, nick_jid(unique("nobody")))
        assert exc.value.condition == "item-not-found"
        with pytest.raises(IqError) as exc:
            await ping(alice, nick_jid(bob.nick))  # bob never answers
        assert exc.value.condition == "remote-server-timeout"
        with pytest.raises(IqError) as exc:
            await version_of(alice, f"{rjid}/{bob.nick}")
        assert exc.value.condition == "remote-server-timeout"
        with pytest.raises(IqError) as exc:
            await ping(alice, f"{rjid}/{unique('absent')}")
        assert exc.value.condition == "item-not-found"
        carol = await users()  # no IRC connection at all
        for query in (ping, version_of):
            with pytest.raises(IqError) as exc:
                await query(carol, nick_jid(bob.nick))
            assert exc.value.condition == "service-unavailable"
        assert len(bob.lines("PRIVMSG")) == 2, "only alice's two queries reached IRC"
        # The gateway and the server JID still answer for themselves.
        assert fields(await version_of(carol, GW))[0] == SOFTWARE_NAME
        await carol.plugin["xep_0199"].send_ping(SERVER, timeout=5)
