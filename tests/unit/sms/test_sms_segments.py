"""Billed segments as Twilio counts them: GSM-7 with its extension table, or UCS-2."""

import pytest

from transport.backends.sms.outbound import plan_parts
from transport.backends.sms.segments import (
    GSM_BASIC,
    GSM_EXTENSION,
    message_segments,
    segments,
)

EMOJI = "\U0001f600"  # outside the BMP: two UTF-16 code units
CURLY_QUOTE = "\u2019"


def test_the_gsm_alphabet_is_complete():
    assert len(GSM_BASIC) == 127 and len(GSM_EXTENSION) == 10
    assert not GSM_BASIC & GSM_EXTENSION


@pytest.mark.parametrize(("body", "expected"), [
    ("", 0),
    ("Hello, world", 1),
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("àéìòù ÄÖÜ ß £¥ ΔΩ @_", 1),
    ("a" * 1600, 11),
])
def test_gsm7_is_160_single_and_153_per_part(body, expected):
    assert segments(body) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ("{" * 80, 1),  # 160 septets: each extension character is an escape plus itself
    ("{" * 81, 2),
    ("€" * 80 + "a", 2),
    ("a" * 159 + "^", 2),
    # 306 septets would fit two parts of 153, but the escape and its character are never
    # split between two parts, so the first part ends one septet early
    ("a" * 152 + "[" + "a" * 152, 3),
])
def test_gsm7_extension_characters_count_twice_and_stay_whole(body, expected):
    assert segments(body) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ("ж" * 70, 1),
    ("ж" * 71, 2),
    ("ж" * 134, 2),
    ("ж" * 135, 3),
    ("a" * 69 + CURLY_QUOTE, 1),  # one curly quote makes the whole body UCS-2
    ("a" * 70 + CURLY_QUOTE, 2),
    (EMOJI * 35, 1),  # 70 code units
    (EMOJI * 36, 2),
    # 134 code units, but a surrogate pair is never split between two parts
    ("ж" * 66 + EMOJI + "ж" * 66, 3),
    ("ж" * 1600, 24),
])
def test_ucs2_is_70_single_and_67_per_part_in_utf16_units(body, expected):
    assert segments(body) == expected


def test_an_mms_is_one_segment_whatever_its_caption():
    assert message_segments("ж" * 1600, has_media=True) == 1
    assert message_segments("", has_media=True) == 1
    assert message_segments("hi", has_media=False) == 1


def test_the_issues_32000_character_text_is_480_segments_per_recipient():
    parts = plan_parts("ж" * 32000, [])
    assert len(parts) == 20
    assert sum(message_segments(body, bool(media)) for body, media in parts) == 480
