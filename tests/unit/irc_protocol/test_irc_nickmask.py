"""Our NickMask behaves as jaraco's ``irc.client.NickMask`` on every shape of prefix."""

import random

import pytest
from irc.client import NickMask as JaracoNickMask

from transport.backends.irc.protocol.nickmask import NickMask

SHAPES = ["pinky!username@example.com", "irc.server.net", "nick!user", "nick@host",
          "!user@host", "nick!@host", "nick!user@", "", "a!b!c@d@e", "красный!red@yahoo.ru",
          "n!u@h:1::2"]


@pytest.mark.parametrize("text", SHAPES)
def test_same_parts_as_jaraco(text: str) -> None:
    ours, theirs = NickMask(text), JaracoNickMask(text)
    assert (ours.nick, ours.user, ours.host, ours.userhost) == (
        theirs.nick, theirs.user, theirs.host, theirs.userhost)
    assert ours == text and isinstance(ours, str)


def test_random_prefixes_match_jaraco() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        text = "".join(rng.choice("ab!@.:~") for _ in range(rng.randrange(12)))
        ours, theirs = NickMask(text), JaracoNickMask(text)
        assert (ours.nick, ours.user, ours.host, ours.userhost) == (
            theirs.nick, theirs.user, theirs.host, theirs.userhost), text
