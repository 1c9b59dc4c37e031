"""What the presence barrage found: a resource that ended its broadcast presence (still
connected) and then sends directed presence to a JID with a subscription to it. Prosody keeps
no record of that directed presence (it counts on the broadcast it no longer sends), so no
unavailable presence ever comes when the resource disconnects. Learning it sooner would take
a liveness check of users' resources (left open: a ping or disco to a departed full JID and
a client without support for it both answer service-unavailable). What the gateway does
guarantee: the resync after its stream's next reconnect probes every user and retracts it.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from transport.testing.gateway import ComponentSpec, running_gateway
from transport.testing.xmpp_steps import register

from .clients import LedgerClient
from .recording import RecordingEcho

pytestmark = pytest.mark.timeout(60)

ECHO = "echo.localhost"


async def test_a_hidden_resource_s_presence_is_retracted_by_the_next_resync(
        gateway_settings, users):
    settings = gateway_settings(component=ComponentSpec(RecordingEcho, ECHO, "echo-secret"))
    async with running_gateway(settings) as app:
        runtime = app.runtimes[0]
        backend: RecordingEcho = runtime.gateway.backend
        alice: LedgerClient = await users(client_class=LedgerClient)
        user = str(alice.boundjid.bare)
        await register(alice, ECHO, username="alice")
        await wait_until(lambda: user in backend.online_now)
        alice.send_raw("<presence type='unavailable'/>")  # hidden, still connected
        await wait_until(lambda: user not in backend.online_now)
        alice.send_raw(f"<presence to='{ECHO}'/>")  # the gateway subscribes to her presence
        await wait_until(lambda: user in backend.online_now)
        await alice.logout()
        runtime.xmpp.transport.abort()
        await asyncio.wait_for(runtime.xmpp.online.wait(), 10)
        await wait_until(lambda: user not in backend.online_now)
        await runtime.xmpp.barrier("localhost")
        await runtime.gateway.lifecycle.settled()
        assert user not in backend.online_now
        assert user not in runtime.gateway.lifecycle.online
        assert await app.store.online_users.list(ECHO) == []


async def wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
