"""The component socket acknowledges promptly, so a server running Nagle does not hold stanzas.

Prosody and ejabberd leave Nagle's algorithm on by default: each small write waits for the
ACK of the previous one. Were the gateway's kernel to delay that ACK (up to 40 ms, hoping to
piggyback it on a reply), every other stanza would wait that long. These tests run Prosody
at its default network settings.
"""

import asyncio
import socket
import time
import uuid

import pytest

from transport.testing.gateway import running_gateway
from transport.testing.xmpp_steps import register, send_chat

GW = "echo.localhost"
BOB = f"bob@{GW}"
MARK = "tcp-ack-"


@pytest.fixture
def nagle_prosody(fresh_prosody):
    return fresh_prosody(nagle=True)


def component_socket(app):
    return app.runtimes[0].xmpp.transport.get_extra_info("socket")


async def test_server_config_keeps_prosody_defaults_when_asked(nagle_prosody, prosody):
    assert "nagle" not in nagle_prosody.config_path.read_text()
    assert "network_settings = { nagle = false }" in prosody.config_path.read_text()


async def test_component_socket_has_nodelay(gateway_settings, nagle_prosody):
    async with running_gateway(gateway_settings(nagle_prosody)) as app:
        sock = component_socket(app)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


async def test_stanzas_from_a_nagle_server_are_not_held_for_a_delayed_ack(
        gateway_settings, nagle_prosody, users):
    """200 chats at 50/s to the echo contact (it answers each, as a gateway does): the time
    from the client's write to the component's read stays far from the 40 ms delayed ACK."""
    alice = await users(nagle_prosody)
    async with running_gateway(gateway_settings(nagle_prosody)) as app:
        component = app.runtimes[0].xmpp
        await register(alice, GW, username="alice")
        arrived: dict[str, float] = {}

        def stamp(stanza):
            body = stanza["body"] if stanza.name == "message" else ""
            if body.startswith(MARK):
                arrived[body] = time.perf_counter()
            return stanza

        component.add_filter("in", stamp)
        sent: dict[str, float] = {}
        run = uuid.uuid4().hex[:6]
        start = time.perf_counter()
        for i in range(200):
            await asyncio.sleep(max(0.0, start + i / 50 - time.perf_counter()))
            body = f"{MARK}{run}-{i}"
            sent[body] = time.perf_counter()
            send_chat(alice, BOB, body)
        await alice.expect_message(sender=BOB, body=f"{MARK}{run}-199", timeout=10)
        for _ in range(50):
            if len(arrived) == len(sent):
                break
            await asyncio.sleep(0.05)
        component.del_filter("in", stamp)

    assert len(arrived) == len(sent)
    delays = sorted((arrived[b] - sent[b]) * 1000 for b in sent)
    p90 = delays[int(len(delays) * 0.9)]
    assert p90 < 20, f"p50 {delays[len(delays) // 2]:.1f} ms, p90 {p90:.1f} ms"
