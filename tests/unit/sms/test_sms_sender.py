"""The retry-or-refuse decisions of the sender, with a scripted Twilio in its place."""

import pytest
from sms_fakes import ScriptedTwilio

from transport.backends.sms.limits import Spending
from transport.backends.sms.outbound import Sender
from transport.backends.sms.pacing import Pacer
from transport.backends.sms.settings import LimitsSettings
from transport.backends.sms.store import MIGRATIONS
from transport.backends.sms.twilio_api import NotSent, TwilioError, Uncertain
from transport.core.errors import DeliveryRefused, TemporaryFailure
from transport.core.events import OutgoingMessage
from transport.store import Store

ME = "+12125550100"
A, B = "+12125550142", "+12125550143"


class Repo:
    def __init__(self):
        self.sent = []

    async def record_sent(self, sid, now):
        self.sent.append(sid)


@pytest.fixture
async def spending(tmp_path):
    """Daily limits on a real store, high enough for these tests never to reach them."""
    store = await Store.open(tmp_path / "gw.sqlite3", extra_migrations={"sms": MIGRATIONS})
    yield Spending.for_store(LimitsSettings(recipients_per_message=100, max_segments=100),
                             store.backend_storage("sms"))
    await store.close()


def sender(api, spending):
    return Sender(api, Pacer(0), Repo(), "https://gw.example/twilio/status", spending)


def message(body, *extra, stanza_id="m1"):
    return OutgoingMessage(user="alice@localhost", sender_full_jid="alice@localhost/x",
                           contact=A, stanza_id=stanza_id, body=body, extra_recipients=extra)


async def test_a_retry_resumes_after_the_parts_already_sent(spending):
    api = ScriptedTwilio(None, TwilioError(429, 20429, "Too Many Requests"))
    s = sender(api, spending)
    body = "x" * 4000
    with pytest.raises(TemporaryFailure):
        await s.send(message(body), ME)
    outcome = await s.send(message(body), ME)
    assert [b for _, b, _ in api.created] == ["x" * 1600, "x" * 1600, "x" * 800]
    assert outcome.legacy_ids == tuple(sid for *_, sid in api.created)
    assert outcome.recipients == (A, A, A)


async def test_connection_never_opened_is_temporary_and_uncertain_is_refused(spending):
    s = sender(ScriptedTwilio(NotSent("refused")), spending)
    with pytest.raises(TemporaryFailure):
        await s.send(message("hi"), ME)
    s = sender(ScriptedTwilio(Uncertain("timeout")), spending)
    with pytest.raises(DeliveryRefused) as err:
        await s.send(message("hi"), ME)
    assert "may or may not have been sent" in err.value.text


async def test_a_later_part_refused_says_which_parts_went_out(spending):
    api = ScriptedTwilio(None, TwilioError(400, 21610, "unsubscribed"))
    with pytest.raises(DeliveryRefused) as err:
        await sender(api, spending).send(message("y" * 3000), ME)
    assert err.value.legacy_code == "21610"
    assert "(parts 1 to 1 of 2 were sent)" in err.value.text


async def test_group_text_continues_past_a_refused_recipient_and_names_both(spending):
    api = ScriptedTwilio(TwilioError(400, 21211, "invalid"), None)
    with pytest.raises(DeliveryRefused) as err:
        await sender(api, spending).send(message("hello", B), ME)
    assert [to for to, *_ in api.created] == [B]
    assert err.value.condition == "item-not-found"
    assert err.value.text.startswith("Not sent to +1 212-555-0142: invalid")
    assert err.value.text.endswith("It was sent to +1 212-555-0143")


async def test_group_text_outcome_maps_each_sid_to_its_recipient(spending):
    api = ScriptedTwilio()
    outcome = await sender(api, spending).send(message("hello", B), ME)
    assert outcome.recipients == (A, B)
    assert outcome.by_contact(A) == {A: [api.created[0][2]], B: [api.created[1][2]]}


async def test_alphanumeric_recipients_are_refused_before_anything_is_sent(spending):
    api = ScriptedTwilio()
    with pytest.raises(DeliveryRefused) as err:
        await sender(api, spending).send(message("hi", "mybank;alphanumeric"), ME)
    assert err.value.condition == "not-allowed" and api.created == []
