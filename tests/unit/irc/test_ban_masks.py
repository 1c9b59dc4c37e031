"""Ban masks as servers store them, so a ban list read back can say whether a ban holds
(servers do not echo a ban change that changes nothing)."""

from __future__ import annotations

import pytest

from transport.backends.irc.from_xmpp.bans import listed, normal_mask
from transport.backends.irc.protocol import ISupport


@pytest.mark.parametrize(("mask", "stored"), [
    ("troll", "troll!*@*"),
    ("*@bad.host", "*!*@bad.host"),
    ("troll!user", "troll!user@*"),
    ("*!*@bad.host", "*!*@bad.host"),
])
def test_short_masks_are_completed_as_servers_do(mask: str, stored: str) -> None:
    assert normal_mask(mask) == stored


def test_a_mask_is_found_in_a_ban_list_as_the_server_compares() -> None:
    entries = [("Troll!*@*", "op!u@h", "1700000000"), ("*!*@bad.host", "op", "0")]
    rfc = ISupport({"CASEMAPPING": "rfc1459"})
    assert listed(entries, "troll", rfc)
    assert listed(entries, "*@BAD.host", rfc)
    assert not listed(entries, "other", rfc)
    assert not listed([], "troll", rfc)
    assert listed([("nick[a]!*@*",)], "NICK{A}", rfc)
    assert not listed([("nick[a]!*@*",)], "NICK{A}", ISupport({"CASEMAPPING": "ascii"}))
