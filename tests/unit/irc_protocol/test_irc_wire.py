"""wire.py helpers: what may and may not reach the logs."""

from __future__ import annotations

import pytest

from transport.backends.irc.protocol.wire import redact


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        ("PASS secret", "PASS ****"),
        ("PASS :two words", "PASS ****"),
        ("OPER root pw", "OPER ****"),
        ("AUTHENTICATE PLAIN", "AUTHENTICATE PLAIN"),
        ("AUTHENTICATE +", "AUTHENTICATE +"),
        ("AUTHENTICATE dXNlcgB1c2VyAHB3", "AUTHENTICATE ****"),
        ("PRIVMSG NickServ :IDENTIFY pw", "PRIVMSG NickServ ****"),
        ("NS IDENTIFY pw", "NS ****"),
        # echo-message sends our own line back: received lines are redacted the same way
        (
            "@time=x :me!u@h PRIVMSG NickServ :REGISTER pw a@b",
            "@time=x :me!u@h PRIVMSG NickServ ****",
        ),
        ("PRIVMSG #chan :my PASS word", "PRIVMSG #chan :my PASS word"),
        (":srv 464 me :Password incorrect", ":srv 464 me :Password incorrect"),
        # channel keys are passwords too
        ("JOIN #chan sesame", "JOIN #chan ****"),
        ("JOIN #a,#b k1,k2", "JOIN #a,#b ****"),
        ("JOIN #chan", "JOIN #chan"),
        (":op!u@h MODE #chan +k sesame", ":op!u@h MODE #chan +k ****"),
        ("MODE #chan +ok nick sesame", "MODE #chan +ok ****"),
        (":srv 324 me #chan +knt sesame", ":srv 324 me #chan +knt ****"),
        ("MODE #chan +b *!*@bad", "MODE #chan +b *!*@bad"),
        (":srv 324 me #chan +nt", ":srv 324 me #chan +nt"),
    ],
)
def test_redact(line, logged):
    assert redact(line) == logged
