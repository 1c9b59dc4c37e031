"""The core against a real Prosody, through the echo backend."""

import asyncio

import pytest
from slixmpp.exceptions import IqError

from transport.testing.xmpp_steps import (
    register,
    register_with_form,
    registration_form,
    run_command,
    send_chat,
    unregister,
)
from transport.xmpp.stanzas import error_condition

GW = "echo.localhost"
BOB = f"bob@{GW}"


async def test_component_answers_version_and_disco(gateway, users):
    alice = await users()
    version = await alice.plugin["xep_0092"].get_version(GW)
    assert version["software_version"]["name"] == "xmpp-transport"

    info = (await alice.plugin["xep_0030"].get_info(GW))["disco_info"]
    assert ("gateway", "echo") in {(i[0], i[1]) for i in info["identities"]}
    for feature in ("jabber:iq:register", "jabber:iq:gateway",
                    "http://jabber.org/protocol/commands", "urn:xmpp:ping"):
        assert feature in info["features"]

    contact = (await alice.plugin["xep_0030"].get_info(BOB))["disco_info"]
    assert ("client", "bot") in {(i[0], i[1]) for i in contact["identities"]}
    assert "urn:xmpp:receipts" in contact["features"]


async def test_unknown_iq_is_answered_with_an_error(gateway, users):
    alice = await users()
    iq = alice.make_iq_get(queryxmlns="urn:example:nothing", ito=GW)
    with pytest.raises(IqError) as err:
        await alice.query(iq)
    assert err.value.condition in ("feature-not-implemented", "service-unavailable")


async def test_registration_get_set_reregister_conflict_remove(gateway, users):
    alice, carol = await users(), await users()
    form = await registration_form(alice, GW)
    assert not form["register"]["registered"]
    assert "username" in form["register"]["fields"]
    assert form.xml.find(".//{jabber:x:data}field[@var='username']") is not None

    await register_with_form(alice, GW, username="Alice")
    again = await registration_form(alice, GW)
    assert again["register"]["registered"]
    assert again["register"]["username"] == "Alice"
    await alice.expect_presence(GW, "subscribe")

    await register(alice, GW, username="alice2")
    assert (await registration_form(alice, GW))["register"]["username"] == "alice2"

    with pytest.raises(IqError) as err:
        await register(carol, GW, username="ALICE2")
    assert err.value.condition == "conflict"
    with pytest.raises(IqError) as err:
        await register(carol, GW, username="")
    assert err.value.condition == "not-acceptable"

    alice.drain()
    await unregister(alice, GW)
    for ptype in ("unsubscribe", "unsubscribed", "unavailable"):
        await alice.expect_presence(GW, ptype)
    assert not (await registration_form(alice, GW))["register"]["registered"]
    record = await gateway.store.users.get(GW, alice.boundjid.bare)
    assert record is None
    await register(carol, GW, username="alice")  # the name is free again


async def test_unregistered_user_gets_registration_required(gateway, users):
    alice = await users()
    msg_id = send_chat(alice, BOB, "hello")
    err = await alice.expect_message(sender=BOB, mtype="error")
    assert err["id"] == msg_id
    assert err["error"]["condition"] == "registration-required"
    assert str(err["to"]) == str(alice.boundjid), "errors go to the sending full JID"


async def test_unregistered_subscription_is_refused_with_a_presence_error(gateway, users):
    alice = await users()
    alice.send_presence(pto=BOB, ptype="subscribe")
    err = await alice.expect_presence(BOB, "error")
    assert error_condition(err) == "registration-required"
    assert err["error"]["type"] == "auth"
    assert err["error"]["text"]


async def test_domain_not_allowed_is_forbidden(gateway_settings, users):
    from transport.testing.gateway import running_gateway

    async with running_gateway(gateway_settings(allowed_domains=["example.net"])):
        alice = await users()
        with pytest.raises(IqError) as err:
            await register(alice, GW, username="x")
        assert err.value.condition == "forbidden"
        send_chat(alice, BOB, "hi")
        err_msg = await alice.expect_message(sender=BOB, mtype="error")
        assert err_msg["error"]["condition"] == "forbidden"


async def test_round_trip_with_receipt_and_stable_ids(gateway, users):
    alice = await users()
    await register(alice, GW, username="alice")
    msg_id = send_chat(alice, BOB, "hello there", receipt=True)
    receipt = await alice.expect(lambda s: s.xml.find("{urn:xmpp:receipts}received") is not None)
    assert receipt["from"].bare == BOB
    assert receipt["receipt"] == msg_id
    echo = await alice.expect_message(sender=BOB, body="hello there")
    assert echo["type"] == "chat"
    assert echo["origin_id"]["id"] == echo["id"] and echo["id"]


async def test_malformed_contact_address_is_refused(gateway, users):
    alice = await users()
    await register(alice, GW, username="alice")
    send_chat(alice, f"a'b@{GW}", "hello")
    err = await alice.expect_message(mtype="error")
    assert err["error"]["condition"] == "jid-malformed"


async def test_legacy_failure_comes_back_as_error_with_original_id(gateway, users):
    alice = await users()
    await register(alice, GW, username="alice")
    msg_id = send_chat(alice, BOB, "fail:policy-violation filtered by carrier")
    err = await alice.expect_message(sender=BOB, mtype="error")
    assert err["id"] == msg_id
    assert error_condition(err) == "policy-violation"
    assert "filtered by carrier" in err["error"]["text"]
    assert "ECHO" in err["error"]["text"]
    assert err.xml.find(".//{urn:xmpp-transport:legacy-error:0}legacy-error") is not None


async def test_temporary_failure_retried_and_resent_id_sent_once(gateway, users):
    alice = await users()
    await register(alice, GW, username="alice")
    send_chat(alice, BOB, "flaky:2 eventually", msg_id="m-1")
    send_chat(alice, BOB, "flaky:2 eventually", msg_id="m-1")
    await alice.expect_message(sender=BOB, body="flaky:2 eventually")
    send_chat(alice, BOB, "marker")
    await alice.expect_message(sender=BOB, body="marker")
    leftovers = [s for s in alice.drain() if getattr(s, "get", None) and s["body"]]
    assert leftovers == [], "the duplicate stanza must not be echoed a second time"


async def test_gateway_prompt_translates_to_a_jid(gateway, users):
    alice = await users()
    iq = alice.make_iq_get(queryxmlns="jabber:iq:gateway", ito=GW)
    prompt = await alice.query(iq)
    assert prompt.xml.find(".//{jabber:iq:gateway}prompt") is not None
    iq = alice.make_iq_set(ito=GW)
    query = iq.xml.makeelement("{jabber:iq:gateway}query", {})
    prompt_el = query.makeelement("{jabber:iq:gateway}prompt", {})
    prompt_el.text = "Some Name"
    query.append(prompt_el)
    iq.xml.append(query)
    result = await alice.query(iq)
    assert result.xml.findtext(".//{jabber:iq:gateway}jid") == f"some-name@{GW}"


async def test_subscription_survives_gateway_restart(gateway_settings, users, prosody):
    from transport.testing.gateway import running_gateway

    settings = gateway_settings()
    async with running_gateway(settings):
        alice = await users()
        await register(alice, GW, username="alice")
        alice.send_presence(pto=BOB, ptype="subscribe")
        await alice.expect_presence(BOB, "subscribed")
        await alice.expect_presence(BOB, None)
    await alice.expect_presence(BOB, "unavailable")
    jid = alice.boundjid.bare
    await alice.logout()

    async with running_gateway(settings):
        again = await users(name=jid.split("@")[0])
        presence = await again.expect_presence(BOB)
        assert presence["type"] == "available", "a probe after restart must not unsubscribe"
        await asyncio.sleep(0.3)
        assert not [s for s in again.drain() if s.name == "presence"
                    and s["type"] == "unsubscribed"]
        item = again.client_roster[BOB]
        assert item["subscription"] in ("to", "both")


async def test_admin_commands_are_for_admins_only(gateway, users):
    admin = await users(name="admin")
    alice = await users()
    await register(alice, GW, username="alice")
    items = await admin.plugin["xep_0030"].get_items(
        GW, node="http://jabber.org/protocol/commands")
    nodes = {i[1] for i in items["disco_items"]["items"]}
    assert {"list-users", "stats", "unregister-user", "announce"} <= nodes
    listing = await admin.plugin["xep_0050"].send_command(GW, "list-users")
    assert alice.boundjid.bare in listing["command"]["notes"][0][1]
    stats = await admin.plugin["xep_0050"].send_command(GW, "stats")
    assert "registered users: 1" in stats["command"]["notes"][0][1]

    user_items = await alice.plugin["xep_0030"].get_items(
        GW, node="http://jabber.org/protocol/commands")
    assert "list-users" not in {i[1] for i in user_items["disco_items"]["items"]}
    with pytest.raises(IqError) as err:
        await alice.plugin["xep_0050"].send_command(GW, "list-users")
    assert err.value.condition == "forbidden"


async def test_admin_unregisters_a_user(gateway, users):
    admin = await users(name="admin")
    alice = await users()
    await register(alice, GW, username="alice")
    await alice.expect_presence(GW, "subscribed")  # the client subscribed back: mutual now
    first = await admin.plugin["xep_0050"].send_command(GW, "unregister-user")
    session = first["command"]["sessionid"]
    form = admin.plugin["xep_0004"].make_form(ftype="submit")
    form.add_field(var="jid", value=alice.boundjid.bare)
    iq = admin.make_iq_set(ito=GW)
    iq["command"]["node"] = "unregister-user"
    iq["command"]["sessionid"] = session
    iq["command"]["action"] = "complete"
    iq["command"].append(form)
    await admin.query(iq)
    await alice.expect_presence(GW, "unsubscribed")
    assert await gateway.store.users.get(GW, alice.boundjid.bare) is None


async def test_garbage_stanzas_do_not_stop_the_gateway(gateway, users):
    alice = await users()
    await register(alice, GW, username="alice")
    alice.send_raw(f"<message to='{BOB}' type='chat'><body>x</body><bogus xmlns='x:y'>"
                   f"<deep/></bogus></message>")
    alice.send_raw(f"<iq to='{GW}' type='set' id='bad1'><query xmlns='jabber:iq:register'>"
                   f"<x xmlns='jabber:x:data' type='submit'><field var='username'/></x>"
                   f"</query></iq>")
    alice.send_raw(f"<presence to='{BOB}' type='bogus'/>")
    await alice.expect_message(sender=BOB, body="x")
    send_chat(alice, BOB, "still alive")
    await alice.expect_message(sender=BOB, body="still alive")


async def test_a_required_field_left_empty_is_asked_for_again(gateway, users):
    admin = await users(name="admin")
    alice = await users()
    await register(alice, GW, username="alice")
    answer = await run_command(admin, GW, "announce", {"body": ""})
    assert answer["command"]["notes"] == [("error", "Please fill in: Announcement")]
    assert not [s for s in alice.drain() if s.name == "message" and s["type"] == "headline"]


async def test_a_message_to_an_address_that_fails_jid_rules_gets_an_error(gateway, users):
    alice = await users()
    await register(alice, GW, username="alice")
    # U+0221 is unassigned in Unicode 3.2: resourceprep refuses it, Prosody routes it anyway.
    alice.send_raw(f"<message to='{BOB}/\u0221' type='chat' id='badto'><body>x</body></message>")
    error = await alice.expect(lambda s: s.name == "message" and s["id"] == "badto")
    assert error["type"] == "error"
    assert error_condition(error) == "jid-malformed"
    send_chat(alice, BOB, "still fine")
    await alice.expect_message(sender=BOB, body="still fine")
