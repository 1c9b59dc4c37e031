"""Phone numbers, short codes and alphanumeric senders <-> contact localparts."""

import pytest

from transport.backends.sms.numbers import Numbers, kind_of, parse_e164
from transport.core.errors import AddressError

US = Numbers("US")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+12125550142", "+12125550142"),
        ("2125550142", "+12125550142"),
        ("(212) 555-0142", "+12125550142"),
        ("1 212 555 0142", "+12125550142"),
        ("+1 212-555-0142", "+12125550142"),
        (r"+1\20212\20555\200142", "+12125550142"),  # XEP-0106 escaped spaces
        ("+44 20 7183 8750", "+442071838750"),
        ("12345", "12345;phone-context=+1"),
        ("12345;phone-context=+1", "12345;phone-context=+1"),
        ("MyBank;alphanumeric", "mybank;alphanumeric"),
        (r"my\20bank;alphanumeric", r"my\20bank;alphanumeric"),
    ],
)
def test_normalize(typed, expected):
    assert US.normalize(typed) == expected
    assert US.normalize(expected) == expected, "canonical forms are fixed points"


@pytest.mark.parametrize(
    "bad",
    ["", "+1212", "12", "hello", "flowers1234", "+1-800-FLOWERS", "+12125550142@x",
     "123456789012345678", "12345;phone-context=+999", ";alphanumeric",
     "a/b;alphanumeric", "+", "()", "x" * 2000],
)
def test_impossible_numbers_are_jid_malformed(bad):
    with pytest.raises(AddressError) as err:
        US.normalize(bad)
    assert err.value.condition == "jid-malformed"


def test_region_decides_numbers_without_plus():
    assert Numbers("GB").normalize("020 7183 8750") == "+442071838750"
    assert Numbers("GB").normalize("+12125550142") == "+12125550142"


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("+12125550142", "+12125550142"),
        ("12345", "12345;phone-context=+1"),
        ("12125550142", "+12125550142"),
        ("MyBank", "mybank;alphanumeric"),
        ("My Bank", r"my\20bank;alphanumeric"),
        ("O'Brien & Co", r"o\27brien\20\26\20co;alphanumeric"),
        ("<script>", "script;alphanumeric"),
        ("\x00\x01", "unknown;alphanumeric"),
    ],
)
def test_inbound_senders_always_get_a_jid(sender, expected):
    local = US.from_sender(sender, "+12125550100")
    assert local == expected
    assert US.normalize(local) == local, "a reply to it is addressed the same way"


def test_short_code_context_comes_from_our_number():
    assert US.from_sender("60123", "+442071838750") == "60123;phone-context=+44"


def test_destinations_and_kinds():
    assert Numbers.destination("+12125550142") == "+12125550142"
    assert Numbers.destination("12345;phone-context=+1") == "12345"
    assert Numbers.destination("mybank;alphanumeric") is None
    assert [kind_of(x) for x in ("+12125550142", "12345;phone-context=+1", "x;alphanumeric")] \
        == ["number", "short", "alpha"]


def test_display_names():
    assert Numbers.display_name("+12125550142") == "+1 212-555-0142"
    assert Numbers.display_name("12345;phone-context=+1") == "Short code 12345"
    assert Numbers.display_name(r"my\20bank;alphanumeric") == "my bank"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sms:+12125550142", "+12125550142"),
        ("SMS:+1%20212%20555%200142", "+12125550142"),
        ("sms:+12125550142?body=hi", "+12125550142"),
        ("sms:12345;phone-context=+1", "12345;phone-context=+1"),
    ],
)
def test_sms_uris(uri, expected):
    assert US.from_uri(uri) == expected


@pytest.mark.parametrize("uri", ["tel:+12125550142", "sms:", "sms:+12125550142,+12125550143",
                                 "xmpp:a@b", "sms:+1212"])
def test_bad_sms_uris(uri):
    with pytest.raises(AddressError):
        US.from_uri(uri)


def test_parse_e164_needs_the_plus():
    assert parse_e164("+12125550142") == "+12125550142"
    assert parse_e164("2125550142") is None
    assert parse_e164("+1212") is None
