"""lines.py: sanitising and splitting user text; nothing may ever become a second command."""

from __future__ import annotations

import random
import re

import pytest

from transport.backends.irc.protocol.lines import (
    check_line,
    check_target,
    make_ctcp,
    make_notice,
    make_privmsg,
    prefix_len_for,
    sanitize,
    split_for_irc,
    truncate_utf8,
)
from transport.backends.irc.protocol.message import parse_line

NASTY = [
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x01",
    "\x02",
    "\x03",
    "\x0304,12",
    "\x07",
    "\x1b[31m",
    "\t",
    "\x7f",
    " ",
    "  ",
    ":",
    "::",
    "a",
    "b",
    "word ",
    "PRIVMSG #x :evil",
    "QUIT :bye",
    "é",
    "ß",
    "中文",
    "😀",
    "👩‍👩‍👧‍👦",
    "👍🏽",
    "e\u0301",
    "🇫🇷",
    "\u2028",
    "\ufeff",
    "\ud800",
    "\x85",
    "\\",
    "@tag=1 ",
    "\x1d",
    "\x1f",
    "\x16",
    "\x0f",
]
ALLOWED_C0 = set("\x01\x02\x03\x0f\x16\x1d\x1e\x1f")


def random_text(rng: random.Random, max_pieces: int = 400) -> str:
    return "".join(rng.choice(NASTY) for _ in range(rng.randint(0, max_pieces)))


def server_view(lines: list[bytes]) -> list[bytes]:
    """How an IRC server splits our byte stream into commands (CR or LF end a line)."""
    stream = b"".join(line + b"\r\n" for line in lines)
    return [part for part in re.split(rb"[\r\n]+", stream) if part]


# -- sanitize ---------------------------------------------------------------------------


def test_sanitize_splits_all_newline_styles_and_drops_empty_lines():
    assert sanitize("a\r\nb\rc\nd\n\n\r\n") == ["a", "b", "c", "d"]
    assert sanitize("\r\n\r\n\n") == []
    assert sanitize("") == []


def test_sanitize_keeps_ctcp_and_formatting_but_drops_other_controls():
    text = "\x00a\x01b\x02c\x03d\x07e\x0ff\x16g\x1bh\x1di\x1ej\x1fk\x7f"
    assert sanitize(text) == ["a\x01b\x02c\x03de\x0ff\x16gh\x1di\x1ej\x1fk\x7f"]
    assert sanitize("a\tb") == ["a b"]
    assert sanitize("\x00\x07") == []


def test_sanitize_replaces_lone_surrogates():
    (line,) = sanitize("a\ud800b")
    assert line == "a\ufffdb"
    line.encode("utf-8")


@pytest.mark.parametrize("seed", range(200))
def test_sanitize_property(seed):
    rng = random.Random(seed)
    text = random_text(rng)
    for line in sanitize(text):
        assert line
        assert "\r" not in line and "\n" not in line
        assert all(ord(c) >= 0x20 or c in ALLOWED_C0 for c in line)
        line.encode("utf-8")


# -- split / make_* property tests ------------------------------------------------------


@pytest.mark.parametrize("seed", range(300))
def test_make_privmsg_never_injects_and_always_fits(seed):
    rng = random.Random(seed)
    text = random_text(rng, rng.choice([5, 50, 400, 3000]))
    if rng.random() < 0.3:
        text = "\x01ACTION " + text + "\x01"
    target = rng.choice(["#chan", "#a-much-longer-channel-name-for-testing", "nick", "N[i]ck"])
    nick = rng.choice(["me", "a-rather-long-nickname-30chars"])
    user, host = rng.choice([("~u", "127.0.0.1"), (None, None), ("user", "h" * 63)])
    plen = prefix_len_for(nick, user, host)
    mask = f"{nick}!{user or '~' + 'u' * 10}@{host or 'h' * 63}".encode()
    assert len(mask) == plen
    build = rng.choice([make_privmsg, make_notice])
    command = "PRIVMSG" if build is make_privmsg else "NOTICE"
    lines = build(target, text, plen)
    assert server_view(lines) == lines  # exactly one command per line, none smuggled in
    expected = sanitize(text)
    for line in lines:
        relayed = b":" + mask + b" " + line + b"\r\n"
        assert len(relayed) <= 512
        assert b"\x00" not in line
        ev = parse_line(line.decode("utf-8"), tags_enabled=True)
        assert ev is not None
        assert ev.command == command
        assert ev.params[0] == target and len(ev.params) == 2
    # Content is preserved: chunks of each input line concatenate back to it.
    payloads = [line.split(b" :", 1)[1] for line in lines]
    if expected and re.match("\x01[A-Za-z0-9]+( |\x01|$)", expected[0]):
        head = b"\x01" + re.match(rb"\x01([A-Za-z0-9]+)", payloads[0]).group(1)
        for payload in payloads:  # CTCP framing repeated on every part
            assert payload.startswith(head) and payload.endswith(b"\x01")
    else:
        # Only the single spaces at word-boundary cuts are dropped.
        joined = b"".join(payloads).decode("utf-8")
        original = "".join(expected)
        assert joined.replace(" ", "") == original.replace(" ", "")
        assert 0 <= len(original) - len(joined) <= len(lines) - len(expected)


def test_ten_kilobytes_are_split_in_full_chunks_on_word_boundaries():
    words = [f"word{i}" for i in range(1800)]
    text = " ".join(words)
    assert len(text) > 10_000
    plen = prefix_len_for("me", "~me", "localhost")
    chunks = split_for_irc("#chan", text, plen)
    overhead = 1 + plen + 1 + len("PRIVMSG #chan :") + 2
    assert all(len(c) + overhead <= 512 for c in chunks)
    assert b" ".join(chunks).decode() == text  # cut at spaces, which are dropped
    for chunk in chunks[:-1]:
        assert not chunk.endswith(b" ") and not chunk.startswith(b" ")
        assert len(chunk) + overhead > 512 - 12  # and still nearly full
    assert len(chunks) == pytest.approx(len(text) / (512 - overhead), abs=2)


@pytest.mark.parametrize("emoji", ["😀", "👩‍👩‍👧‍👦", "👍🏽", "🇫🇷", "e\u0301"])
@pytest.mark.parametrize("shift", range(8))
def test_emoji_at_the_boundary_is_never_cut(emoji, shift):
    plen = prefix_len_for("me", "~me", "localhost")
    budget = 512 - (1 + plen + 1 + len("PRIVMSG #c :") + 2)
    text = "x" * (budget - shift) + emoji + "y" * 20
    chunks = split_for_irc("#c", text, plen)
    decoded = [c.decode("utf-8") for c in chunks]  # every chunk is valid UTF-8
    assert "".join(decoded) == text
    if len(emoji.encode()) + budget - shift <= budget:
        return
    # The grapheme lands whole in one chunk.
    assert sum(emoji in d for d in decoded) == 1


def test_colour_code_is_not_separated_from_its_digits():
    plen = prefix_len_for("me", "~me", "localhost")
    budget = 512 - (1 + plen + 1 + len("PRIVMSG #c :") + 2)
    text = "x" * (budget - 3) + "\x0304,12red" + "y" * 10
    chunks = split_for_irc("#c", text, plen)
    assert chunks[1].startswith(b"\x0304,12red")


def test_action_framing_is_repeated_on_every_part():
    plen = prefix_len_for("me")
    text = "\x01ACTION " + "waves " * 300 + "\x01"
    chunks = split_for_irc("#c", text, plen)
    assert len(chunks) > 2
    for chunk in chunks:
        assert chunk.startswith(b"\x01ACTION ") and chunk.endswith(b"\x01")
        assert chunk.count(b"\x01") == 2
    inner = b" ".join(c[len(b"\x01ACTION ") : -1] for c in chunks).decode()
    assert inner == "waves " * 300


def test_multiline_action_frames_each_line():
    chunks = split_for_irc("nick", "\x01ACTION one\ntwo\x01", 40)
    assert chunks == [b"\x01ACTION one\x01", b"\x01ACTION two\x01"]


def test_private_messages_are_split_utf8_safely_too():
    text = "é" * 600
    chunks = split_for_irc("SomeNick", text, prefix_len_for("me"))
    assert "".join(c.decode() for c in chunks) == text
    assert len(chunks) == 3


def test_crlf_injection_in_text_becomes_separate_privmsgs():
    lines = make_privmsg("#chan", "hello\r\nQUIT :pwned\rJOIN #evil\nMODE x", 40)
    assert lines == [
        b"PRIVMSG #chan :hello",
        b"PRIVMSG #chan :QUIT :pwned",
        b"PRIVMSG #chan :JOIN #evil",
        b"PRIVMSG #chan :MODE x",
    ]


@pytest.mark.parametrize(
    "target", ["", "#a b", "#a\r\nQUIT", "nick\x00", ":x", "a,b", "#a\x07", "a\tb", "x\n"]
)
def test_bad_targets_are_refused(target):
    with pytest.raises(ValueError):
        check_target(target)
    with pytest.raises(ValueError):
        make_privmsg(target, "hi", 40)


def test_no_room_for_text_is_an_error():
    with pytest.raises(ValueError):
        split_for_irc("#" + "c" * 400, "hi", 100)


def test_empty_text_produces_nothing():
    assert make_privmsg("#c", "\r\n\x00\r\n", 40) == []


def test_make_ctcp():
    assert make_ctcp("nick", "VERSION", prefix_len=40) == [b"PRIVMSG nick :\x01VERSION\x01"]
    assert make_ctcp("nick", "ping", "123", prefix_len=40, reply=True) == [
        b"NOTICE nick :\x01PING 123\x01"
    ]
    assert make_ctcp("#c", "ACTION", "a\r\nb\x01c", prefix_len=40) == [
        b"PRIVMSG #c :\x01ACTION a bc\x01"
    ]
    with pytest.raises(ValueError):
        make_ctcp("nick", "VER SION")
    with pytest.raises(ValueError):
        make_ctcp("nick", "VERSION\r\nQUIT")


def test_default_prefix_is_conservative():
    (line,) = make_privmsg("#c", "x" * 1000, None)[:1]
    assert len(b":" + b"n" * 30 + b"!~" + b"u" * 10 + b"@" + b"h" * 63 + b" " + line) + 2 <= 512


# -- check_line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line", ["", "   ", "PRIVMSG #a :x\r\nQUIT", "PRIVMSG #a :x\rQUIT", "A\nB", "A\x00B"]
)
def test_check_line_refuses_injection(line):
    with pytest.raises(ValueError):
        check_line(line)
    with pytest.raises(ValueError):
        check_line(line.encode())


def test_check_line_length_and_tags():
    assert check_line("A" * 510) == b"A" * 510
    with pytest.raises(ValueError):
        check_line("A" * 511)
    assert check_line("A" * 600, limit=1024)
    tagged = "@+draft/reply=" + "x" * 1000 + " PRIVMSG #a :" + "y" * 490
    assert check_line(tagged)
    with pytest.raises(ValueError):
        check_line("@" + "x" * 9000 + " PING x")
    with pytest.raises(ValueError):
        check_line("@tag=1")


def test_truncate_utf8():
    assert truncate_utf8("é" * 10, 5) == "éé"
    assert truncate_utf8("abc", 10) == "abc"
    assert truncate_utf8("😀x", 3) == ""
