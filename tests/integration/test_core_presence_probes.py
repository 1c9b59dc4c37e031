"""Presence probes through a real Prosody: only users of the gateway leave rows behind.

A probe from a user who is not registered (the echo backend needs registration) or from a
domain that is not allowed used to record a subscription for them, one row per probe.
"""

from __future__ import annotations

import pytest

from transport.testing.gateway import running_gateway
from transport.testing.xmpp_steps import register

pytestmark = pytest.mark.timeout(60)

GW = "echo.localhost"
CONTACTS = [f"bob@{GW}", f"carol@{GW}", GW]


async def probe_all(client) -> list[str]:
    """Probe the gateway and two contacts; the presence types they answer with."""
    for contact in CONTACTS:
        client.send_presence(pto=contact, ptype="probe")
    return [(await client.expect_presence(contact))["type"] for contact in CONTACTS]


async def test_probes_from_unregistered_users_write_nothing(gateway, users):
    store = gateway.store
    before = await store.subscriptions.count(GW)
    stranger = await users()
    answers = await probe_all(stranger)
    assert await store.subscriptions.count(GW) == before
    assert await store.subscriptions.for_user(GW, stranger.boundjid.bare) == []
    assert answers == ["unavailable"] * 3

    member = await users()
    await register(member, GW, username=member.boundjid.user)
    member.send_presence(pto=f"bob@{GW}", ptype="probe")
    await member.expect_presence(f"bob@{GW}", None)
    rows = await store.subscriptions.for_user(GW, member.boundjid.bare)
    assert "bob" in [row.contact for row in rows], "a user's probe is still recorded"


async def test_probes_from_a_domain_not_allowed_write_nothing(gateway_settings, users):
    async with running_gateway(gateway_settings(allowed_domains=["example.net"])) as app:
        before = await app.store.subscriptions.count(GW)
        outsider = await users()
        answers = await probe_all(outsider)
        assert await app.store.subscriptions.count(GW) == before
        assert answers == ["unavailable"] * 3
