"""Status callbacks: order, fields, Twilio signatures, retries, failures."""

from __future__ import annotations

import socket

import pytest
from twilio_standin_support import ACCOUNT, NUMBER, SERVICE, TOKEN, USER, valid

from transport.testing.twilio import compute_signature


async def _send(client, receiver, to=USER, path="/status"):
    return await client.messages.create_async(
        to=to, from_=NUMBER, body="hi", status_callback=receiver.url(path)
    )


async def test_sent_then_delivered_signed_and_complete(standin, client, receiver):
    msg = await _send(client, receiver)
    hits = await receiver.wait_for(2)
    await standin.drain()
    assert [h.form["MessageStatus"] for h in hits] == ["sent", "delivered"]
    for hit in hits:
        assert valid(TOKEN, receiver.url("/status"), hit)
        assert dict(hit.form) == {
            "AccountSid": ACCOUNT,
            "ApiVersion": "2010-04-01",
            "From": NUMBER,
            "MessageSid": msg.sid,
            "MessageStatus": hit.form["MessageStatus"],
            "SmsSid": msg.sid,
            "SmsStatus": hit.form["MessageStatus"],
            "To": USER,
        }
        assert hit.headers["I-Twilio-Idempotency-Token"]
        assert hit.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert (
        hits[0].headers["I-Twilio-Idempotency-Token"]
        != hits[1].headers["I-Twilio-Idempotency-Token"]
    )
    fetched = await client.messages(msg.sid).fetch_async()
    assert fetched.status == "delivered" and fetched.date_sent is not None
    assert [a.params["MessageStatus"] for a in standin.status_callbacks(msg.sid)] == [
        "sent",
        "delivered",
    ]


async def test_no_status_callback_means_no_posts(standin, client, receiver):
    msg = await client.messages.create_async(to=USER, from_=NUMBER, body="hi")
    await standin.drain()
    assert standin.message(msg.sid).status == "delivered"
    assert receiver.hits == [] and standin.webhook_attempts == []


async def test_undelivered_carries_error_code(standin, client, receiver):
    standin.set_outcome(USER, "undelivered", error_code=30006)
    msg = await _send(client, receiver)
    hits = await receiver.wait_for(2)
    assert [h.form["MessageStatus"] for h in hits] == ["sent", "undelivered"]
    assert "ErrorCode" not in hits[0].form
    assert hits[1].form["ErrorCode"] == "30006"
    assert hits[1].form["ErrorMessage"] == "Landline or unreachable carrier"
    assert all(valid(TOKEN, receiver.url("/status"), h) for h in hits)
    await standin.drain()
    fetched = await client.messages(msg.sid).fetch_async()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30006)


async def test_failed_goes_straight_to_failed_with_default_code(standin, client, receiver):
    standin.set_outcome("*", "failed")
    await _send(client, receiver)
    [hit] = await receiver.wait_for(1)
    await standin.drain()
    assert len(receiver.hits) == 1
    assert (hit.form["MessageStatus"], hit.form["ErrorCode"]) == ("failed", "30008")


async def test_outcome_delay_and_per_recipient_rules(standin, client, receiver):
    standin.set_outcome("*", "undelivered", delay=0.05)
    standin.set_outcome("+15550005555", "delivered")
    await _send(client, receiver, to="+15550005555", path="/fast")
    await _send(client, receiver, path="/slow")
    await standin.drain()
    finals = {h.path: h.form["MessageStatus"] for h in receiver.hits}
    assert finals == {"/fast": "delivered", "/slow": "undelivered"}
    assert [h.path for h in receiver.hits][:2] == ["/fast", "/fast"]


async def test_messaging_service_callbacks_include_service_sid(standin, client, receiver):
    await client.messages.create_async(
        to=USER, messaging_service_sid=SERVICE, body="x", status_callback=receiver.url("/s")
    )
    hits = await receiver.wait_for(2)
    assert all(h.form["MessagingServiceSid"] == SERVICE for h in hits)
    assert all(h.form["From"] == NUMBER for h in hits)
    assert all(valid(TOKEN, receiver.url("/s"), h) for h in hits)


async def test_5xx_is_retried_with_the_same_token(standin, client, receiver):
    receiver.answers = [503]
    await _send(client, receiver)
    await standin.drain()
    assert [h.form["MessageStatus"] for h in receiver.hits] == ["sent", "sent", "delivered"]
    assert (
        receiver.hits[0].headers["I-Twilio-Idempotency-Token"]
        == receiver.hits[1].headers["I-Twilio-Idempotency-Token"]
    )
    assert [(a.attempt, a.status) for a in standin.webhook_attempts] == [
        (1, 503),
        (2, 200),
        (1, 200),
    ]
    assert len(standin.callback_failures) == 1


async def test_4xx_is_not_retried(standin, client, receiver):
    receiver.answers = [403]
    await _send(client, receiver)
    await standin.drain()
    assert [h.form["MessageStatus"] for h in receiver.hits] == ["sent", "delivered"]


async def test_unreachable_callback_is_recorded_not_fatal(standin, client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/status"
    msg = await client.messages.create_async(to=USER, from_=NUMBER, body="x", status_callback=dead)
    await standin.drain()
    failures = standin.callback_failures
    assert len(failures) == 4  # (1 try + 1 retry) x (sent, delivered)
    assert all(f.status is None and f.error for f in failures)
    assert standin.message(msg.sid).status == "delivered"
    again = await client.messages.create_async(to=USER, from_=NUMBER, body="still up")
    assert again.status == "queued"


async def test_routed_public_url_is_what_gets_signed(standin, client, receiver):
    public = "https://gw.example.org/twilio"
    standin.route_url(public, receiver.url("/behind-proxy"))
    await client.messages.create_async(
        to=USER, from_=NUMBER, body="x", status_callback=public + "/status?x=1"
    )
    hits = await receiver.wait_for(2)
    assert hits[0].path == "/behind-proxy/status?x=1"
    assert all(valid(TOKEN, public + "/status?x=1", h) for h in hits)
    assert not any(valid(TOKEN, h.url, h) for h in hits)  # the forwarded URL does not verify


@pytest.mark.parametrize("params", [[], [("Body", "a b"), ("From", "+1"), ("To", "+2")]])
def test_signature_helper_matches_request_validator(params):
    from twilio.request_validator import RequestValidator

    url = "https://gw.example.org/sms?a=1"
    sig = compute_signature(TOKEN, url, params)
    assert RequestValidator(TOKEN).validate(url, dict(params), sig)
    assert not RequestValidator("other").validate(url, dict(params), sig)
