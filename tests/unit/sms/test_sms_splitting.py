"""Long bodies split into ordered parts that Twilio accepts and that lose nothing."""

import pytest

from transport.backends.sms.outbound import plan_parts
from transport.backends.sms.splitting import MAX_BODY, split_body, utf16_len


def check(body, parts, limit=MAX_BODY):
    assert "".join(parts) == body, "never truncated, never reordered"
    assert all(0 < utf16_len(p) <= limit for p in parts)


def test_short_and_empty_bodies_are_not_split():
    assert split_body("") == []
    assert split_body("hi") == ["hi"]
    assert split_body("x" * MAX_BODY) == ["x" * MAX_BODY]


def test_just_over_the_limit_makes_two_parts():
    body = "x" * (MAX_BODY + 1)
    parts = split_body(body)
    check(body, parts)
    assert len(parts) == 2


def test_parts_end_after_whitespace_when_possible():
    words = " ".join(f"word{i}" for i in range(1000))
    parts = split_body(words)
    check(words, parts)
    assert all(p.endswith(" ") for p in parts[:-1])


def test_emoji_count_twice_and_are_never_cut_in_half():
    body = "😀" * 1000  # 2000 UTF-16 units
    parts = split_body(body)
    check(body, parts)
    assert [utf16_len(p) for p in parts] == [1600, 400]


def test_combining_marks_stay_with_their_letter():
    body = ("e\u0301" * 900)  # é as e + COMBINING ACUTE
    parts = split_body(body)
    check(body, parts)
    assert not parts[1].startswith("\u0301")


def test_zero_width_joiner_sequences_stay_together():
    family = "👨\u200d👩\u200d👧"
    body = "a" * 1597 + family
    parts = split_body(body)
    check(body, parts)
    assert parts[1] == family


@pytest.mark.parametrize("limit", [2, 7, 160])
def test_small_limits(limit):
    body = "ab😀 cd\u0301 ef " * 50
    check(body, split_body(body, limit), limit)


def test_plan_text_only():
    assert plan_parts("hello", []) == [("hello", [])]
    assert plan_parts("", []) == []


def test_plan_media_with_caption_and_url_in_body():
    url = "https://up.example.org/a/cat.jpg"
    assert plan_parts(url, [url]) == [("", [url])]
    assert plan_parts(f"my cat {url}", [url]) == [("my cat", [url])]
    long_caption = "y" * 2000
    plan = plan_parts(long_caption, [url])
    assert plan[0][1] == [url] and plan[1][1] == []
    assert "".join(p[0] for p in plan) == long_caption
