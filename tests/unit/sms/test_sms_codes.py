"""Twilio error codes -> stanza errors the user can act on."""

from transport.backends.sms.codes import stanza_error


def test_opt_out_gets_the_condition_twilios_text_and_a_hint():
    info = stanza_error(21610, "Attempt to send to unsubscribed recipient", "x")
    assert (info.condition, info.etype, info.legacy_code) == ("not-allowed", "cancel", "21610")
    assert info.text.startswith("Attempt to send to unsubscribed recipient (")
    assert "START" in info.text


def test_known_codes():
    assert stanza_error(21211, "bad", "x").condition == "item-not-found"
    assert stanza_error(30007, "", "x").condition == "policy-violation"
    assert stanza_error(30007, "", "x").text == "Message filtered by the carrier"
    assert stanza_error(30003, "", "x").etype == "wait"


def test_unknown_or_missing_codes_fall_back():
    info = stanza_error(99999, "", "Twilio reports the message failed")
    assert (info.condition, info.text, info.legacy_code) == (
        "undefined-condition", "Twilio reports the message failed", "99999")
    assert stanza_error(None, None, "fallback").legacy_code is None
