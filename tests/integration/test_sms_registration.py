"""SMS registration, discovery and addressing against a real Prosody and the stand-in."""

import logging

import pytest
from slixmpp.exceptions import IqError
from test_sms_support import (
    CONTACT,
    GW,
    OWNED_OUTSIDE_POOL,
    POOL,
    contact_jid,
    registered,
    wait_until,
)

from transport.testing.servers.ports import free_port
from transport.testing.xmpp_steps import (
    register,
    register_with_form,
    registration_form,
    send_chat,
    unregister,
)
from transport.xmpp.stanzas import error_condition

pytest_plugins = ("test_sms_support",)


async def gateway_translate(client, text):
    iq = client.make_iq_set(ito=GW)
    query = iq.xml.makeelement("{jabber:iq:gateway}query", {})
    prompt = query.makeelement("{jabber:iq:gateway}prompt", {})
    prompt.text = text
    query.append(prompt)
    iq.xml.append(query)
    result = await client.query(iq)
    return result.xml.findtext(".//{jabber:iq:gateway}jid")


async def test_disco_of_the_gateway_and_of_contacts(sms_gateway, users):
    async with sms_gateway():
        alice = await users()
        info = (await alice.plugin["xep_0030"].get_info(GW))["disco_info"]
        assert ("gateway", "sms") in {(i[0], i[1]) for i in info["identities"]}
        for feature in ("jabber:iq:register", "jabber:iq:gateway",
                        "http://jabber.org/protocol/address"):
            assert feature in info["features"]
        contact = (await alice.plugin["xep_0030"].get_info(contact_jid(CONTACT)))["disco_info"]
        assert [(i[0], i[1], i[3]) for i in contact["identities"]] == [
            ("client", "sms", "+1 212-555-0142")]
        assert "urn:xmpp:receipts" in contact["features"]
        alpha = (await alice.plugin["xep_0030"].get_info(f"mybank;alphanumeric@{GW}"))
        assert "urn:xmpp:receipts" not in alpha["disco_info"]["features"], \
            "nobody can text an alphanumeric sender, so no receipt ever comes"


async def test_register_with_the_form_and_a_typed_number(sms_gateway, users):
    async with sms_gateway() as gw:
        alice = await users()
        form = await registration_form(alice, GW)
        assert "phone" in form["register"]["fields"]
        assert form.xml.find(".//{jabber:x:data}field[@var='phone']") is not None
        await register_with_form(alice, GW, phone="(212) 555-0100")
        await alice.expect_presence(GW, "subscribe")
        record = await gw.store.users.get(GW, alice.boundjid.bare)
        assert record.legacy_key == "+12125550100"
        again = await registration_form(alice, GW)
        assert again["register"]["registered"] and again["register"]["phone"] == POOL[0]


async def test_pool_conflict_and_impossible_numbers(sms_gateway, users):
    async with sms_gateway():
        alice, carol = await users(), await users()
        await register(alice, GW, phone=POOL[0])
        with pytest.raises(IqError) as err:
            await register(carol, GW, phone=POOL[0])
        assert err.value.condition == "conflict"
        with pytest.raises(IqError) as err:
            await register(carol, GW, phone=OWNED_OUTSIDE_POOL)
        assert err.value.condition == "not-acceptable"
        assert "not one of this gateway's numbers" in err.value.text
        for bad in ("+1212", "hello", "12345"):
            with pytest.raises(IqError) as err:
                await register(carol, GW, phone=bad)
            assert err.value.condition == "not-acceptable", bad
        await register(alice, GW, phone=POOL[1])  # moving to another number frees the first
        await register(carol, GW, phone=POOL[0])
        await unregister(carol, GW)
        await register(alice, GW, phone=POOL[0])


async def test_empty_pool_checks_the_accounts_numbers(sms_gateway, users):
    async with sms_gateway(twilio={"numbers": []}):
        alice, carol = await users(), await users()
        await register(alice, GW, phone=OWNED_OUTSIDE_POOL)
        with pytest.raises(IqError) as err:
            await register(carol, GW, phone="+12125550177")
        assert err.value.condition == "not-acceptable"
        assert "not a number of this gateway's Twilio account" in err.value.text


async def test_empty_pool_with_twilio_unreachable_or_refusing(sms_gateway, users, standin):
    unreachable = f"http://127.0.0.1:{free_port()}"
    async with sms_gateway(twilio={"numbers": [], "api_base_url": unreachable}):
        alice = await users()
        with pytest.raises(IqError) as err:
            await register(alice, GW, phone=POOL[0])
        assert (err.value.condition, err.value.etype) == ("remote-server-timeout", "wait")
    async with sms_gateway(twilio={"numbers": [], "auth_token": "wrong-token"}):
        with pytest.raises(IqError) as err:
            await register(alice, GW, phone=POOL[0])
        assert err.value.condition == "internal-server-error", err.value.text
        assert "credentials were refused" in err.value.text


async def test_gateway_prompt_translates_typed_numbers(sms_gateway, users):
    async with sms_gateway():
        alice = await users()
        assert await gateway_translate(alice, "(212) 555-0142") == contact_jid(CONTACT)
        assert await gateway_translate(alice, "12345") == f"12345;phone-context=+1@{GW}"
        with pytest.raises(IqError) as err:
            await gateway_translate(alice, "not a number")
        assert err.value.condition == "not-acceptable"


async def test_addresses_that_are_not_possible_numbers_are_jid_malformed(sms_gateway, users):
    async with sms_gateway() as gw:
        alice = await registered(users)
        for local in ("+1212", "hello", "12"):
            msg_id = send_chat(alice, f"{local}@{GW}", "hi")
            err = await alice.expect_message(mtype="error")
            assert err["id"] == msg_id and error_condition(err) == "jid-malformed", local
        assert gw.standin.create_attempts == []


async def test_pool_numbers_the_account_does_not_own_are_reported(sms_gateway, caplog):
    caplog.set_level(logging.INFO)
    async with sms_gateway(twilio={"numbers": [POOL[0], "+12125550177"]}):
        await wait_until(lambda: "not a number of the Twilio account" in caplog.text)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("+12125550177 is in sms.twilio.numbers") for m in warned)
    assert not any(POOL[0] in m for m in warned)
