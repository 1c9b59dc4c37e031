"""XMPP -> SMS/MMS through the stand-in: receipts, errors, retries, splitting, pacing."""

import asyncio
import itertools
import xml.etree.ElementTree as ET

from test_sms_support import (
    CONTACT,
    CONTACT2,
    GW,
    POOL,
    PUBLIC,
    contact_jid,
    registered,
)

from transport.testing.xmpp_steps import send_chat
from transport.xmpp.namespaces import LEGACY_ERROR as LEGACY_ERROR_NS
from transport.xmpp.stanzas import error_condition

RECEIPTS = "urn:xmpp:receipts"

pytest_plugins = ("test_sms_support",)


def is_receipt(stanza, msg_id=None):
    received = stanza.xml.find(f"{{{RECEIPTS}}}received")
    return received is not None and msg_id in (None, received.get("id"))


async def unfinished_with_error(gw):
    for _ in range(500):
        rows = await gw.store.outbox.unfinished(GW)
        if rows and rows[0].error:
            return rows[0]
        await asyncio.sleep(0.01)
    raise AssertionError("the send was never deferred")


async def test_text_goes_out_from_the_users_number_and_the_receipt_comes_back(
    sms_gateway, users, standin
):
    async with sms_gateway():
        alice = await registered(users)
        msg_id = send_chat(alice, contact_jid(CONTACT), "hello from XMPP", receipt=True)
        receipt = await alice.expect(lambda s: is_receipt(s, msg_id))
        assert receipt["from"].bare == contact_jid(CONTACT)
        [sent] = standin.sent_messages
        assert (sent.to, sent.from_, sent.body) == (CONTACT, POOL[0], "hello from XMPP")
        assert sent.status_callback == f"{PUBLIC}/twilio/status"
        assert standin.message(sent.sid).status == "delivered"


async def test_a_resent_stanza_is_sent_once(sms_gateway, users, standin):
    async with sms_gateway():
        alice = await registered(users)
        for _ in range(3):
            send_chat(alice, contact_jid(CONTACT), "only once", msg_id="same-id", receipt=True)
        await alice.expect(lambda s: is_receipt(s, "same-id"))
        send_chat(alice, contact_jid(CONTACT), "marker", msg_id="marker", receipt=True)
        await alice.expect(lambda s: is_receipt(s, "marker"))
        assert [m.body for m in standin.sent_messages] == ["only once", "marker"]


async def test_429_twice_then_success_is_sent_exactly_once(sms_gateway, users, standin):
    async with sms_gateway():
        alice = await registered(users)
        standin.inject_error(429, 20429, "Too Many Requests", times=2)
        msg_id = send_chat(alice, contact_jid(CONTACT), "patience", receipt=True)
        await alice.expect(lambda s: is_receipt(s, msg_id), timeout=15)
        assert [a.error_code for a in standin.create_attempts] == [20429, 20429, None]
        assert [m.body for m in standin.sent_messages] == ["patience"]


async def test_connection_refused_before_sending_is_retried(sms_gateway, users, standin):
    async with sms_gateway() as gw:
        alice = await registered(users)
        await standin.pause_connections()
        msg_id = send_chat(alice, contact_jid(CONTACT), "after the outage", receipt=True)
        row = await unfinished_with_error(gw)
        assert "cannot reach Twilio" in row.error
        await standin.resume_connections()
        await alice.expect(lambda s: is_receipt(s, msg_id), timeout=15)
        assert [m.body for m in standin.sent_messages] == ["after the outage"]


async def test_twilio_errors_come_back_with_the_original_id_and_code(sms_gateway, users, standin):
    async with sms_gateway():
        alice = await registered(users)
        standin.opt_out(CONTACT)
        cases = [
            (None, "not-allowed", "21610"),
            ((400, 21211, "The 'To' number +12125550143 is not a valid phone number."),
             "item-not-found", "21211"),
            ((400, 21614, "'To' number is not a valid mobile number"), "not-acceptable",
             "21614"),
            ((400, 21408, "Permission to send an SMS has not been enabled"), "not-allowed",
             "21408"),
        ]
        for injected, condition, code in cases:
            to = CONTACT if injected is None else CONTACT2
            if injected:
                standin.inject_error(*injected)
            msg_id = send_chat(alice, contact_jid(to), f"case {code}")
            err = await alice.expect_message(sender=contact_jid(to), mtype="error")
            assert err["id"] == msg_id
            assert error_condition(err) == condition, code
            assert f"(error {code})" in err["error"]["text"]
            legacy = err.xml.find(f".//{{{LEGACY_ERROR_NS}}}legacy-error")
            assert legacy is not None and legacy.get("code") == code
            assert str(err["to"]) == str(alice.boundjid)
        opted_out = [a for a in standin.create_attempts if a.error_code == 21610]
        assert len(opted_out) == 1
        assert standin.sent_messages == []


async def test_a_500_is_not_retried_and_says_it_may_have_been_sent(sms_gateway, users, standin):
    async with sms_gateway():
        alice = await registered(users)
        standin.inject_error(500, 20500, "Internal Server Error")
        msg_id = send_chat(alice, contact_jid(CONTACT), "maybe")
        err = await alice.expect_message(sender=contact_jid(CONTACT), mtype="error")
        assert err["id"] == msg_id and error_condition(err) == "internal-server-error"
        assert "may or may not have been sent" in err["error"]["text"]
        await asyncio.sleep(0.3)
        assert len(standin.create_attempts) == 1


async def test_undelivered_and_failed_reports_become_errors(sms_gateway, users, standin):
    async with sms_gateway():
        alice = await registered(users)
        standin.set_outcome(CONTACT, "undelivered", 30007)
        standin.set_outcome(CONTACT2, "failed")
        first = send_chat(alice, contact_jid(CONTACT), "spammy", receipt=True)
        err = await alice.expect_message(sender=contact_jid(CONTACT), mtype="error")
        assert err["id"] == first and error_condition(err) == "policy-violation"
        assert "(error 30007)" in err["error"]["text"]
        second = send_chat(alice, contact_jid(CONTACT2), "lost")
        err = await alice.expect_message(sender=contact_jid(CONTACT2), mtype="error")
        assert err["id"] == second and error_condition(err) == "undefined-condition"
        assert "30008" in err["error"]["text"]
        await standin.drain()
        assert not [s for s in alice.drain() if is_receipt(s)], "no receipt for a failure"


async def test_long_body_is_split_in_order_with_one_receipt(sms_gateway, users, standin):
    # 30 segments: over the default [sms.limits] max_segments of 10
    async with sms_gateway(limits={"max_segments": 30}):
        alice = await registered(users)
        body = " ".join(f"sentence {i} of a long story." for i in range(150))
        assert len(body) > 3200
        msg_id = send_chat(alice, contact_jid(CONTACT), body, receipt=True)
        await alice.expect(lambda s: is_receipt(s, msg_id))
        parts = [m.body for m in standin.sent_messages]
        assert len(parts) == 3 and "".join(parts) == body
        assert all(len(p) <= 1600 for p in parts)
        await standin.drain()
        assert not [s for s in alice.drain() if is_receipt(s)], "one receipt per message"


async def test_pacing_queues_a_burst(sms_gateway, users, standin):
    async with sms_gateway(twilio={"messages_per_second": 5}):
        alice = await registered(users)
        ids = [send_chat(alice, contact_jid(CONTACT if i % 2 else CONTACT2), f"burst {i}",
                         receipt=True) for i in range(6)]
        for msg_id in ids:
            await alice.expect(lambda s, m=msg_id: is_receipt(s, m))
        sent = standin.sent_messages
        assert sorted(m.body for m in sent) == sorted(f"burst {i}" for i in range(6))
        times = sorted(standin.message(m.sid).date_created.timestamp() for m in sent)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) > 0.15, gaps
        for number in (CONTACT, CONTACT2):
            bodies = [m.body for m in sent if m.to == number]
            assert bodies == sorted(bodies), "each conversation keeps its order"
        assert not standin.create_attempts[0].error_code


async def test_burst_right_after_registering_keeps_its_order(sms_gateway, users, standin):
    """The first message waits for a registration lookup, the next ones are answered from
    the cache: they must still be committed, and sent, in the order they were written."""
    async with sms_gateway():
        alice = await registered(users)
        ids = [send_chat(alice, contact_jid(CONTACT), f"in order {i:02d}", receipt=True)
               for i in range(40)]
        for msg_id in ids:
            await alice.expect(lambda s, m=msg_id: is_receipt(s, m))
        bodies = [m.body for m in standin.sent_messages if m.to == CONTACT]
        assert bodies == [f"in order {i:02d}" for i in range(40)]


async def test_attachment_goes_as_mms_with_its_caption(sms_gateway, users, standin):
    url = "https://upload.example.org/abc/cat.jpg"
    async with sms_gateway():
        alice = await registered(users)
        photo = alice.make_message(mto=contact_jid(CONTACT), mbody=url, mtype="chat")
        photo["oob"]["url"] = url
        photo["request_receipt"] = True
        photo.send()
        captioned = alice.make_message(mto=contact_jid(CONTACT), mbody=f"my cat {url}",
                                       mtype="chat")
        captioned["oob"]["url"] = url
        captioned.send()
        await alice.expect(lambda s: is_receipt(s, photo["id"]))
        await standin.drain()
        first, second = standin.sent_messages
        assert (first.body, first.media_urls) == (None, [url])
        assert first.sid.startswith("MM")
        assert (second.body, second.media_urls) == ("my cat", [url])


async def test_group_text_goes_to_each_recipient(sms_gateway, users, standin):
    async with sms_gateway():
        alice = await registered(users)
        msg = alice.make_message(mto=GW, mbody="hello both", mtype="chat")
        addresses = ET.SubElement(msg.xml, "{http://jabber.org/protocol/address}addresses")
        for number in (CONTACT, CONTACT2):
            ET.SubElement(addresses, "{http://jabber.org/protocol/address}address",
                          {"type": "to", "uri": f"sms:{number}"})
        ET.SubElement(addresses, "{http://jabber.org/protocol/address}address",
                      {"type": "to", "uri": "sms:+12125550188", "delivered": "true"})
        msg["request_receipt"] = True
        msg.send()
        senders = set()
        for _ in range(2):
            receipt = await alice.expect(lambda s: is_receipt(s, msg["id"]))
            senders.add(receipt["from"].bare)
        assert senders == {contact_jid(CONTACT), contact_jid(CONTACT2)}
        assert sorted((m.to, m.from_, m.body) for m in standin.sent_messages) == [
            (CONTACT, POOL[0], "hello both"), (CONTACT2, POOL[0], "hello both")]


async def test_alphanumeric_senders_cannot_be_texted(sms_gateway, users, standin):
    async with sms_gateway():
        alice = await registered(users)
        msg_id = send_chat(alice, f"mybank;alphanumeric@{GW}", "hello?")
        err = await alice.expect_message(mtype="error")
        assert err["id"] == msg_id and error_condition(err) == "not-allowed"
        assert standin.create_attempts == []
