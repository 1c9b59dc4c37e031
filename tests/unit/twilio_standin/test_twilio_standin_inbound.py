"""Inbound SMS/MMS webhooks and the authenticated media resources."""

from __future__ import annotations

import re

import aiohttp
from twilio_standin_support import ACCOUNT, NUMBER, OTHER_TOKEN, TOKEN, USER, valid

from transport.testing.twilio import TwilioStandIn

REQUIRED = {
    "MessageSid",
    "SmsSid",
    "SmsMessageSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "NumSegments",
    "SmsStatus",
    "ApiVersion",
    "FromCity",
    "FromCountry",
}


async def test_inbound_sms_form_and_signature(standin, receiver):
    result = await standin.send_inbound(
        NUMBER, USER, "hello there", webhook_url=receiver.url("/sms")
    )
    assert result.status == 200 and result.body == "<Response></Response>"
    [hit] = receiver.hits
    form = hit.form
    assert set(form) >= REQUIRED
    assert "MessagingServiceSid" not in form and "MediaUrl0" not in form
    assert re.fullmatch(r"SM[0-9a-f]{32}", form["MessageSid"])
    assert form["SmsSid"] == form["SmsMessageSid"] == form["MessageSid"] == result.message_sid
    assert (form["AccountSid"], form["From"], form["To"]) == (ACCOUNT, USER, NUMBER)
    assert (form["Body"], form["NumMedia"], form["NumSegments"]) == ("hello there", "0", "1")
    assert (form["SmsStatus"], form["ApiVersion"], form["FromCountry"]) == (
        "received",
        "2010-04-01",
        "US",
    )
    assert valid(TOKEN, receiver.url("/sms"), hit)
    assert not valid(OTHER_TOKEN, receiver.url("/sms"), hit)
    assert hit.headers["I-Twilio-Idempotency-Token"]
    assert standin.message(result.message_sid).direction == "inbound"


async def test_sign_url_is_signed_not_the_posted_url(standin, receiver):
    public = "https://sms.example.org/twilio/sms"
    await standin.send_inbound(NUMBER, USER, "x", webhook_url=receiver.url("/sms"), sign_url=public)
    [hit] = receiver.hits
    assert valid(TOKEN, public, hit) and not valid(TOKEN, receiver.url("/sms"), hit)


async def test_bad_signature(standin, receiver):
    await standin.send_inbound(
        NUMBER, USER, "x", webhook_url=receiver.url("/sms"), bad_signature=True
    )
    assert not valid(TOKEN, receiver.url("/sms"), receiver.hits[0])


async def test_retry_with_same_message_sid_is_identical(standin, receiver):
    first = await standin.send_inbound(NUMBER, USER, "once", webhook_url=receiver.url("/sms"))
    await standin.send_inbound(
        NUMBER, USER, "once", webhook_url=receiver.url("/sms"), message_sid=first.message_sid
    )
    a, b = receiver.hits
    assert a.form == b.form
    assert a.headers["I-Twilio-Idempotency-Token"] == b.headers["I-Twilio-Idempotency-Token"]
    assert a.headers["X-Twilio-Signature"] == b.headers["X-Twilio-Signature"]


async def test_default_webhook_is_the_numbers_sms_url(standin, receiver):
    standin.set_sms_url(NUMBER, receiver.url("/configured"))
    result = await standin.send_inbound(NUMBER, USER, "x")
    assert result.status == 200 and receiver.hits[0].path == "/configured"


async def test_unreachable_webhook_reports_error(standin):
    result = await standin.send_inbound(NUMBER, USER, "x", webhook_url="http://127.0.0.1:9/")
    assert result.status is None and result.error
    assert [a.attempt for a in standin.webhook_attempts] == [1, 2]


async def test_inbound_mms_media_requires_auth(standin, receiver, client):
    jpeg, png = b"\xff\xd8\xff\xe0fake-jpeg", b"\x89PNG\r\n\x1a\nfake"
    result = await standin.send_inbound(
        NUMBER,
        USER,
        "pics",
        media=[(jpeg, "image/jpeg"), (png, "image/png")],
        webhook_url=receiver.url("/sms"),
    )
    form = receiver.hits[0].form
    assert result.message_sid.startswith("MM") and form["NumMedia"] == "2"
    assert form["MediaContentType0"] == "image/jpeg" and form["MediaContentType1"] == "image/png"
    url0 = form["MediaUrl0"]
    assert url0.startswith(f"{standin.url}/2010-04-01/Accounts/{ACCOUNT}/Messages/")
    assert re.search(r"/Media/ME[0-9a-f]{32}$", url0)
    assert valid(TOKEN, receiver.url("/sms"), receiver.hits[0])
    async with aiohttp.ClientSession() as session:
        async with session.get(url0) as resp:
            assert resp.status == 401
            assert (await resp.json())["code"] == 20003
        auth = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, TOKEN)}
        async with session.get(url0, headers=auth) as resp:
            assert resp.status == 200 and resp.content_type == "image/jpeg"
            assert await resp.read() == jpeg
        async with session.get(form["MediaUrl1"] + ".json", headers=auth) as resp:
            meta = await resp.json()
    assert meta["content_type"] == "image/png" and meta["parent_sid"] == result.message_sid
    media = await client.messages(result.message_sid).media.list_async()
    assert [m.content_type for m in media] == ["image/jpeg", "image/png"]
    fetched = await client.messages(result.message_sid).fetch_async()
    assert (fetched.direction, fetched.num_media, fetched.status) == ("inbound", "2", "received")


async def test_media_redirect_mode():
    account, token = "AC" + "e" * 32, "tok"
    async with TwilioStandIn({account: token}, {account: [NUMBER]}, media_redirect=True) as standin:
        captured = []
        from aiohttp import web

        async def sink(request: web.Request) -> web.Response:
            captured.append(dict(await request.post()))
            return web.Response()

        app = web.Application()
        app.router.add_post("/", sink)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        await standin.send_inbound(
            NUMBER, USER, media=[(b"GIF89a", "image/gif")], webhook_url=f"http://127.0.0.1:{port}/"
        )
        await runner.cleanup()
        url = captured[0]["MediaUrl0"]
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": aiohttp.encode_basic_auth(account, token)}
            async with session.get(url, headers=auth, allow_redirects=False) as resp:
                assert resp.status == 307 and "/_cdn/" in resp.headers["Location"]
            async with session.get(url, headers=auth) as resp:
                assert resp.status == 200 and await resp.read() == b"GIF89a"
