"""IRCv3 against InspIRCd: server-time becomes XEP-0203 delay, echo-message drives the
reflection (keeping the client's id), message tags are parsed only once negotiated."""

from __future__ import annotations

import pytest
from test_irc_support import (
    GW,
    SECRET,
    groupchat,
    irc_options,
    join,
    room,
    unique,
)

from transport.testing.gateway import ComponentSpec, running_gateway

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)


async def test_server_time_and_echo_message(gateway_settings, users, peers, inspircd):
    spec = ComponentSpec("irc", GW, SECRET, irc_options(inspircd))
    channel = unique("#v3")
    async with running_gateway(gateway_settings(component=spec)) as app:
        op = await peers(inspircd)
        await op.join(channel)
        alice = await users()
        rjid = room(channel, inspircd.host)
        await join(alice, rjid, "alicev3")
        session = next(iter(app.runtimes[0].gateway.backend.manager.sessions.values()))
        assert session.conn is not None
        assert {"echo-message", "server-time", "message-tags"} <= session.conn.caps
        await op.send(f"PRIVMSG {channel} :with a time")
        got = await alice.expect(groupchat(rjid, "with a time"))
        assert got.xml.find("{urn:xmpp:delay}delay") is not None
        msg = alice.make_message(mto=rjid, mbody="echoed", mtype="groupchat")
        msg["id"] = "echo-1"
        msg.send()
        reflection = await alice.expect(groupchat(rjid, "echoed"))
        assert reflection["id"] == "echo-1"
        stanza_id = reflection.xml.find("{urn:xmpp:sid:0}stanza-id")
        assert stanza_id is not None and stanza_id.get("by") == rjid
        await op.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "echoed")
        assert not [s for s in alice.drain() if s.name == "message" and s["body"] == "echoed"]
