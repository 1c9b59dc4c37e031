"""Every error reaches the real client as TwilioRestException with Twilio's code/status."""

from __future__ import annotations

import aiohttp
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio_standin_support import (
    ACCOUNT,
    API_KEY,
    NUMBER,
    OTHER_ACCOUNT,
    OTHER_NUMBER,
    OTHER_TOKEN,
    TOKEN,
    USER,
)

OK = {"to": USER, "from_": NUMBER, "body": "hi"}

CASES = [
    ("missing To", {**OK, "to": ""}, 21604),
    ("missing From", {"to": USER, "body": "hi"}, 21603),
    ("no Body, no MediaUrl", {"to": USER, "from_": NUMBER}, 21619),
    ("empty Body", {**OK, "body": ""}, 21619),
    ("Body over 1600", {**OK, "body": "x" * 1601}, 21617),
    ("Body over 1600 in UTF-16 units", {**OK, "body": "😀" * 801}, 21617),
    ("11 MediaUrl", {**OK, "media_url": [f"https://m.example/{i}" for i in range(11)]}, 21623),
    ("MediaUrl not http", {**OK, "media_url": ["ftp://m.example/x"]}, 21620),
    (
        "StatusCallback with underscore host",
        {**OK, "status_callback": "http://a_b.example/"},
        21609,
    ),
    ("To not E.164", {**OK, "to": "5551234"}, 21211),
    ("To +1 with 9 digits", {**OK, "to": "+1555000111"}, 21211),
    ("From of another account", {**OK, "from_": OTHER_NUMBER}, 21606),
    ("From nobody owns", {**OK, "from_": "+15559999999"}, 21606),
    (
        "unknown Messaging Service",
        {"to": USER, "body": "x", "messaging_service_sid": "MG" + "0" * 32},
        21705,
    ),
]


@pytest.mark.parametrize(("kwargs", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_validation_errors(standin, client, kwargs, code):
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(**kwargs)
    assert (info.value.status, info.value.code) == (400, code)
    assert standin.sent_messages == []
    [attempt] = standin.create_attempts
    assert attempt.sid is None and attempt.error_code == code


async def test_invalid_to_message_text(client):
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to="+12", from_=NUMBER, body="x")
    assert "The 'To' number +12 is not a valid phone number." in info.value.msg


async def test_wrong_token_is_401_20003(make_client):
    client = make_client(ACCOUNT, "wrong")
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(**OK)
    assert (info.value.status, info.value.code) == (401, 20003)


async def test_other_accounts_credentials_are_refused(make_client):
    client = make_client(OTHER_ACCOUNT, OTHER_TOKEN, account_sid=ACCOUNT)
    with pytest.raises(TwilioRestException) as info:
        await client.messages("SM" + "0" * 32).fetch_async()  # 401 comes before 404
    assert (info.value.status, info.value.code) == (401, 20003)
    key_client = make_client(API_KEY, "not-the-secret", account_sid=ACCOUNT)
    with pytest.raises(TwilioRestException) as info:
        await key_client.messages.create_async(**OK)
    assert info.value.code == 20003
    # twilio-python's list() wraps page errors in a plain TwilioException instead.
    with pytest.raises(TwilioException, match="Unable to fetch page"):
        await client.messages.list_async()


async def test_missing_auth_body_is_twilios(standin):
    url = f"{standin.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    async with aiohttp.ClientSession() as session, session.post(url, data=OK) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Basic")
        doc = await resp.json()
    assert {k: doc[k] for k in ("code", "message", "more_info", "status")} == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert standin.create_attempts == []  # refused before the resource saw it


async def test_unknown_message_is_404_20404(client):
    with pytest.raises(TwilioRestException) as info:
        await client.messages("SM" + "0" * 32).fetch_async()
    assert (info.value.status, info.value.code) == (404, 20404)


async def test_injected_429_twice_then_success(standin, client):
    standin.inject_error(429, 20429, "Too Many Requests", times=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as info:
            await client.messages.create_async(**OK)
        assert (info.value.status, info.value.code) == (429, 20429)
    msg = await client.messages.create_async(**OK)
    assert [a.status for a in standin.create_attempts] == [429, 429, 201]
    assert [m.sid for m in standin.sent_messages] == [msg.sid]


@pytest.mark.parametrize(("status", "code"), [(400, 21610), (500, 20500), (400, 30007)])
async def test_injected_errors_reach_the_client(standin, client, status, code):
    standin.inject_error(status, code, f"injected {code}")
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(**OK)
    assert (info.value.status, info.value.code) == (status, code)
    assert f"injected {code}" in info.value.msg


async def test_injected_error_matches_recipient(standin, client):
    standin.inject_error(400, 21610, "Attempt to send to unsubscribed recipient", match_to=USER)
    await client.messages.create_async(**{**OK, "to": "+15550004444"})
    with pytest.raises(TwilioRestException):
        await client.messages.create_async(**OK)
    await client.messages.create_async(**OK)  # consumed


async def test_opt_out_is_21610_until_start(standin, client, receiver):
    standin.opt_out(USER)
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(**OK)
    assert info.value.code == 21610
    standin.state.opt_outs.clear()
    await standin.send_inbound(NUMBER, USER, "STOP", webhook_url=receiver.url("/sms"))
    assert receiver.hits[-1].form["OptOutType"] == "STOP"
    with pytest.raises(TwilioRestException):
        await client.messages.create_async(**OK)
    await client.messages.create_async(**{**OK, "from_": "+15550001112"})  # other sender ok
    await standin.send_inbound(NUMBER, USER, "start", webhook_url=receiver.url("/sms"))
    await client.messages.create_async(**OK)


async def test_unknown_route_under_account_still_needs_auth(standin):
    url = f"{standin.url}/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as resp:
            assert resp.status == 401
        auth = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, TOKEN)}
        async with session.get(url, headers=auth) as resp:
            assert resp.status == 404
            assert (await resp.json())["code"] == 20404
