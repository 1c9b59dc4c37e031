"""biboumi's JID scheme, XEP-0106 escaping, CHANTYPES/CASEMAPPING, settings and text."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from transport.backends.irc.addressing import Address, Jids, NetworkInfo, canonical, parse
from transport.backends.irc.config.settings import parse_settings
from transport.backends.irc.history.line_log import LineLog, NullHistory
from transport.backends.irc.protocol import ISupport
from transport.backends.irc.session.channel_state import (
    AFFILIATION_MODES,
    Channel,
    mode_line,
    parse_modes,
    role_affiliation,
)
from transport.backends.irc.text import PASSTHROUGH, clean, reencode
from transport.core.errors import AddressError
from transport.xmpp.muc.joins import history_request


def test_localparts_are_parsed_like_biboumi() -> None:
    info = NetworkInfo()
    assert parse("#Chan%Irc.Example.org", info) == Address("channel", "irc.example.org", "#Chan")
    assert parse("&local%h.org", info) == Address("channel", "h.org", "&local")
    assert parse("Nick%h.org", info) == Address("nick", "h.org", "Nick")
    assert parse("h.org", info) == Address("server", "h.org")
    assert parse("%h.org", info) == Address("host_pm", "h.org")
    assert parse(r"#a\2fb\40c%h.org", info) == Address("channel", "h.org", "#a/b@c")
    for bad in ("#a b%h.org", "bad host", "n!ck%h.org", "#x%", "%"):
        with pytest.raises(AddressError):
            parse(bad, info)


def test_chantypes_and_casemapping_follow_the_server() -> None:
    info = NetworkInfo()
    assert parse("+chan%h.org", info).kind == "nick"
    assert canonical(parse("#[A]%H.org", info), info) == "#{a}%h.org"  # rfc1459 default
    info.learn("h.org", ISupport({"CHANTYPES": "#+", "CASEMAPPING": "ascii"}))
    assert parse("+chan%h.org", info).kind == "channel"
    assert canonical(parse("#[A]%H.org", info), info) == "#[a]%h.org"  # same input, new rules
    assert canonical(parse(r"#a\2fb%h.org", info), info) == r"#a\2fb%h.org"


def test_canonical_is_stable() -> None:
    info = NetworkInfo()
    for local in ("#Chan%H.org", "Nick%h.ORG", "H.org", "%H.org"):
        once = canonical(parse(local, info), info)
        assert canonical(parse(once, info), info) == once


def test_nick_jids_fall_back_when_no_localpart_can_hold_them() -> None:
    jids = Jids("irc.localhost")
    assert jids.nick("h", "Bob") == "bob%h@irc.localhost"
    assert jids.nick("h", "a'b") == r"a\27b%h@irc.localhost"
    assert jids.nick("h", "a\x01b") == "%h@irc.localhost/a\x01b"


def test_roles_and_modes_follow_biboumis_table() -> None:
    isupport = ISupport({"PREFIX": "(qaohv)~&@%+"})
    assert role_affiliation("", isupport) == ("participant", "none")
    assert role_affiliation("v", isupport) == ("participant", "member")
    assert role_affiliation("hv", isupport) == ("moderator", "member")
    assert role_affiliation("ov", isupport) == ("moderator", "admin")
    assert role_affiliation("q", isupport) == ("moderator", "owner")
    assert mode_line("#c", "n", "", AFFILIATION_MODES["member"], isupport) == "MODE #c +v n"
    assert mode_line("#c", "n", "ov", AFFILIATION_MODES["none"], isupport) == "MODE #c -vo n n"
    assert mode_line("#c", "n", "o", AFFILIATION_MODES["admin"], isupport) == ""
    assert parse_modes(["+ok-v", "a", "key", "b"], isupport) == [
        (True, "o", "a"), (True, "k", "key"), (False, "v", "b")]
    channel = Channel("#c", "#c", "#c%h")
    member = channel.add_member("@+nick!u@host", isupport)
    assert (member.nick, member.modes, member.user, member.host) == ("nick", "ov", "u", "host")


def test_settings_report_every_problem() -> None:
    settings = parse_settings({"servers": {"Irc.X": {"port": 6667, "tls": False}}})
    assert settings.server("irc.x") is not None and settings.server("other") is None
    assert parse_settings({"allow_any_server": True}).server("other") is not None
    with pytest.raises(ExceptionGroup) as err:
        parse_settings({"bogus": 1, "throttle_limit": "x",
                        "servers": {"h": {"port": 0, "encoding": "nope"}}})
    keys = sorted(e.key for e in err.value.exceptions)
    assert keys == ["bogus", 'servers."h".encoding', 'servers."h".port', "throttle_limit"]


def test_text_from_irc_is_recovered_and_made_xml_safe() -> None:
    raw = b"caf\xe9 \x02bold\x02 \x0304,01red\x03 \x07bell"
    text = raw.decode(PASSTHROUGH)
    assert clean(text) == "café bold red bell"
    assert clean(b"\xc3\xa9t\xe9".decode(PASSTHROUGH), "cp1252") == "Ã©té"
    assert reencode("é".encode(), "latin-1") == b"\xe9"
    assert reencode("é".encode(), "utf-8") == "é".encode()


def test_line_log_records_each_channel_line_once() -> None:
    recorded: list[str] = []

    class Recording(NullHistory):
        def record(self, server, channel, nick, kind, body, timestamp):  # type: ignore[no-untyped-def]
            recorded.append(body)
            return f"uid{len(recorded)}"

    log = LineLog(Recording())
    a, b = object(), object()
    first = [log.uid_for(a, "h", "#c", "n", "message", body, 0.0) for body in ("x", "x", "y")]
    second = [log.uid_for(b, "h", "#c", "n", "message", body, 0.0) for body in ("x", "x", "y")]
    assert first == second == ["uid1", "uid2", "uid3"]
    assert recorded == ["x", "x", "y"]


def test_history_request_attributes() -> None:
    muc = ET.fromstring('<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="5" '
                        'maxchars="bad" since="2024-01-02T03:04:05Z"/></x>')
    request = history_request(muc)
    assert request.maxstanzas == 5 and request.maxchars is None
    assert request.since == 1704164645.0


def test_line_log_window_is_bounded_and_indexes_forget_expired_lines() -> None:
    from transport.backends.irc.history import line_log as history

    class Counting(NullHistory):
        def __init__(self) -> None:
            self.count = 0

        def record(self, server: str, channel: str, nick: str, kind: str, body: str,
                   timestamp: float) -> str:
            self.count += 1
            return f"uid{self.count}"

    archive = Counting()
    log = LineLog(archive)
    a, b = object(), object()
    total = history._MAX_RECENT + 500
    uids_a = [log.uid_for(a, "h", "#c", "n", "message", f"line {i}", 0.0)
              for i in range(total)]
    lines = log._recent[("h", "#c")]
    assert len(lines.order) <= history._MAX_RECENT + 1
    assert sum(len(v) for v in lines.by_print.values()) == len(lines.order)
    # b's copies of lines still in the window get a's uids; an expired one is new.
    tail = [log.uid_for(b, "h", "#c", "n", "message", f"line {i}", 0.0)
            for i in range(total - 700, total)]
    assert tail == uids_a[-700:]
    assert archive.count == total
    assert log.uid_for(b, "h", "#c", "n", "message", "line 0", 0.0) == f"uid{total + 1}"
