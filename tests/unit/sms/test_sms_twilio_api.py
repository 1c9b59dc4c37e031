"""The Twilio client wrapper over real sockets: what may be retried and what may not."""

import asyncio
import json

import pytest

from transport.backends.sms.media import MediaProblem, _checked_type
from transport.backends.sms.settings import TwilioSettings
from transport.backends.sms.twilio_api import NotSent, TwilioApi, TwilioError, Uncertain
from transport.testing.servers.ports import free_port

SID = "AC" + "0123456789abcdef" * 2


async def serve(handler):
    """A raw TCP server on a free port; returns (server, base_url)."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length")), 0)
    await reader.readexactly(length)
    return head


async def api_for(base_url):
    api = TwilioApi(TwilioSettings(SID, "token", api_base_url=base_url))
    await api.open()
    return api


async def send(api):
    return await api.create_message(to="+12125550142", from_="+12125550100", body="x",
                                    media_urls=[], status_callback="https://gw.example/s")


async def test_connection_refused_means_nothing_was_sent():
    api = await api_for(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(NotSent):
            await send(api)
    finally:
        await api.close()


async def test_a_dropped_connection_after_the_request_is_uncertain():
    seen = []

    async def drop(reader, writer):
        seen.append(await read_request(reader))
        writer.close()

    server, url = await serve(drop)
    api = await api_for(url)
    try:
        with pytest.raises(Uncertain):
            await send(api)
        assert len(seen) == 1 and b"/Accounts/" + SID.encode() in seen[0], "the request went out"
    finally:
        await api.close()
        server.close()


@pytest.mark.parametrize(("status", "doc", "code", "text"), [
    (500, {"code": 20500, "message": "Internal Server Error"}, 20500, "Internal Server Error"),
    (400, {"code": 21610, "message": "unsubscribed", "status": 400}, 21610, "unsubscribed"),
    (502, None, 502, "Unable to create record"),
])
async def test_twilio_error_bodies(status, doc, code, text):
    body = json.dumps(doc).encode() if doc else b"<html>bad gateway</html>"

    async def answer(reader, writer):
        await read_request(reader)
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()

    server, url = await serve(answer)
    api = await api_for(url)
    try:
        with pytest.raises(TwilioError) as err:
            await send(api)
        assert (err.value.status, err.value.code, err.value.message) == (status, code, text)
    finally:
        await api.close()
        server.close()


async def test_every_twilio_domain_goes_to_the_configured_base():
    api = await api_for("http://127.0.0.1:9")
    try:
        assert api.route("https://api.twilio.com/2010-04-01/A.json?x=1") == \
            "http://127.0.0.1:9/2010-04-01/A.json?x=1"
        assert api.route("https://messaging.twilio.com/v1/Services") == \
            "http://127.0.0.1:9/v1/Services"
        assert api.route("https://example.org/a.jpg") == "https://example.org/a.jpg"
        assert api.is_api_url("https://api.twilio.com/2010-04-01/Accounts/x/Media/ME1")
        assert not api.is_api_url("https://evil.example/steal")
    finally:
        await api.close()
    real = await api_for("https://api.twilio.com")
    try:
        assert real.route("https://api.twilio.com/x") == "https://api.twilio.com/x"
        assert real.is_api_url("https://api.twilio.com:443/x")
        assert not real.is_api_url("http://api.twilio.com/x")
    finally:
        await real.close()


def test_media_types_must_agree_with_the_declared_one():
    assert _checked_type("image/jpeg", "image/jpeg") == "image/jpeg"
    assert _checked_type("image/png", "image/jpeg") == "image/png"
    assert _checked_type("application/octet-stream", "image/gif") == "image/gif"
    assert _checked_type("", "") == "application/octet-stream"
    with pytest.raises(MediaProblem):
        _checked_type("text/html", "image/jpeg")
