"""Reading CTCP VERSION replies into XEP-0092 name, version and os."""

import pytest

from transport.backends.irc.from_xmpp.ctcp import parse_version
from transport.core.backend import SoftwareVersion


@pytest.mark.parametrize(("text", "expected"), [
    ("irssi v1.4.3 - running on Linux x86_64", ("irssi", "1.4.3", "Linux x86_64")),
    ("HexChat 2.16.1 [x64] / Linux 6.1.0 [x86_64/2.00GHz/SMP]",
     ("HexChat", "2.16.1 [x64]", "Linux 6.1.0 [x86_64/2.00GHz/SMP]")),
    ("WeeChat 3.8 (Feb 12 2023)", ("WeeChat", "3.8 (Feb 12 2023)", "")),
    ("lolbot:1.0:Plan 9", ("lolbot", "1.0", "Plan 9")),
    ("Textual (v7.2.1)", ("Textual", "7.2.1", "")),
    ("xmpp-transport IRC gateway", ("xmpp-transport IRC gateway", "", "")),
    ("  bare\x02bold\x1f  ", ("barebold", "", "")),  # mIRC formatting is stripped
])
def test_parse_version(text, expected):
    assert parse_version(text) == SoftwareVersion(*expected)
