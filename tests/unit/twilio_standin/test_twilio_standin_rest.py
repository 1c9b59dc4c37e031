"""REST resources through the real twilio-python client (async, plus sync in a thread)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import aiohttp
from twilio.rest import Client
from twilio_standin_support import (
    ACCOUNT,
    API_KEY,
    API_SECRET,
    NUMBER,
    NUMBER2,
    OTHER_NUMBER,
    SERVICE,
    TOKEN,
    USER,
)

SID = re.compile(r"^SM[0-9a-f]{32}$")


async def test_create_returns_full_message_resource(standin, client):
    msg = await client.messages.create_async(to=USER, from_=NUMBER, body="hello")
    assert SID.match(msg.sid)
    assert msg.account_sid == ACCOUNT
    assert msg.status == "queued"
    assert msg.direction == "outbound-api"
    assert (msg.to, msg.from_, msg.body) == (USER, NUMBER, "hello")
    assert (msg.num_segments, msg.num_media) == ("1", "0")
    assert msg.error_code is None and msg.price is None
    assert msg.api_version == "2010-04-01"
    assert isinstance(msg.date_created, datetime)
    assert msg.uri == f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{msg.sid}.json"
    assert msg.subresource_uris == {"media": msg.uri.removesuffix(".json") + "/Media.json"}
    [sent] = standin.sent_messages
    assert sent.sid == msg.sid and sent.to == USER and sent.body == "hello"


async def test_raw_form_keeps_repeated_media_urls(standin, client):
    urls = ["https://up.example/a.jpg", "https://up.example/b.png"]
    msg = await client.messages.create_async(
        to=USER,
        from_=NUMBER,
        media_url=urls,
        status_callback="http://cb.example/s",
        validity_period=600,
    )
    assert msg.sid.startswith("MM") and msg.num_media == "2" and msg.body == ""
    form = standin.sent_messages[0].form
    assert form.getall("MediaUrl") == urls
    assert form["StatusCallback"] == "http://cb.example/s"
    assert form["ValidityPeriod"] == "600"  # unknown fields are kept, not interpreted


async def test_segments_follow_gsm7_and_ucs2(client):
    cases = {
        "a" * 160: "1",
        "a" * 161: "2",
        "€" * 80: "1",
        "é" * 70: "1",
        "ж" * 70: "1",
        "ж" * 71: "2",
        "😀" * 35: "1",
        "😀" * 36: "2",
        "a" * 1600: "11",
    }
    for body, segments in cases.items():
        msg = await client.messages.create_async(to=USER, from_=NUMBER, body=body)
        assert msg.num_segments == segments, body[:3]


async def test_fetch_and_delete(standin, client):
    created = await client.messages.create_async(to=USER, from_=NUMBER, body="x")
    fetched = await client.messages(created.sid).fetch_async()
    assert (fetched.sid, fetched.body, fetched.to) == (created.sid, "x", USER)
    assert await client.messages(created.sid).delete_async() is True
    assert created.sid not in standin.state.messages


async def test_list_filters_and_pages(standin, client):
    for i in range(5):
        await client.messages.create_async(to=USER, from_=NUMBER, body=f"m{i}")
    await client.messages.create_async(to="+15550003333", from_=NUMBER2, body="other")
    mine = await client.messages.list_async(to=USER, page_size=2)
    assert [m.body for m in mine] == ["m4", "m3", "m2", "m1", "m0"]  # newest first
    pages = [r for r in standin.requests if r.method == "GET" and r.path.endswith("Messages.json")]
    assert [r.query.get("Page") for r in pages] == [None, "1", "2"]
    assert all(r.query["To"] == USER for r in pages)
    by_sender = await client.messages.list_async(from_=NUMBER2)
    assert [m.body for m in by_sender] == ["other"]
    page = await client.messages.page_async(page_size=4)
    assert page.next_page_url is not None and len(list(page)) == 4


async def test_incoming_phone_numbers(standin, client):
    numbers = await client.incoming_phone_numbers.list_async()
    assert sorted(n.phone_number for n in numbers) == [NUMBER, NUMBER2]
    assert all(n.sid.startswith("PN") and len(n.sid) == 34 for n in numbers)
    assert {n.friendly_name for n in numbers} == {"(555) 000-1111", "(555) 000-1112"}
    assert numbers[0].capabilities["sms"] is True
    [only] = await client.api.v2010.accounts(ACCOUNT).incoming_phone_numbers.list_async(
        phone_number=NUMBER2
    )
    assert only.phone_number == NUMBER2
    updated = await client.incoming_phone_numbers(only.sid).update_async(
        sms_url="https://gw.example/twilio/sms"
    )
    assert updated.sms_url == "https://gw.example/twilio/sms"
    assert standin.state.number_by_e164(NUMBER2).sms_url == updated.sms_url
    assert OTHER_NUMBER not in {n.phone_number for n in numbers}


async def test_api_key_credentials(make_client):
    client = make_client(API_KEY, API_SECRET, account_sid=ACCOUNT)
    msg = await client.messages.create_async(to=USER, from_=NUMBER, body="via key")
    assert msg.account_sid == ACCOUNT


async def test_messaging_service_picks_sender_later(standin, client):
    msg = await client.messages.create_async(to=USER, messaging_service_sid=SERVICE, body="x")
    assert (msg.status, msg.from_, msg.num_segments) == ("accepted", None, "0")
    assert msg.messaging_service_sid == SERVICE
    await standin.drain()
    assert standin.message(msg.sid).from_ == NUMBER
    assert standin.message(msg.sid).num_segments == 1
    assert standin.message(msg.sid).status == "delivered"


async def test_sync_client_in_thread(standin):
    client = Client(ACCOUNT, TOKEN, environment={"TWILIO_STANDIN_TEST": "1"})
    client.api.base_url = standin.url
    msg = await asyncio.to_thread(client.messages.create, to=USER, from_=NUMBER, body="sync")
    assert SID.match(msg.sid)
    fetched = await asyncio.to_thread(client.messages(msg.sid).fetch)
    assert fetched.body == "sync"


async def test_request_log_redacts_credentials(standin, client):
    await client.messages.create_async(to=USER, from_=NUMBER, body="x")
    [req] = standin.requests
    assert req.headers["Authorization"] == "<redacted>"
    assert req.auth_user == ACCOUNT and req.status == 201
    assert TOKEN not in repr(standin.requests)


async def test_pause_refuses_connections_until_resumed(standin, client):
    await standin.pause_connections()
    try:
        async with aiohttp.ClientSession() as session:
            await session.get(standin.url + "/")
    except aiohttp.ClientConnectionError:
        pass
    else:
        raise AssertionError("connection should have been refused")
    await standin.resume_connections()
    msg = await client.messages.create_async(to=USER, from_=NUMBER, body="back")
    assert msg.status == "queued"


async def test_account_fetch_checks_credentials_without_leaking_token(make_client):
    account = await make_client().api.v2010.accounts(ACCOUNT).fetch_async()
    assert (account.sid, account.status) == (ACCOUNT, "active")
    assert account.auth_token is None
