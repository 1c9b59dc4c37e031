"""[sms.limits] through a real Prosody and the Twilio stand-in: a stanza over a limit is
refused whole with policy-violation and nothing reaches Twilio; daily counts survive a
restart; stanzas sent at once cannot overshoot; the admin ``usage`` command shows them."""

import xml.etree.ElementTree as ET

from test_sms_outbound import is_receipt
from test_sms_support import CONTACT, CONTACT2, GW, contact_jid, registered, wait_until

from transport.testing.xmpp_steps import send_chat, submit_command
from transport.xmpp.stanzas import error_condition

pytest_plugins = ("test_sms_support",)

ADDRESS_NS = "http://jabber.org/protocol/address"
GB_MOBILE = "+447700900123"
CA_NUMBER = "+14165550123"


def numbers(count):
    return [f"+1212555{1000 + i:04d}" for i in range(count)]


def send_group(client, recipients, body, receipt=False):
    """An XEP-0033 group text to the gateway's domain; returns its id."""
    msg = client.make_message(mto=GW, mbody=body, mtype="chat")
    addresses = ET.SubElement(msg.xml, f"{{{ADDRESS_NS}}}addresses")
    for number in recipients:
        ET.SubElement(addresses, f"{{{ADDRESS_NS}}}address", {"type": "to", "uri": f"sms:{number}"})
    if receipt:
        msg["request_receipt"] = True
    msg.send()
    return str(msg["id"])


async def refused(client, msg_id, etype):
    """The error answering ``msg_id``: policy-violation of ``etype``; returns its text."""
    err = await client.expect(lambda s: s.name == "message" and s["type"] == "error"
                              and s["id"] == msg_id)
    assert error_condition(err) == "policy-violation"
    assert err["error"]["type"] == etype
    assert str(err["to"]) == str(client.boundjid)
    return str(err["error"]["text"])


async def test_the_issues_stanza_is_refused_whole_and_twilio_sees_nothing(
    sms_gateway, users, standin
):
    """32,000 non-GSM characters to 20 addresses became 400 Twilio messages in 2.4 s."""
    huge = "ж" * 32000
    async with sms_gateway():
        alice = await registered(users)
        msg_id = send_group(alice, numbers(20), huge, receipt=True)
        text = await refused(alice, msg_id, "modify")
        assert text.startswith("SMS limit: recipients_per_message = 10;")
        assert standin.create_attempts == []

        msg_id = send_group(alice, numbers(10), huge, receipt=True)
        text = await refused(alice, msg_id, "modify")
        assert text.startswith("SMS limit: max_segments = 10;") and "480 segments" in text
        assert standin.create_attempts == []

    async with sms_gateway(limits={"recipients_per_message": 20, "max_segments": 1000}):
        msg_id = send_group(alice, numbers(20), huge, receipt=True)
        text = await refused(alice, msg_id, "wait")
        assert text.startswith("SMS limit reached: messages_per_day = 200 (UTC day);")
        # (after a restart the stand-in's status callbacks still go to the first gateway's
        # port, so receipts are not awaited here)
        send_chat(alice, contact_jid(CONTACT), "still allowed")
        await wait_until(lambda: standin.sent_messages)
        assert [m.body for m in standin.sent_messages] == ["still allowed"]
        assert len(standin.create_attempts) == 1


async def test_a_daily_limit_is_a_wait_error_and_survives_a_restart(sms_gateway, users, standin):
    limits = {"messages_per_day": 3}
    async with sms_gateway(limits=limits):
        alice = await registered(users)
        for i in range(2):
            send_chat(alice, contact_jid(CONTACT), f"before {i}")
        await wait_until(lambda: len(standin.sent_messages) == 2)
    async with sms_gateway(limits=limits) as gw:
        send_chat(alice, contact_jid(CONTACT2), "after")  # same conversation: sent first
        msg_id = send_chat(alice, contact_jid(CONTACT2), "one too many")
        text = await refused(alice, msg_id, "wait")
        assert text.startswith("SMS limit reached: messages_per_day = 3 (UTC day); 3 used")
        await gw.backend.sender.flush()
        row = await gw.store.db.fetchone(
            "SELECT messages, segments FROM sms_usage WHERE user_jid = ?",
            (alice.boundjid.bare,))
        assert tuple(row) == (3, 3)
    assert [m.body for m in standin.sent_messages] == ["before 0", "before 1", "after"]


async def test_segments_per_day_counts_ucs2_segments(sms_gateway, users, standin):
    async with sms_gateway(limits={"segments_per_day": 5}):
        alice = await registered(users)
        msg_id = send_chat(alice, contact_jid(CONTACT), "ж" * 200, receipt=True)  # 3 segments
        await alice.expect(lambda s: is_receipt(s, msg_id))
        msg_id = send_chat(alice, contact_jid(CONTACT), "ж" * 100)  # 2 more would be 5: fine
        msg_id2 = send_chat(alice, contact_jid(CONTACT), "just one", receipt=True)
        text = await refused(alice, msg_id2, "wait")
        assert text.startswith("SMS limit reached: segments_per_day = 5 (UTC day); 5 used")
        assert [len(m.body) for m in standin.sent_messages] == [200, 100]


async def test_max_segments_and_countries_are_modify_errors(sms_gateway, users, standin):
    async with sms_gateway(limits={"max_segments": 2, "countries": ["US"]}):
        alice = await registered(users)
        msg_id = send_chat(alice, contact_jid(CONTACT), "a" * 400)  # 3 GSM-7 segments
        text = await refused(alice, msg_id, "modify")
        assert text.startswith("SMS limit: max_segments = 2; this text is 3 segments")
        for number, region in ((GB_MOBILE, "GB"), (CA_NUMBER, "CA")):
            msg_id = send_chat(alice, contact_jid(number), "hello abroad")
            text = await refused(alice, msg_id, "modify")
            assert text.startswith("SMS limit: countries = [US];") and f"is in {region}" in text
        msg_id = send_group(alice, [CONTACT, GB_MOBILE], "one of us is abroad")
        assert "is in GB" in await refused(alice, msg_id, "modify")
        msg_id = send_chat(alice, contact_jid(CONTACT), "a" * 306, receipt=True)  # 2 segments
        await alice.expect(lambda s: is_receipt(s, msg_id))
        assert [len(m.body) for m in standin.sent_messages] == [306]
        assert len(standin.create_attempts) == 1


async def test_recipients_per_message_caps_a_group_text(sms_gateway, users, standin):
    async with sms_gateway(limits={"recipients_per_message": 2}):
        alice = await registered(users)
        msg_id = send_group(alice, numbers(3), "three is a crowd", receipt=True)
        text = await refused(alice, msg_id, "modify")
        assert text.startswith("SMS limit: recipients_per_message = 2; this message has 3")
        assert standin.create_attempts == []
        msg_id = send_group(alice, numbers(2), "two is company", receipt=True)
        for _ in range(2):
            await alice.expect(lambda s: is_receipt(s, msg_id))
        assert sorted(m.to for m in standin.sent_messages) == numbers(2)


async def test_stanzas_sent_at_once_cannot_overshoot_the_day(sms_gateway, users, standin):
    """Eight conversations (eight lanes, sent side by side) race for the last 3 slots,
    before the day's count was ever read from the store."""
    async with sms_gateway(limits={"messages_per_day": 3}):
        alice = await registered(users)
        ids = {send_chat(alice, contact_jid(number), f"race to {number}", receipt=True)
               for number in numbers(8)}
        receipts, errors = set(), set()
        while len(receipts) + len(errors) < len(ids):
            s = await alice.expect(lambda s: s.name == "message" and (
                is_receipt(s) or s["type"] == "error"))
            if s["type"] == "error":
                assert error_condition(s) == "policy-violation"
                assert s["error"]["type"] == "wait"
                errors.add(s["id"])
            else:
                receipts.add(s.xml.find("{urn:xmpp:receipts}received").get("id"))
        assert receipts | errors == ids
        assert len(receipts) == 3
        await standin.drain()
        assert len(standin.create_attempts) == 3


async def test_admin_usage_command_shows_todays_counts(sms_gateway, users, standin):
    async with sms_gateway(limits={"messages_per_day": 50, "countries": ["US", "CA"]}):
        admin = await users(name="admin")
        alice = await registered(users)
        bob = await registered(users, "+12125550101")
        for client, body in ((alice, "ж" * 100), (alice, "hi"), (bob, "hello")):
            msg_id = send_chat(client, contact_jid(CONTACT), body, receipt=True)
            await client.expect(lambda s, m=msg_id: is_receipt(s, m))

        first = await admin.plugin["xep_0050"].send_command(GW, "usage")
        session = first["command"]["sessionid"]
        result = await submit(admin, "usage", session, {"jid": alice.boundjid.bare})
        note = result["command"]["notes"][0][1]
        assert f"{alice.boundjid.bare}: 2 of 50 messages, 3 of 1000 segments" in note
        assert "countries = CA, US" in note and bob.boundjid.bare not in note

        first = await admin.plugin["xep_0050"].send_command(GW, "usage")
        result = await submit(admin, "usage", first["command"]["sessionid"], {})
        lines = result["command"]["notes"][0][1].splitlines()
        assert lines[1:3] == [f"{alice.boundjid.bare}: 2 of 50 messages, 3 of 1000 segments",
                              f"{bob.boundjid.bare}: 1 of 50 messages, 1 of 1000 segments"]

        items = await alice.plugin["xep_0030"].get_items(
            GW, node="http://jabber.org/protocol/commands")
        assert "usage" not in {i[1] for i in items["disco_items"]["items"]}


async def submit(client, node, session, values):
    return await submit_command(client, GW, node, session, values)
