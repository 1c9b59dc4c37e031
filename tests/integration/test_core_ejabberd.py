"""The same connection, disco, registration and echo round trip against a real ejabberd."""

import pytest
from slixmpp.exceptions import IqError

from transport.testing.gateway import running_gateway
from transport.testing.xmpp_steps import register, registration_form, send_chat, unregister

GW = "echo.localhost"
BOB = f"bob@{GW}"

pytestmark = pytest.mark.ejabberd


@pytest.fixture
async def ejabberd_gateway(ejabberd, gateway_settings):
    async with running_gateway(gateway_settings(ejabberd)) as app:
        yield app


async def test_connects_and_answers_disco(ejabberd_gateway, users, ejabberd):
    alice = await users(server=ejabberd)
    info = (await alice.plugin["xep_0030"].get_info(GW))["disco_info"]
    assert ("gateway", "echo") in {(i[0], i[1]) for i in info["identities"]}
    assert "jabber:iq:register" in info["features"]
    contact = (await alice.plugin["xep_0030"].get_info(BOB))["disco_info"]
    assert ("client", "bot") in {(i[0], i[1]) for i in contact["identities"]}


async def test_registration_round_trip(ejabberd_gateway, users, ejabberd):
    alice, carol = await users(server=ejabberd), await users(server=ejabberd)
    await register(alice, GW, username="alice")
    assert (await registration_form(alice, GW))["register"]["registered"]
    with pytest.raises(IqError) as err:
        await register(carol, GW, username="alice")
    assert err.value.condition == "conflict"
    await unregister(alice, GW)
    assert not (await registration_form(alice, GW))["register"]["registered"]


async def test_echo_round_trip_with_receipt(ejabberd_gateway, users, ejabberd):
    alice = await users(server=ejabberd)
    await register(alice, GW, username="alice")
    msg_id = send_chat(alice, BOB, "hello ejabberd", receipt=True)
    receipt = await alice.expect(lambda s: s.xml.find("{urn:xmpp:receipts}received") is not None)
    assert receipt["receipt"] == msg_id
    await alice.expect_message(sender=BOB, body="hello ejabberd")
