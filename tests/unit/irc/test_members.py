"""Shared, immutable channel members: every change puts another member in the list, so one
connection's view never leaks into another's, and equal members are one object."""

from __future__ import annotations

import gc

import pytest

from transport.backends.irc.protocol import ISupport
from transport.backends.irc.session.channel_state import Channel
from transport.backends.irc.session.member_pool import POOL, Member, MemberPool

ISUP = ISupport({"PREFIX": "(qaohv)~&@%+", "CASEMAPPING": "rfc1459"})


def channel() -> Channel:
    return Channel("#c", "#c", "#c%h")


def test_members_are_immutable() -> None:
    member = channel().add_member("@nick!u@h", ISUP)
    with pytest.raises(AttributeError):
        member.modes = ""  # type: ignore[misc]


def test_equal_members_are_shared_across_channels_and_keys_interned() -> None:
    a, b = channel(), channel()
    first = a.add_member("@Nick!u@host", ISUP)
    second = b.add_member("@Nick!u@host", ISUP)
    assert first is second
    key_a, key_b = next(iter(a.members)), next(iter(b.members))
    assert key_a == "nick" and key_a is key_b


def test_names_entries_merge_with_what_is_known() -> None:
    c = channel()
    joined = c.add_member("Nick!user@host", ISUP)  # JOIN: user and host, no modes
    assert (joined.modes, joined.user, joined.host) == ("", "user", "host")
    named = c.add_member("+@nick", ISUP)  # NAMES: modes, no user@host
    assert named.nick == "nick"  # the spelling the server used last
    assert (named.modes, named.user, named.host) == ("ov", "user", "host")
    assert c.member("NICK", ISUP) is named and len(c.members) == 1


def test_a_mode_change_in_one_connection_is_not_seen_by_another() -> None:
    mine, theirs = channel(), channel()
    for c in (mine, theirs):
        c.add_member("nick!u@h", ISUP)
    before = theirs.member("nick", ISUP)
    opped = mine.change_mode("Nick", "o", True, ISUP)
    assert opped is not None and opped.modes == "o"
    assert mine.member("nick", ISUP) is opped
    assert theirs.member("nick", ISUP) is before and before is not None and before.modes == ""
    voiced = mine.change_mode("nick", "v", True, ISUP)
    assert voiced is not None and voiced.modes == "ov"  # PREFIX order
    devoiced = mine.change_mode("nick", "o", False, ISUP)
    assert devoiced is not None and devoiced.modes == "v"
    assert mine.change_mode("ghost", "o", True, ISUP) is None


def test_away_and_host_changes_keep_everything_else() -> None:
    c, other = channel(), channel()
    c.add_member("@nick!u@h", ISUP)
    other.add_member("@nick!u@h", ISUP)
    away = c.set_away("nick", True, ISUP)
    assert away is not None and (away.away, away.modes, away.user) == (True, "o", "u")
    assert c.set_away("nick", True, ISUP) is None  # no change, nothing to tell
    moved = c.set_host("nick", "v", None, ISUP)
    assert moved is not None and (moved.user, moved.host, moved.away) == ("v", None, True)
    seen = other.member("nick", ISUP)
    assert seen is not None and (seen.away, seen.user, seen.host) == (False, "u", "h")
    rejoined = c.add_member("nick", ISUP)  # NAMES again: away and host are kept
    assert (rejoined.away, rejoined.user, rejoined.modes) == (True, "v", "o")


def test_rename_moves_the_member_and_keeps_its_state() -> None:
    c, other = channel(), channel()
    c.add_member("@old!u@h", ISUP)
    other.add_member("@old!u@h", ISUP)
    c.set_away("old", True, ISUP)
    renamed = c.rename("Old", "[New]", ISUP)
    assert renamed is not None
    assert (renamed.nick, renamed.modes, renamed.user, renamed.away) == ("[New]", "o", "u", True)
    assert c.member("old", ISUP) is None and c.member("{new}", ISUP) is renamed
    assert other.member("old", ISUP) is not None  # the other connection saw no NICK yet
    assert c.rename("ghost", "x", ISUP) is None


def test_parts_remove_only_from_that_list() -> None:
    c, other = channel(), channel()
    c.add_member("nick!u@h", ISUP)
    other.add_member("nick!u@h", ISUP)
    gone = c.remove_member("NICK", ISUP)
    assert gone is not None and gone.nick == "nick"
    assert c.member("nick", ISUP) is None and other.member("nick", ISUP) is gone
    assert c.remove_member("nick", ISUP) is None


def test_the_pool_forgets_members_nobody_uses() -> None:
    pool = MemberPool()
    member = pool.get("someone", "o", "u", "h")
    assert pool.get("someone", "o", "u", "h") is member and len(pool) == 1
    assert pool.get("someone", "", "u", "h") is not member
    del member
    gc.collect()
    assert len(pool) == 0
    assert pool.changed(pool.get("a", user="u", host="h"), user=None, host=None,
                        userhost=True) == Member("a")


def test_standalone_members_still_compare_by_value() -> None:
    assert POOL.get("x", "v") == Member("x", "v")
