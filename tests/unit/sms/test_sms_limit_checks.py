"""[sms.limits]: settings, the per-stanza caps, the daily ledger on a real store, and what
the sender counts (only what Twilio created)."""

import asyncio

import pytest
from sms_fakes import ScriptedTwilio

from transport import cli
from transport.backends.sms.ledger import DailyLimits, UsageLedger
from transport.backends.sms.limits import Spending, country_of
from transport.backends.sms.outbound import Sender
from transport.backends.sms.pacing import Pacer
from transport.backends.sms.settings import LimitsSettings, parse_settings
from transport.backends.sms.store import MIGRATIONS
from transport.backends.sms.twilio_api import TwilioError, Uncertain
from transport.core.backend import SettingsError
from transport.core.errors import DeliveryRefused, TemporaryFailure
from transport.core.events import OutgoingMessage
from transport.store import Store

SID = "AC" + "0123456789abcdef" * 2
MINIMAL = {
    "twilio": {"account_sid": SID, "auth_token": "token"},
    "webhook": {"public_url": "https://gw.example.org"},
}
ME = "+12125550100"
US, US2, CA, JM, GB = "+12125550142", "+12125550143", "+14165550123", "+18765550123", \
    "+447700900123"
ALICE = "alice@localhost"


@pytest.fixture
async def store(tmp_path):
    opened = await Store.open(tmp_path / "gw.sqlite3", extra_migrations={"sms": MIGRATIONS})
    yield opened
    await opened.close()


def limits_problems(limits):
    with pytest.raises(ExceptionGroup) as info:
        parse_settings({**MINIMAL, "limits": limits})
    assert all(isinstance(e, SettingsError) for e in info.value.exceptions)
    return sorted(str(e) for e in info.value.exceptions)


# -- settings ---------------------------------------------------------------------------

def test_limits_default_to_the_contract():
    limits = parse_settings(MINIMAL).limits
    assert limits == LimitsSettings(messages_per_day=200, segments_per_day=1000,
                                    recipients_per_message=10, max_segments=10,
                                    countries=frozenset())


def test_limits_are_read_and_countries_upper_cased():
    limits = parse_settings({**MINIMAL, "limits": {
        "messages_per_day": 5, "segments_per_day": 50, "recipients_per_message": 1,
        "max_segments": 3, "countries": ["us", "CA", "US"]}}).limits
    assert (limits.messages_per_day, limits.segments_per_day) == (5, 50)
    assert (limits.recipients_per_message, limits.max_segments) == (1, 3)
    assert limits.countries == {"US", "CA"}


def test_every_bad_limit_is_reported_with_its_key():
    assert limits_problems({
        "messages_per_day": 0, "segments_per_day": "many", "recipients_per_message": True,
        "max_segments": 1.5, "countries": ["US", "XX", 1, "USA"], "per_hour": 3,
    }) == [
        "limits.countries[1]: expected an ISO 3166 alpha-2 country code like \"US\", got \"XX\"",
        "limits.countries[2]: expected an ISO 3166 alpha-2 country code like \"US\", got 1",
        "limits.countries[3]: expected an ISO 3166 alpha-2 country code like \"US\", "
        "got \"USA\"",
        "limits.max_segments: expected an integer from 1 to 1000, got 1.5",
        "limits.messages_per_day: expected an integer from 1 to 100000000, got 0",
        "limits.per_hour: unknown key",
        "limits.recipients_per_message: expected an integer from 1 to 1000, got true",
        "limits.segments_per_day: expected an integer from 1 to 100000000, got \"many\"",
    ]
    assert limits_problems({"countries": "US"}) == [
        "limits.countries: expected a list of country codes like [\"US\", \"CA\"], got \"US\""]
    assert limits_problems("none") == ["limits: expected a table"]


def test_check_config_names_each_bad_limit_by_its_key_path(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(f"""
[xmpp]
host = "127.0.0.1"
[database]
path = "t.sqlite3"
[sms]
jid = "sms.example.org"
secret = "s"
[sms.twilio]
account_sid = "{SID}"
auth_token = "token"
[sms.webhook]
public_url = "https://gw.example.org"
[sms.limits]
segments_per_day = -1
countries = ["US", "Canada"]
""")
    assert cli.main(["check-config", "--config", str(config)]) != 0
    out = capsys.readouterr()
    lines = (out.out + out.err).splitlines()
    assert "sms.limits.segments_per_day: expected an integer from 1 to 100000000, got -1" \
        in lines
    assert "sms.limits.countries[1]: expected an ISO 3166 alpha-2 country code like \"US\", " \
        "got \"Canada\"" in lines


# -- per-stanza caps ------------------------------------------------------------------

def spending(store, **limits):
    return Spending.for_store(LimitsSettings(**limits), store.backend_storage("sms"))


def refusal(call, *args):
    with pytest.raises(DeliveryRefused) as info:
        call(*args)
    assert info.value.condition == "policy-violation"
    return info.value


async def test_per_message_caps_are_modify_errors_that_name_the_limit(store):
    s = spending(store, recipients_per_message=2, max_segments=3, countries=frozenset({"US"}))
    err = refusal(s.cost, [US, US2, CA], [1])
    assert err.etype == "modify"
    assert err.text.startswith("SMS limit: recipients_per_message = 2;")
    assert "3 recipients" in err.text
    err = refusal(s.cost, [US, GB], [1])
    assert err.etype == "modify"
    assert err.text == "SMS limit: countries = [US]; +44 7700 900123 is in GB"
    err = refusal(s.cost, [US], [2, 2])
    assert err.etype == "modify" and err.text.startswith("SMS limit: max_segments = 3;")
    assert "4 segments" in err.text
    cost = s.cost([US, US2], [2, 1])
    assert (cost.messages, cost.segments) == (4, 6)


def test_countries_are_told_by_the_number_not_only_its_calling_code():
    assert [country_of(n) for n in (US, CA, JM, GB)] == ["US", "CA", "JM", "GB"]
    assert country_of("12345;phone-context=+1") == "US"
    assert country_of("+33612345678") == "FR"


# -- the daily ledger -----------------------------------------------------------------

async def test_a_day_full_of_messages_is_a_wait_error_that_names_the_limit(store):
    ledger = UsageLedger(
        store.backend_storage("sms"), DailyLimits(messages_per_day=3, segments_per_day=100)
    )
    first = await ledger.reserve(ALICE, 2, 2)
    with pytest.raises(DeliveryRefused) as info:
        await ledger.reserve(ALICE, 2, 2)
    err = info.value
    assert (err.condition, err.etype) == ("policy-violation", "wait")
    assert err.text.startswith("SMS limit reached: messages_per_day = 3 (UTC day);")
    first.release()
    await ledger.reserve(ALICE, 3, 3)
    await ledger.reserve("bob@localhost", 3, 3)  # per user


async def test_segments_are_limited_per_day_too(store):
    ledger = UsageLedger(
        store.backend_storage("sms"), DailyLimits(messages_per_day=100, segments_per_day=10)
    )
    reservation = await ledger.reserve(ALICE, 1, 8)
    reservation.created(8)
    with pytest.raises(DeliveryRefused) as info:
        await ledger.reserve(ALICE, 1, 3)
    assert info.value.text.startswith("SMS limit reached: segments_per_day = 10 (UTC day);")
    await ledger.reserve(ALICE, 1, 2)


async def test_created_messages_are_stored_and_count_after_a_restart(tmp_path):
    path = tmp_path / "gw.sqlite3"
    limits = DailyLimits(messages_per_day=3, segments_per_day=100)
    store = await Store.open(path, extra_migrations={"sms": MIGRATIONS})
    ledger = UsageLedger(store.backend_storage("sms"), limits)
    reservation = await ledger.reserve(ALICE, 3, 5)
    reservation.created(2)
    reservation.created(2)
    reservation.release()  # the third was refused by Twilio: it does not count
    await ledger.flush()
    await store.close()

    store = await Store.open(path, extra_migrations={"sms": MIGRATIONS})
    ledger = UsageLedger(store.backend_storage("sms"), limits)
    tally = await ledger.of(ALICE)
    assert (tally.messages, tally.segments) == (2, 4)
    await ledger.reserve(ALICE, 1, 1)
    with pytest.raises(DeliveryRefused):
        await ledger.reserve(ALICE, 1, 1)
    assert set(await ledger.today()) == {ALICE}
    await store.close()


async def test_concurrent_stanzas_cannot_both_take_the_last_slot(store):
    """Every reservation starts before any has loaded the day's count from the store."""
    ledger = UsageLedger(
        store.backend_storage("sms"), DailyLimits(messages_per_day=5, segments_per_day=100)
    )
    outcomes = await asyncio.gather(*(ledger.reserve(ALICE, 1, 1) for _ in range(12)),
                                    return_exceptions=True)
    assert sum(not isinstance(o, Exception) for o in outcomes) == 5
    assert all(isinstance(o, DeliveryRefused) for o in outcomes if isinstance(o, Exception))


# -- what the sender counts -------------------------------------------------------------

class Repo:
    async def record_sent(self, sid, now):
        pass


def sender(api, spend):
    return Sender(api, Pacer(0), Repo(), "https://gw.example/twilio/status", spend)


def message(body, *extra, stanza_id="m1"):
    return OutgoingMessage(user=ALICE, sender_full_jid=f"{ALICE}/x", contact=US,
                           stanza_id=stanza_id, body=body, extra_recipients=extra)


async def test_a_stanza_over_a_limit_sends_nothing_at_all(store):
    api = ScriptedTwilio()
    s = sender(api, spending(store, messages_per_day=5, max_segments=100))
    with pytest.raises(DeliveryRefused) as info:
        await s.send(message("x" * 4000, US2), ME)  # 3 parts to 2 recipients: 6 messages
    assert info.value.etype == "wait"
    assert api.created == []
    await s.send(message("x" * 3000, US2, stanza_id="m2"), ME)
    assert len(api.created) == 4


async def test_only_what_twilio_created_is_counted(store):
    api = ScriptedTwilio(TwilioError(400, 21211, "invalid"), None)
    spend = spending(store, messages_per_day=10)
    with pytest.raises(DeliveryRefused):
        await sender(api, spend).send(message("hello", US2), ME)
    await spend.ledger.flush()
    tally = await spend.ledger.of(ALICE)
    assert (tally.messages, tally.segments) == (1, 1)
    assert (tally.reserved_messages, tally.reserved_segments) == (0, 0)
    row = await store.db.fetchone("SELECT messages, segments FROM sms_usage")
    assert tuple(row) == (1, 1)


async def test_a_retried_stanza_is_reserved_once(store):
    api = ScriptedTwilio(None, TwilioError(429, 20429, "Too Many Requests"))
    spend = spending(store, messages_per_day=3, max_segments=100)
    s = sender(api, spend)
    with pytest.raises(TemporaryFailure):
        await s.send(message("x" * 4000), ME)  # three parts: the whole day
    tally = await spend.ledger.of(ALICE)
    assert (tally.messages, tally.reserved_messages) == (1, 2)
    await s.send(message("x" * 4000), ME)
    assert (tally.messages, tally.reserved_messages) == (3, 0)
    with pytest.raises(DeliveryRefused):
        await s.send(message("one more", stanza_id="m2"), ME)


async def test_a_message_twilio_may_have_created_counts(store):
    """A timeout after the request went out, or a 5xx: Twilio may have created (and will
    bill) it, so it is counted; a plain refusal is not."""
    spend = spending(store, messages_per_day=10)
    for step in (Uncertain("read timeout"), TwilioError(500, 20500, "Internal Server Error"),
                 TwilioError(400, 21610, "unsubscribed")):
        with pytest.raises(DeliveryRefused):
            await sender(ScriptedTwilio(step), spend).send(message("hi", stanza_id=str(step)), ME)
    tally = await spend.ledger.of(ALICE)
    assert (tally.messages, tally.segments, tally.reserved_messages) == (2, 2, 0)
