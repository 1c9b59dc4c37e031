"""IRC over TLS never falls back to plain text, keeps the admin's TLS endpoint through form
submissions, and enforces a pinned certificate fingerprint. A real ngIRCd serves TLS with
a self-signed certificate; a counting listener stands for a plain port that must stay
untouched (it would receive the server password in clear)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from irc_endpoint_support import CountingListener, configure_server, error_text
from test_irc_support import GW, HOST, is_self_presence, join, room, unique

from transport.backends.irc.config.prefs import ServerPrefs
from transport.testing.gateway import running_gateway
from transport.testing.servers import NgircdServer

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def plain() -> AsyncIterator[CountingListener]:
    listener = await CountingListener().start()
    yield listener
    await listener.close()


def listed_tls(server: NgircdServer, verify_cert: bool = True) -> dict[str, Any]:
    return {HOST: {"port": server.tls_port, "tls": True, "verify_cert": verify_cert}}


def prefs_of(app: Any) -> Any:
    return app.runtimes[0].gateway.backend.prefs


def colons(hex_digest: str) -> str:
    return ":".join(hex_digest[i:i + 2] for i in range(0, len(hex_digest), 2)).upper()


async def joined(client: Any, host: str = HOST) -> None:
    channel = unique("#tls")
    stanzas = await join(client, room(channel, host), "alice")
    assert any(is_self_presence(room(channel, host))(s) for s in stanzas), stanzas[-1]


async def test_a_bad_certificate_on_a_listed_tls_server_never_falls_back(
        irc_settings, users, tls_ircd, plain):
    settings = irc_settings(servers=listed_tls(tls_ircd))
    async with running_gateway(settings) as app:
        alice = await users()
        me = str(alice.boundjid.bare)
        await prefs_of(app).set_server(me, HOST, ServerPrefs(ports=(plain.port,),
                                                             password="in-clear?"))
        text = error_text(await join(alice, room(unique("#tls")), "alice"))
        assert "certificate verify failed" in text.lower()
        assert plain.connections == 0


async def test_a_failed_tls_port_is_not_followed_by_a_plain_one(
        irc_settings, users, tls_ircd, plain):
    ports = [tls_ircd.tls_port, plain.port]
    settings = irc_settings(allow_any_server=True, allow_private_addresses=True,
                            user_ports=ports)
    async with running_gateway(settings):
        alice = await users()
        done = await configure_server(alice, "localhost", {
            "tls_ports": [str(tls_ircd.tls_port)], "ports": [str(plain.port)],
            "pass": "in-clear?"})
        assert done["command"]["notes"][0][0] == "info"
        text = error_text(await join(alice, room(unique("#tls"), "localhost"), "alice"))
        assert "certificate verify failed" in text.lower()
        assert plain.connections == 0


async def test_a_matching_pin_accepts_a_self_signed_certificate(
        irc_settings, users, tls_ircd):
    async with running_gateway(irc_settings(servers=listed_tls(tls_ircd))):
        alice = await users()
        done = await configure_server(alice, HOST,
                                      {"fingerprint": colons(tls_ircd.cert_sha256)})
        assert done["command"]["notes"][0][0] == "info"
        await joined(alice)


async def test_a_pin_mismatch_is_refused_even_without_verification(
        irc_settings, users, tls_ircd):
    async with running_gateway(irc_settings(servers=listed_tls(tls_ircd, False))):
        alice = await users()
        other = "ab" * 32
        done = await configure_server(alice, HOST, {"fingerprint": other})
        assert done["command"]["notes"][0][0] == "info"
        text = error_text(await join(alice, room(unique("#tls")), "alice"))
        assert "fingerprint mismatch" in text and tls_ircd.cert_sha256 in text


async def test_a_form_submission_keeps_the_configured_tls_port(
        irc_settings, users, tls_ircd, plain):
    async with running_gateway(irc_settings(servers=listed_tls(tls_ircd, False))) as app:
        alice = await users()
        me = str(alice.boundjid.bare)
        done = await configure_server(alice, HOST, {"ports": [str(plain.port)],
                                                    "nick": "alice"})
        assert done["command"]["notes"][0][0] == "error"
        assert await prefs_of(app).server_prefs(me, HOST) == ServerPrefs()
        done = await configure_server(alice, HOST, {"nick": "alice", "throttle_limit": "5"})
        assert done["command"]["notes"][0][0] == "info"
        stored = await prefs_of(app).server_prefs(me, HOST)
        assert stored == dataclasses.replace(ServerPrefs(), nick="alice", throttle_limit=5)
        await joined(alice)
        info = await alice.plugin["xep_0050"].send_command(f"{HOST}@{GW}",
                                                           "get-irc-connection-info")
        assert f"on port {tls_ircd.tls_port} (using TLS)" in info["command"]["notes"][0][1]
        assert plain.connections == 0
