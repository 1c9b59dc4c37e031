"""``BackendContext.contact_presence`` through a real Prosody, with the echo backend.

A pushed presence never overtakes a message the backend delivered before it, and what a
user's probe is answered with afterwards is what was pushed last.
"""

from __future__ import annotations

import pytest

from transport.core.backend import BackendContext
from transport.core.events import XmppMessage
from transport.testing.xmpp_steps import register

pytestmark = pytest.mark.timeout(60)

GW = "echo.localhost"
BOB = f"bob@{GW}"


async def member_of(gateway, users):
    client = await users()
    await register(client, GW, username=client.boundjid.user)
    await client.expect_presence(GW)  # the XEP-0100 greeting's presence, out of the way
    client.drain()
    ctx: BackendContext = gateway.runtimes[0].gateway.backend.ctx
    return client, ctx


async def test_a_presence_leaves_after_the_messages_delivered_before_it(gateway, users):
    client, ctx = await member_of(gateway, users)
    user = client.boundjid.bare
    await ctx.deliver_many([XmppMessage(to=user, sender=BOB, type="chat", body=f"line {i}")
                            for i in range(200)])
    await ctx.contact_presence(user, "bob", show="away", status="at lunch")
    presence = await client.expect_presence(BOB)
    before = [s["body"] for s in client.drain() if s.name == "message"]
    assert before == [f"line {i}" for i in range(200)]
    assert (presence["type"], presence["show"], presence["status"]) == \
        ("away", "away", "at lunch")

    # With nothing waiting it goes out at once, and offline is offline.
    await ctx.contact_presence(user, "bob", available=False, status="gone home")
    gone = await client.expect_presence(BOB, "unavailable")
    assert gone["status"] == "gone home"


async def test_a_probe_is_answered_with_what_was_pushed_last(gateway, users):
    client, ctx = await member_of(gateway, users)
    user = client.boundjid.bare

    await ctx.contact_presence(user, "bob", show="dnd", status="busy")
    await client.expect_presence(BOB, "dnd")
    client.send_presence(pto=BOB, ptype="probe")
    answer = await client.expect_presence(BOB)
    assert (answer["type"], answer["status"]) == ("dnd", "busy")

    await ctx.contact_presence(user, "bob", available=False)
    await client.expect_presence(BOB, "unavailable")
    client.send_presence(pto=BOB, ptype="probe")
    assert (await client.expect_presence(BOB))["type"] == "unavailable"

    # A contact never pushed is answered by Backend.contact_available (echo: available).
    client.send_presence(pto=f"carol@{GW}", ptype="probe")
    assert (await client.expect_presence(f"carol@{GW}"))["type"] == "available"


async def test_resources_of_a_contact_come_and_go_one_by_one(gateway, users):
    client, ctx = await member_of(gateway, users)
    user = client.boundjid.bare
    await ctx.contact_presence(user, "bob", resource="phone")
    await ctx.contact_presence(user, "bob", resource="desk", show="xa")
    await ctx.contact_presence(user, "bob", resource="phone", available=False)
    seen = [await client.expect_presence(BOB) for _ in range(3)]
    assert [(p["from"].resource, p["type"]) for p in seen] == \
        [("phone", "available"), ("desk", "xa"), ("phone", "unavailable")]
    client.send_presence(pto=BOB, ptype="probe")
    answer = await client.expect_presence(BOB)
    assert (answer["from"].resource, answer["type"]) == ("desk", "xa")


async def test_a_show_rfc_6121_does_not_know_is_refused(gateway, users):
    client, ctx = await member_of(gateway, users)
    with pytest.raises(ValueError, match="show must be one of"):
        await ctx.contact_presence(client.boundjid.bare, "bob", show="lunch")  # type: ignore[arg-type]
