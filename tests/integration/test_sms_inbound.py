"""SMS/MMS -> XMPP through signed webhooks: routing, senders, unrouted texts, media."""

import asyncio
import logging
import os

import pytest
from test_sms_support import (
    CONTACT,
    GW,
    POOL,
    PUBLIC,
    contact_jid,
    http,
    registered,
    wait_until,
)

from transport.testing.xmpp_steps import send_chat
from transport.xmpp.stanzas import error_condition

pytest_plugins = ("test_sms_support",)

JPEG = b"\xff\xd8\xff\xe0" + os.urandom(3000) + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(500)


async def test_text_reaches_the_numbers_owner_from_the_senders_jid(sms_gateway, users):
    async with sms_gateway() as gw:
        alice = await registered(users, POOL[0])
        bob = await registered(users, POOL[1])
        result = await gw.text(POOL[0], CONTACT, "hi alice ✓")
        await gw.text(POOL[1], CONTACT, "hi bob")
        msg = await alice.expect_message(sender=contact_jid(CONTACT))
        assert (msg["body"], msg["type"]) == ("hi alice ✓", "chat")
        assert msg["origin_id"]["id"] == msg["id"] and msg["delay"]["stamp"] is not None
        assert (await bob.expect_message(sender=contact_jid(CONTACT)))["body"] == "hi bob"
        assert result.body == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
        [attempt] = [a for a in gw.standin.webhook_attempts if a.kind == "inbound"][:1]
        assert attempt.signed_url == f"{PUBLIC}/twilio/sms" != attempt.url


async def test_short_codes_and_alphanumeric_senders_get_stable_jids(sms_gateway, users):
    async with sms_gateway() as gw:
        alice = await registered(users)
        await gw.text(POOL[0], "12345", "Your code is 1234")
        await gw.text(POOL[0], "MyBank", "Balance low")
        short = await alice.expect_message(body="Your code is 1234")
        assert short["from"].bare == f"12345;phone-context=+1@{GW}"
        alpha = await alice.expect_message(body="Balance low")
        assert alpha["from"].bare == f"mybank;alphanumeric@{GW}"
        msg_id = send_chat(alice, f"12345;phone-context=+1@{GW}", "STOP")
        err = await alice.expect_message(sender=f"12345;phone-context=+1@{GW}", mtype="error")
        assert err["id"] == msg_id and error_condition(err) == "item-not-found"
        assert [a.form["To"] for a in gw.standin.create_attempts] == ["12345"]


async def test_opt_out_keywords_arrive_as_ordinary_text(sms_gateway, users):
    async with sms_gateway() as gw:
        alice = await registered(users)
        for word in ("STOP", "START", "HELP"):
            await gw.text(POOL[0], CONTACT, word)
            assert (await alice.expect_message(sender=contact_jid(CONTACT)))["body"] == word


async def test_text_to_an_unregistered_number_is_kept_for_the_admin(sms_gateway, users):
    async with sms_gateway() as gw:
        admin = await users(name="admin")
        alice = await registered(users, POOL[0])
        first = await gw.text(POOL[2], CONTACT, "anyone there?")
        await gw.text(POOL[2], CONTACT, "anyone there?", message_sid=first.message_sid)
        await gw.text(POOL[0], CONTACT, "marker")
        await alice.expect_message(body="marker")
        assert not [s for s in alice.drain() if s.name == "message"]
        listing = await admin.plugin["xep_0050"].send_command(GW, "sms-unrouted")
        note = listing["command"]["notes"][0][1]
        assert note.startswith("1 text(s) to unregistered numbers")
        assert f"{CONTACT} -> {POOL[2]}: anyone there?" in note
        stats = await admin.plugin["xep_0050"].send_command(GW, "stats")
        assert "sms texts held for unregistered numbers: 1" in stats["command"]["notes"][0][1]
        await admin.plugin["xep_0050"].send_command(GW, "sms-unrouted-purge")
        listing = await admin.plugin["xep_0050"].send_command(GW, "sms-unrouted")
        assert listing["command"]["notes"][0][1] == "No texts to unregistered numbers."
        items = await alice.plugin["xep_0030"].get_items(
            GW, node="http://jabber.org/protocol/commands")
        assert "sms-unrouted" not in {i[1] for i in items["disco_items"]["items"]}


@pytest.mark.parametrize("standin", [{}, {"media_redirect": True}], indirect=True,
                         ids=["direct", "redirect"])
async def test_mms_text_then_each_media_hosted_by_the_gateway(sms_gateway, users, standin):
    async with sms_gateway() as gw:
        alice = await registered(users)
        await gw.text(POOL[0], CONTACT, "look", media=[(JPEG, "image/jpeg"),
                                                       (PNG, "image/png"),
                                                       (b"<script>x</script>", "text/html")])
        text = await alice.expect_message(sender=contact_jid(CONTACT))
        assert text["body"] == "look"
        urls = []
        for _ in range(3):
            media = await alice.expect_message(sender=contact_jid(CONTACT))
            assert media["body"] == media["oob"]["url"]
            assert media["body"].startswith(f"{PUBLIC}/media/")
            urls.append(media["body"])
        assert urls[0].endswith(".jpg") and urls[1].endswith(".png")
        status, body, headers = await http("GET", gw.local(urls[0]))
        assert (status, body, headers["Content-Type"]) == (200, JPEG, "image/jpeg")
        assert headers["X-Content-Type-Options"] == "nosniff"
        status, body, headers = await http("HEAD", gw.local(urls[1]))
        assert (status, body, int(headers["Content-Length"])) == (200, b"", len(PNG))
        status, body, headers = await http("GET", gw.local(urls[2]))
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["Content-Disposition"].startswith("attachment")
        assert "twilio" not in "".join(urls) and gw.standin.url not in "".join(urls)


async def test_a_retried_mms_webhook_is_delivered_once(sms_gateway, users):
    async with sms_gateway() as gw:
        alice = await registered(users)
        first = await gw.text(POOL[0], CONTACT, "", media=[(JPEG, "image/jpeg")])
        await gw.text(POOL[0], CONTACT, "", media=[(JPEG, "image/jpeg")],
                      message_sid=first.message_sid)
        media = await alice.expect_message(sender=contact_jid(CONTACT))
        assert media["oob"]["url"] == media["body"]
        await gw.text(POOL[0], CONTACT, "marker")
        assert (await alice.expect_message(sender=contact_jid(CONTACT)))["body"] == "marker"
        directory = gw.backend.media.directory
        assert len(os.listdir(directory)) == 1


async def test_oversized_media_becomes_a_notice(sms_gateway, users):
    async with sms_gateway(media={"max_bytes": 2048}) as gw:
        alice = await registered(users)
        await gw.text(POOL[0], CONTACT, "big one", media=[(JPEG, "image/jpeg")])
        assert (await alice.expect_message(sender=contact_jid(CONTACT)))["body"] == "big one"
        notice = await alice.expect_message(sender=contact_jid(CONTACT))
        assert notice["body"] == "[image/jpeg could not be delivered: it is larger than " \
                                 "2048 bytes]"
        assert not notice.xml.find("{jabber:x:oob}x")


async def test_media_expires_and_is_cleaned_up(sms_gateway, users):
    async with sms_gateway(media={"expire_after": 1}) as gw:
        alice = await registered(users)
        await gw.text(POOL[0], CONTACT, "", media=[(PNG, "image/png")])
        url = (await alice.expect_message(sender=contact_jid(CONTACT)))["body"]
        assert (await http("GET", gw.local(url)))[0] == 200
        name = url.rsplit("/", 1)[1]
        path = gw.backend.media.directory / name
        await wait_until(lambda: not path.exists(), timeout=5)
        assert (await http("GET", gw.local(url)))[0] == 404
        assert await gw.backend.repo.count_media() == 0
        await asyncio.sleep(0)


async def test_logs_say_who_and_what_never_bodies_or_secrets(sms_gateway, users, caplog):
    caplog.set_level(logging.INFO)
    async with sms_gateway() as gw:
        alice = await registered(users)
        await gw.text(POOL[0], CONTACT, "inbound-secret-words")
        await gw.text(POOL[2], CONTACT, "unrouted-secret-words")
        await alice.expect_message(body="inbound-secret-words")
        msg_id = send_chat(alice, contact_jid(CONTACT), "outbound-secret-words", receipt=True)
        await alice.expect(lambda s: s["receipt"] == msg_id)
    text = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert CONTACT in text and POOL[0] in text, "who"
    for secret in ("secret-words", gw.backend.settings.twilio.auth_token):
        assert secret not in text
