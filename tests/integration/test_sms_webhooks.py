"""Webhook hardening: forged, replayed and malformed requests are refused; nothing leaks."""

import asyncio
from urllib.parse import urlencode, urlsplit

import pytest
from test_sms_support import (
    ACCOUNT,
    CONTACT,
    FORM,
    POOL,
    contact_jid,
    http,
    inbound_params,
    new_sid,
    registered,
    signed_post,
)

from transport.testing.twilio import compute_signature
from transport.testing.xmpp_steps import send_chat

pytest_plugins = ("test_sms_support",)


async def raw_http(url: str, request: bytes) -> int:
    """Send bytes exactly as given (no client-side normalisation); the status code."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    return int(status_line.split()[1])


async def post(gw, params, path="/twilio/sms", headers=None, data=None):
    headers = headers if headers is not None else signed_post(params, path)[0]
    status, body, _ = await http("POST", gw.backend.webhook.local_url + path,
                                 data=data if data is not None else urlencode(params),
                                 headers=headers)
    return status, body


async def nothing_delivered(client, gw):
    """Prove the refusals delivered nothing: a good text arrives and nothing before it."""
    await gw.text(POOL[0], CONTACT, "the real one")
    msg = await client.expect_message(sender=contact_jid(CONTACT))
    assert msg["body"] == "the real one"
    assert not [s for s in client.drain() if s.name == "message"], "no text, receipt or error"


async def test_forged_and_unsigned_webhooks_are_refused(sms_gateway, users, standin):
    async with sms_gateway() as gw:
        alice = await registered(users)
        forged = await standin.send_inbound(POOL[0], CONTACT, "forged", bad_signature=True)
        assert forged.status == 403
        params = inbound_params(new_sid())
        assert (await post(gw, params, headers={"Content-Type": FORM}))[0] == 403
        internal_url = gw.backend.webhook.local_url + "/twilio/sms"
        signature = compute_signature("5e1f0c0ffee0ddba11ab5e11ca7500d5", internal_url, params)
        status, _ = await post(gw, params, headers={"Content-Type": FORM,
                                                    "X-Twilio-Signature": signature})
        assert status == 403, "only the public URL is trusted, never the one we were reached on"
        other = [(k, "AC" + "f" * 32 if k == "AccountSid" else v) for k, v in params]
        assert (await post(gw, other))[0] == 403
        tampered_headers, _ = signed_post(params)
        tampered = [(k, "changed" if k == "Body" else v) for k, v in params]
        assert (await post(gw, tampered, headers=tampered_headers))[0] == 403
        await nothing_delivered(alice, gw)
        assert gw.backend.webhook.refused >= 5


async def test_replayed_webhooks_are_delivered_once(sms_gateway, users, standin):
    async with sms_gateway() as gw:
        alice = await registered(users)
        params = inbound_params(new_sid(), body="only once")
        for _ in range(3):
            status, body = await post(gw, params)
            assert status == 200 and body.endswith(b"<Response/>")
        assert (await alice.expect_message(sender=contact_jid(CONTACT)))["body"] == "only once"
        msg_id = send_chat(alice, contact_jid(CONTACT), "ack me", receipt=True)
        await alice.expect(lambda s: s["receipt"] == msg_id)
        [callback] = standin.status_callbacks()[-1:]
        replay = list(callback.params.items())
        for _ in range(2):
            assert (await post(gw, replay, path="/twilio/status"))[0] == 204
        await nothing_delivered(alice, gw)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("no MessageSid", [("AccountSid", ACCOUNT), ("From", CONTACT), ("To", POOL[0]),
                           ("Body", "x")]),
        ("bad MessageSid", inbound_params("SM123")),
        ("no From", [p for p in inbound_params(new_sid()) if p[0] != "From"]),
        ("no To", [p for p in inbound_params(new_sid()) if p[0] != "To"]),
        ("media missing", [*inbound_params(new_sid())[:-1], ("NumMedia", "2"),
                           ("MediaUrl0", "https://api.twilio.com/x")]),
        ("NumMedia not a number", [*inbound_params(new_sid())[:-1], ("NumMedia", "lots")]),
        ("NumMedia too big", [*inbound_params(new_sid())[:-1], ("NumMedia", "11")]),
    ],
)
async def test_signed_but_incomplete_webhooks_are_400(sms_gateway, users, name, params):
    async with sms_gateway() as gw:
        alice = await registered(users)
        assert (await post(gw, params))[0] == 400, name
        await nothing_delivered(alice, gw)


async def test_wrong_type_method_size_and_encoding(sms_gateway, users):
    async with sms_gateway() as gw:
        alice = await registered(users)
        base = gw.backend.webhook.local_url
        params = inbound_params(new_sid())
        headers, _ = signed_post(params)
        for content_type in ("application/json", "text/plain", "multipart/form-data; b=x",
                             f"{FORM}; charset=latin-1"):
            status, _ = await post(gw, params, headers={**headers, "Content-Type": content_type})
            assert status == 415, content_type
        for method in ("GET", "PUT", "DELETE", "PATCH"):
            for path in ("/twilio/sms", "/twilio/status"):
                assert (await http(method, base + path))[0] == 405, (method, path)
        huge = urlencode(inbound_params(new_sid(), body="x" * 1_100_000))
        assert (await post(gw, [], headers=headers, data=huge))[0] == 413

        async def chunks():
            for _ in range(20):
                yield b"Body=" + b"y" * 60_000 + b"&"

        assert (await post(gw, [], headers=headers, data=chunks()))[0] == 413
        host = f"Host: {urlsplit(base).netloc}\r\n"
        for body in (b"Body=\xff\xfe&MessageSid=x", b"Body=%FF%FE", b"Body=%ED%A0%80"):
            request = (f"POST /twilio/sms HTTP/1.1\r\n{host}Content-Type: {FORM}\r\n"
                       f"X-Twilio-Signature: {headers['X-Twilio-Signature']}\r\n"
                       f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
            assert await raw_http(base, request + body) == 400, body
        await nothing_delivered(alice, gw)


async def test_status_callbacks_for_unknown_or_incomplete_messages(sms_gateway, users):
    async with sms_gateway() as gw:
        alice = await registered(users)
        unknown = [("AccountSid", ACCOUNT), ("MessageSid", new_sid()),
                   ("MessageStatus", "delivered"), ("From", POOL[0]), ("To", CONTACT)]
        assert (await post(gw, unknown, path="/twilio/status"))[0] == 404
        failed = [*unknown[:2], ("MessageStatus", "failed"), ("ErrorCode", "30008")]
        assert (await post(gw, failed, path="/twilio/status"))[0] == 404
        incomplete = [("AccountSid", ACCOUNT), ("MessageSid", new_sid())]
        assert (await post(gw, incomplete, path="/twilio/status"))[0] == 400
        assert (await post(gw, unknown, path="/twilio/status",
                           headers={"Content-Type": FORM}))[0] == 403
        await nothing_delivered(alice, gw)


async def test_path_tricks_under_media_find_nothing(sms_gateway, users, tmp_path):
    async with sms_gateway() as gw:
        alice = await registered(users)
        await gw.text(POOL[0], CONTACT, "", media=[(b"\x89PNG\r\n\x1a\nreal", "image/png")])
        url = (await alice.expect_message(sender=contact_jid(CONTACT)))["body"]
        name = url.rsplit("/", 1)[1]
        (gw.backend.media.directory / "secret.txt").write_text("not for you")
        base = gw.backend.webhook.local_url
        tricks = [
            "/media/", "/media/..", "/media/../gw.sqlite3", "/media/%2e%2e/gw.sqlite3",
            "/media/..%2fgw.sqlite3", "/media/..%252fgw.sqlite3", "/media/secret.txt",
            f"/media/{name}/", f"/media/{name}/..", f"/media/{name}%00.png",
            f"/media/{name[:-4]}", f"/media/{name.upper()}", f"/media/.{name}.tmp",
            "/media//etc/passwd", "/media/%2fetc%2fpasswd", "/media/" + "A" * 32 + ".png",
            "/media/..\\..\\gw.sqlite3", "/etc/passwd", "/gw.sqlite3",
        ]
        host = f"Host: {urlsplit(base).netloc}\r\n"
        for path in tricks:
            request = f"GET {path} HTTP/1.1\r\n{host}Connection: close\r\n\r\n".encode()
            status = await raw_http(base, request)
            assert 400 <= status < 500, (path, status)
        assert (await http("GET", gw.local(url)))[0] == 200, "the real name still works"
        await nothing_delivered(alice, gw)


async def test_control_characters_cannot_break_the_xmpp_stream(sms_gateway, users):
    async with sms_gateway() as gw:
        alice = await registered(users)
        params = inbound_params(new_sid(), body="nul\x00 bell\x07 end")
        assert (await post(gw, params))[0] == 200
        msg = await alice.expect_message(sender=contact_jid(CONTACT))
        assert msg["body"] == "nul\ufffd bell\ufffd end"
        await nothing_delivered(alice, gw)
