"""A CTCP flood from one nick never holds back what the user types: its answers are limited
per nick and wait behind the user's lines (real Prosody + ngIRCd, the gateway's throttle on:
a burst of 10 lines, then 1 line/s, as an IRC network expects)."""

from __future__ import annotations

import asyncio
import time

import pytest
from test_irc_support import join, nick_jid, room, unique

from transport.backends.irc.from_irc import autoreply
from transport.backends.irc.protocol import Event, IrcEvent
from transport.testing.gateway import running_gateway

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)


def ctcp_reply(e: Event) -> bool:
    return isinstance(e, IrcEvent) and e.command == "NOTICE" and e.param(1).startswith(
        "\x01PING ")


async def test_ctcp_flood_does_not_delay_the_users_channel_line(
        irc_settings, users, peers, ngircd):
    channel = unique("#flood")
    async with running_gateway(irc_settings(throttle_limit=10)):
        bob = await peers(ngircd)
        await bob.join(channel)
        alice = await users()
        await join(alice, room(channel), "aliceflood")
        for n in range(40):
            await bob.send(f"PRIVMSG aliceflood :\x01PING {n}\x01")
        await bob.send("PRIVMSG aliceflood :after the pings")
        # The gateway handles IRC lines in order: once this arrives, all 40 were read.
        await alice.expect(lambda s: s.name == "message" and s["body"] == "after the pings"
                           and s["from"].bare == nick_jid(bob.nick), timeout=15)
        started = time.monotonic()
        alice.make_message(mto=room(channel), mbody="my own line", mtype="groupchat").send()
        await bob.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "my own line",
                       timeout=5)
        assert time.monotonic() - started < 2.0
        await bob.wait(ctcp_reply, timeout=5)  # PINGs are still answered, up to the limit
        await asyncio.sleep(1.5)
        answered = [e for e in bob.events if ctcp_reply(e)]
        assert 1 <= len(answered) <= autoreply.BURST
        assert answered[0].param(1) == "\x01PING 0\x01"
