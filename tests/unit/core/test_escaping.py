import pytest

from transport.xmpp.escaping import escape_node, unescape_node


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("space cadet", r"space\20cadet"),
        ('call me "ishmael"', r"call\20me\20\22ishmael\22"),
        ("at&t guy", r"at\26t\20guy"),
        ("d'artagnan", r"d\27artagnan"),
        ("/.fanboy", r"\2f.fanboy"),
        ("::foo::", r"\3a\3afoo\3a\3a"),
        ("<foo>", r"\3cfoo\3e"),
        ("user@host", r"user\40host"),
        ("c:\\net", r"c\3a\net"),
        ("c:\\\\net", r"c\3a\\net"),
        ("c:\\cool stuff", r"c\3a\cool\20stuff"),
        ("c:\\5commas", r"c\3a\5c5commas"),
        ("#chan%irc.example.org", "#chan%irc.example.org"),
    ],
)
def test_xep_0106_examples_round_trip(raw: str, escaped: str) -> None:
    assert escape_node(raw) == escaped
    assert unescape_node(escaped) == raw


def test_leading_or_trailing_space_is_refused() -> None:
    with pytest.raises(ValueError):
        escape_node(" x")
    with pytest.raises(ValueError):
        escape_node("x ")


def test_unknown_sequences_are_left_alone() -> None:
    assert unescape_node(r"a\41b") == r"a\41b"
