"""With ``allow_any_server`` the gateway must not become a port scanner of its own network:
hosts that resolve to loopback/private addresses are refused unless the admin lists them,
users pick ports for unlisted hosts only from ``user_ports``, and a listed host is reached
only on the admin's port. Real Prosody, real ngIRCd, a real loopback "SMTP" listener."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from irc_endpoint_support import CountingListener, configure_server, error_text, form_fields
from test_irc_support import GW, HOST, is_self_presence, join, nick_jid, room, unique

from transport.testing.gateway import running_gateway
from transport.testing.xmpp_steps import send_chat

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def smtp() -> AsyncIterator[CountingListener]:
    listener = await CountingListener().start("127.0.0.1")
    yield listener
    await listener.close()


@pytest.fixture
async def smtp2() -> AsyncIterator[CountingListener]:
    listener = await CountingListener().start("127.0.0.2")
    yield listener
    await listener.close()


def backend(app: Any) -> Any:
    return app.runtimes[0].gateway.backend


async def test_loopback_hosts_are_refused_and_nothing_is_connected(
        irc_settings, users, smtp, smtp2):
    ports = [6667, 6697, smtp.port, smtp2.port]
    async with running_gateway(irc_settings(allow_any_server=True, user_ports=ports)):
        alice = await users()
        for host, listener in (("localhost", smtp), ("127.0.0.2", smtp2)):
            done = await configure_server(alice, host, {"ports": [str(listener.port)],
                                                        "tls_ports": []})
            assert done["command"]["notes"][0][0] == "info"
            text = error_text(await join(alice, room("#scan", host), "alice"))
            assert "loopback" in text and host in text
        text = error_text(await join(alice, room("#scan", "127.1.2.3"), "alice"))
        assert "loopback" in text
        assert (smtp.connections, smtp2.connections) == (0, 0)


async def test_a_message_to_a_nick_on_a_loopback_host_says_why(irc_settings, users, smtp2):
    ports = [6667, 6697, smtp2.port]
    async with running_gateway(irc_settings(allow_any_server=True, user_ports=ports)):
        alice = await users()
        await configure_server(alice, "127.0.0.2", {"ports": [str(smtp2.port)]})
        send_chat(alice, nick_jid("postmaster", "127.0.0.2"), "EHLO x", msg_id="m1")
        error = await alice.expect(lambda s: s.name == "message" and s["type"] == "error"
                                   and s["id"] == "m1", timeout=15)
        assert "loopback" in error["error"]["text"]
        assert smtp2.connections == 0


async def test_ports_outside_user_ports_are_refused_in_the_form(irc_settings, users):
    async with running_gateway(irc_settings(allow_any_server=True)) as app:
        alice = await users()
        done = await configure_server(alice, "irc.example.net", {"ports": ["25"],
                                                                 "nick": "al"})
        [(kind, text)] = done["command"]["notes"]
        assert kind == "error" and "25" in text and "6667, 6697" in text
        assert "Nothing was saved" in text
        stored = await backend(app).prefs.server_prefs(str(alice.boundjid.bare),
                                                       "irc.example.net")
        assert (stored.ports, stored.nick) == ((), None)
        done = await configure_server(alice, "irc.example.net", {"tls_ports": ["6697"],
                                                                 "ports": ["6667"]})
        assert done["command"]["notes"][0][0] == "info"


async def test_a_listed_host_is_reached_on_the_admins_port_only(irc_settings, users, smtp):
    """127.0.0.1 is listed (the test ngIRCd): users cannot point it at another port, and
    ports stored for it by an older version are ignored; the listed server still works."""
    async with running_gateway(irc_settings(allow_any_server=True)) as app:
        alice = await users()
        assert {"ports", "tls_ports"}.isdisjoint(await form_fields(alice, HOST))
        done = await configure_server(alice, HOST, {"ports": [str(smtp.port)]})
        [(kind, text)] = done["command"]["notes"]
        assert kind == "error" and "administrator" in text
        prefs = backend(app).prefs
        me = str(alice.boundjid.bare)
        stale = await prefs.server_prefs(me, HOST)
        await prefs.set_server(me, HOST, type(stale)(ports=(smtp.port,)))
        channel = unique("#ok")
        stanzas = await join(alice, room(channel), "alice")
        assert any(is_self_presence(room(channel))(s) for s in stanzas)
        assert smtp.connections == 0


async def test_private_addresses_can_be_allowed(irc_settings, users, ngircd):
    settings = irc_settings(allow_any_server=True, allow_private_addresses=True,
                            user_ports=[ngircd.port])
    async with running_gateway(settings):
        alice = await users()
        await configure_server(alice, "localhost", {"ports": [str(ngircd.port)],
                                                    "tls_ports": []})
        channel = unique("#local")
        stanzas = await join(alice, room(channel, "localhost"), "alice")
        assert any(is_self_presence(room(channel, "localhost"))(s) for s in stanzas)
        assert GW in room(channel, "localhost")
