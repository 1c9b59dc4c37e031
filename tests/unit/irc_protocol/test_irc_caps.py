"""caps.py and state.py: CAP LS 302 / SASL PLAIN and registration-time nick handling."""

from __future__ import annotations

import base64

from transport.backends.irc.protocol.caps import CapNegotiator, sasl_plain_payload
from transport.backends.irc.protocol.message import parse_line
from transport.backends.irc.protocol.state import ClientState, greeting


def ev(line: str):
    parsed = parse_line(line, tags_enabled=True)
    assert parsed is not None
    return parsed


def test_ls_302_multiline_then_req_then_end():
    neg = CapNegotiator()
    assert neg.start() == ["CAP LS 302"]
    assert neg.handle(ev(":s CAP * LS * :multi-prefix sasl=PLAIN,EXTERNAL foo")).send == []
    step = neg.handle(ev(":s CAP * LS :server-time message-tags echo-message bar"))
    assert step.send == ["CAP REQ :echo-message message-tags multi-prefix server-time"]
    assert not neg.tags_enabled
    step = neg.handle(ev(":s CAP * ACK :echo-message message-tags multi-prefix server-time"))
    assert step.send == ["CAP END"] and step.finished
    assert neg.enabled == {"echo-message", "message-tags", "multi-prefix", "server-time"}
    assert neg.tags_enabled
    assert neg.offered["sasl"] == "PLAIN,EXTERNAL"


def test_nothing_wanted_ends_immediately():
    neg = CapNegotiator()
    step = neg.handle(ev(":s CAP * LS :foo bar"))
    assert step.send == ["CAP END"] and step.finished


def test_nak_of_a_group_retries_one_by_one():
    neg = CapNegotiator()
    step = neg.handle(ev(":s CAP * LS :multi-prefix server-time"))
    assert step.send == ["CAP REQ :multi-prefix server-time"]
    step = neg.handle(ev(":s CAP me NAK :multi-prefix server-time"))
    assert step.send == ["CAP REQ :multi-prefix", "CAP REQ :server-time"]
    assert neg.handle(ev(":s CAP me ACK :multi-prefix")).send == []
    step = neg.handle(ev(":s CAP me NAK :server-time"))
    assert step.send == ["CAP END"]
    assert neg.enabled == {"multi-prefix"}


def test_server_without_cap():
    neg = CapNegotiator()
    step = neg.handle(ev(":s 421 * CAP :Unknown command"))
    assert step.send == ["CAP END"] and step.finished
    neg = CapNegotiator()
    step = neg.handle(ev(":s 001 me :Welcome"))
    assert step.finished and step.send == [] and step.error is None


def test_sasl_plain_success():
    neg = CapNegotiator(sasl_plain=("acct", "s3cret"))
    step = neg.handle(ev(":s CAP * LS :sasl=PLAIN multi-prefix"))
    assert step.send == ["CAP REQ :multi-prefix sasl"]
    assert neg.handle(ev(":s CAP * ACK :multi-prefix sasl")).send == ["AUTHENTICATE PLAIN"]
    step = neg.handle(ev("AUTHENTICATE +"))
    (line,) = step.send
    assert base64.b64decode(line.split()[1]) == b"acct\0acct\0s3cret"
    neg.handle(ev(":s 900 me me!u@h acct :You are now logged in as acct"))
    step = neg.handle(ev(":s 903 me :SASL authentication successful"))
    assert step.send == ["CAP END"] and step.finished and neg.sasl_ok
    assert neg.account == "acct"


def test_sasl_failure_required_and_optional():
    neg = CapNegotiator(sasl_plain=("acct", "bad"))
    neg.handle(ev(":s CAP * LS :sasl"))
    neg.handle(ev(":s CAP * ACK :sasl"))
    neg.handle(ev("AUTHENTICATE +"))
    step = neg.handle(ev(":s 904 me :SASL authentication failed"))
    assert step.error and "SASL authentication failed" in step.error
    assert step.send == ["QUIT :SASL authentication failed"]

    neg = CapNegotiator(sasl_plain=("acct", "bad"), sasl_required=False)
    neg.handle(ev(":s CAP * LS :sasl"))
    neg.handle(ev(":s CAP * ACK :sasl"))
    neg.handle(ev("AUTHENTICATE +"))
    step = neg.handle(ev(":s 904 me :SASL authentication failed"))
    assert step.error is None and step.send == ["CAP END"]


def test_sasl_not_offered_or_no_plain():
    neg = CapNegotiator(sasl_plain=("a", "b"))
    step = neg.handle(ev(":s CAP * LS :multi-prefix"))
    assert step.send == ["CAP REQ :multi-prefix"]
    step = neg.handle(ev(":s CAP * ACK :multi-prefix"))
    assert step.error == "server does not offer SASL PLAIN"
    neg = CapNegotiator(sasl_plain=("a", "b"))
    step = neg.handle(ev(":s CAP * LS :sasl=EXTERNAL"))
    assert step.error
    neg = CapNegotiator(sasl_plain=("a", "b"))
    step = neg.handle(ev(":s 001 me :Welcome"))
    assert step.error == "server does not offer SASL"


def test_sasl_payload_chunking():
    assert sasl_plain_payload("", "")[-1] != ""
    pieces = sasl_plain_payload("u" * 100, "p" * 98)  # 300 bytes -> exactly 400 base64
    assert len(pieces) == 2 and len(pieces[0]) == 400 and pieces[-1] == "+"
    pieces = sasl_plain_payload("u" * 300, "p")
    assert [len(p) for p in pieces] == [400, 400, 4]


def test_cap_notify_new_and_del_after_registration():
    neg = CapNegotiator()
    neg.handle(ev(":s CAP * LS :multi-prefix"))
    neg.handle(ev(":s CAP * ACK :multi-prefix"))
    step = neg.handle(ev(":s CAP me NEW :away-notify unknown sasl"))
    assert step.send == ["CAP REQ :away-notify"]
    neg.handle(ev(":s CAP me ACK :away-notify"))
    assert "away-notify" in neg.enabled
    neg.handle(ev(":s CAP me DEL :away-notify"))
    assert "away-notify" not in neg.enabled
    neg.handle(ev(":s CAP me ACK :-multi-prefix"))
    assert neg.enabled == set()


def test_malformed_cap_lines_do_not_crash():
    neg = CapNegotiator()
    for line in ["CAP", ":s CAP", ":s CAP *", ":s CAP * LS", ":s CAP * ACK", "AUTHENTICATE"]:
        neg.handle(ev(line))
    for line in [":s 903", ":s 904", ":s 900", ":s 410"]:
        neg.handle(ev(line))


# -- state.py ---------------------------------------------------------------------------


def test_nick_in_use_before_welcome():
    state = ClientState("nick", max_nick_attempts=2)
    assert state.handle(ev(":s 433 * nick :in use")).send == ["NICK nick_"]
    assert state.nick == "nick_"
    assert state.handle(ev(":s 433 * nick_ :in use")).send == ["NICK nick__"]
    assert state.handle(ev(":s 433 * nick__ :in use")).error == "nickname nick__ is in use"


def test_nick_in_use_callback_can_give_up_or_choose():
    state = ClientState("nick", nick_in_use=lambda n: None)
    assert state.handle(ev(":s 433")).error == "nickname nick is in use"
    state = ClientState("nick", nick_in_use=lambda n: "other")
    assert state.handle(ev(":s 437 * nick :unavailable")).send == ["NICK other"]
    state = ClientState("nick", nick_in_use=lambda n: "bad nick\r\nQUIT")
    assert state.handle(ev(":s 433 * nick :x")).error


def test_welcome_and_self_tracking():
    state = ClientState("me")
    step = state.handle(ev(":irc.test 001 Me :Welcome to the network Me!~me@10.0.0.1"))
    assert step.welcomed and state.nick == "Me" and state.server == "irc.test"
    assert state.mask == "Me!~me@10.0.0.1"
    assert state.prefix_len == len("Me!~me@10.0.0.1")
    state.handle(ev(":irc.test 005 Me CASEMAPPING=rfc1459 :are supported"))
    state.handle(ev(":ME!~me@cloak JOIN #a"))
    assert state.mask == "ME!~me@cloak"
    state.handle(ev(":Me!~me@cloak NICK :[New]"))
    assert state.nick == "[New]" and state.mask == "[New]!~me@cloak"
    state.handle(ev(":{new}!~me@cloak CHGHOST ident new.host"))
    assert state.mask == "[New]!ident@new.host"
    state.handle(ev(":srv 396 [New] vhost.example :is now your displayed host"))
    assert state.mask == "[New]!ident@vhost.example"
    state.handle(ev(":other!x@y NICK z"))
    assert state.nick == "[New]"
    # 433 after registration is the backend's business, not ours.
    assert state.handle(ev(":s 433 [New] x :in use")).send == []


def test_unknown_mask_uses_worst_case():
    assert ClientState("abc").prefix_len == 3 + 1 + 11 + 1 + 63


def test_greeting_refuses_injection():
    assert greeting("n", None, "Real Name\r\nQUIT", "pw") == [
        "PASS pw",
        "NICK n",
        "USER n 0 * :Real Name QUIT",
    ]
    assert greeting("n", "u", None, "with space")[0] == "PASS :with space"
    for bad in [
        ("n n", None, None, None),
        ("n\r\nQUIT", None, None, None),
        ("n", "u\x00", None, None),
        (":n", None, None, None),
        ("n", None, None, "p\r\nQUIT"),
        ("", None, None, None),
    ]:
        try:
            greeting(*bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")
