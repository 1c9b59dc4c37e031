"""message.py: line reassembly, decoding and parsing of hostile input."""

from __future__ import annotations

import random

import pytest

from transport.backends.irc.protocol.message import (
    LineReader,
    decode_line,
    parse_line,
    parse_server_time,
    parse_tags,
)


def test_reader_splits_on_cr_lf_crlf_and_drops_empty_lines():
    reader = LineReader()
    assert reader.feed(b"A\r\nB\nC\rD") == [(b"A", False), (b"B", False), (b"C", False)]
    assert reader.pending == 1
    assert reader.feed(b"\r") == [(b"D", False)]
    assert reader.feed(b"\n\r\n\n") == []


def test_reader_reassembles_any_chunking():
    data = b"".join(b":s PRIVMSG #a :line %d\r\n" % i for i in range(300))
    rng = random.Random(1)
    reader = LineReader()
    got = []
    pos = 0
    while pos < len(data):
        step = rng.randint(1, 50)
        got += reader.feed(data[pos : pos + step])
        pos += step
    assert [line for line, _ in got] == data.split(b"\r\n")[:-1]


def test_reader_removes_nul_and_bounds_overlong_lines():
    reader = LineReader(max_line_bytes=100)
    assert reader.feed(b"A\x00B\r\n") == [(b"AB", False)]
    out = reader.feed(b"X" * 150 + b"\r\nNEXT\r\n")
    assert out == [(b"X" * 100, True), (b"NEXT", False)]
    # An overlong line arriving in pieces: reported once, the rest discarded, memory bounded.
    out = reader.feed(b"Y" * 60)
    out += reader.feed(b"Y" * 60)
    assert out == [(b"Y" * 100, True)]
    assert reader.pending == 0
    out = reader.feed(b"Y" * 500)
    assert out == [] and reader.pending == 0
    assert reader.feed(b"tail\r\nOK\r\n") == [(b"OK", False)]


def test_decode_line_fallbacks():
    assert decode_line("héllo".encode()) == "héllo"
    assert decode_line("héllo".encode("latin-1")) == "héllo"
    assert decode_line(b"\xff\xfe", "utf-8") == "\ufffd\ufffd"
    assert decode_line("x€".encode("cp1252"), "cp1252") == "x€"
    assert decode_line(b"\x81", "no-such-codec") == "\ufffd"
    # A truncated line cut inside a UTF-8 character keeps its valid prefix.
    assert decode_line("aé".encode()[:-1], truncated=True) == "a"


def test_parse_basic_forms():
    ev = parse_line(":nick!user@host PRIVMSG #chan :hello world", tags_enabled=False)
    assert ev is not None
    assert ev.command == "PRIVMSG" and ev.params == ["#chan", "hello world"]
    assert ev.nick == "nick" and ev.source.user == "user" and ev.source.host == "host"
    ev = parse_line("PING :token", tags_enabled=False)
    assert ev.source is None and ev.params == ["token"]
    ev = parse_line(":srv 005 me A=1 B :are supported", tags_enabled=False)
    assert ev.is_numeric and ev.params == ["me", "A=1", "B", "are supported"]
    ev = parse_line(":srv  001   me   :", tags_enabled=False)
    assert ev.command == "001" and ev.params == ["me", ""]
    ev = parse_line("privmsg #a ::-)", tags_enabled=False)
    assert ev.command == "PRIVMSG" and ev.params == ["#a", ":-)"]


@pytest.mark.parametrize("line", ["", " ", ":", ":prefix", ":prefix ", "@tags", "@a=b :p", "@ "])
def test_parse_degenerate_lines(line):
    assert parse_line(line, tags_enabled=True) is None


def test_missing_params_are_safe():
    ev = parse_line(":srv 433", tags_enabled=False)
    assert ev.params == [] and ev.param(1) == "" and ev.param(-1) == "" and ev.param(5, "x") == "x"


def test_tags_only_when_negotiated():
    tags = "@time=2024-01-02T03:04:05.678Z;msgid=abc;+draft/x=a\\sb\\:c\\\\d\\ne"
    line = tags + " :n!u@h PRIVMSG #a :x"
    ev = parse_line(line, tags_enabled=True)
    assert ev.tags == {
        "time": "2024-01-02T03:04:05.678Z",
        "msgid": "abc",
        "+draft/x": "a b;c\\d\ne",
    }
    assert ev.time == pytest.approx(1704164645.678)
    bare = parse_line(line, tags_enabled=False)
    assert bare.tags == {} and bare.time is None
    assert bare.command == "PRIVMSG" and bare.params == ["#a", "x"] and bare.nick == "n"


def test_tag_edge_cases():
    assert parse_tags("a;b=;c=1;;=x;d=tail\\") == {"a": "", "b": "", "c": "1", "d": "tail"}
    assert parse_tags("") == {}
    assert parse_server_time("garbage") is None
    assert parse_server_time(None) is None
    assert parse_server_time("2024-01-02T03:04:05") == pytest.approx(1704164645.0)


@pytest.mark.parametrize("seed", range(100))
def test_parser_never_raises_on_random_bytes(seed):
    rng = random.Random(seed)
    alphabet = b"@:; =!#\\ \x00\x01\xff\xc3abcPRIVMSG0123456789"
    data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
    reader = LineReader(max_line_bytes=128)
    for line, truncated in reader.feed(data + b"\r\n"):
        text = decode_line(line, "latin-1", truncated)
        for tags in (True, False):
            ev = parse_line(text, tags_enabled=tags)
            if ev is not None:
                assert ev.command and " " not in ev.command
