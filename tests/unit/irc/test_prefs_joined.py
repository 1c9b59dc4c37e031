"""The record of the channels each user is in (``irc_joined``), which restarts rejoin from,
and the migration that adds it to a file written by the previous release."""

from __future__ import annotations

import json
from pathlib import Path

from transport.backends.irc.config.prefs import ChannelPrefs, GlobalPrefs, Joined, PrefsStore
from transport.backends.irc.schema import MIGRATIONS
from transport.store import Store
from transport.store.migrations import schema_version

GW = "irc.localhost"
OTHER = "irc2.localhost"
SRV = "irc.example.org"
ALICE = "alice@localhost"
BOB = "bob@localhost"


async def ids(prefs: PrefsStore) -> list[tuple[str, str, str]]:
    """(user, server, folded channel) of every record, sorted."""
    return sorted((j.user, j.server, j.channel) for j in await prefs.joined())


async def test_joined_channels_are_recorded_once_per_user_server_and_channel(store) -> None:
    prefs = PrefsStore(store.backend_storage("irc"), GW)
    await prefs.remember(ALICE, SRV, "#a")
    await prefs.remember(ALICE, "IRC.Example.ORG", "#a")
    await prefs.remember(ALICE, SRV, "#b")
    await prefs.remember(BOB, SRV, "#a")
    await PrefsStore(store.backend_storage("irc"), OTHER).remember(ALICE, SRV, "#elsewhere")
    assert await ids(prefs) == [(ALICE, SRV, "#a"), (ALICE, SRV, "#b"), (BOB, SRV, "#a")]
    await prefs.left(ALICE, SRV.upper(), "#a")
    await prefs.left(ALICE, SRV, "#never")
    assert await ids(prefs) == [(ALICE, SRV, "#b"), (BOB, SRV, "#a")]
    assert await ids(PrefsStore(
        store.backend_storage("irc"), OTHER)) == [(ALICE, SRV, "#elsewhere")]


async def test_a_channel_made_persistent_is_recorded_even_when_not_joined(store) -> None:
    prefs = PrefsStore(store.backend_storage("irc"), GW)
    await prefs.set_channel(ALICE, SRV, "#enc", ChannelPrefs(encoding_in="cp1252"))
    await prefs.set_channel(ALICE, SRV, "#off", ChannelPrefs(persistent=False))
    assert await prefs.joined() == []
    await prefs.set_channel(ALICE, SRV, "#kept", ChannelPrefs(persistent=True))
    assert await prefs.joined() == [Joined(ALICE, SRV, "#kept", "#kept", "")]
    await prefs.left(ALICE, SRV, "#kept")
    # Saving other settings of a channel that already was persistent does not record it again:
    # only becoming persistent does.
    await prefs.set_channel(ALICE, SRV, "#kept", ChannelPrefs(persistent=True, encoding_in="utf-8"))
    assert await prefs.joined() == []
    await prefs.set_global(ALICE, GlobalPrefs(persistent=True))
    assert await prefs.joined() == [], "a default applies to channels joined, not to all"


async def test_forgetting_a_user_drops_their_records(store) -> None:
    prefs = PrefsStore(store.backend_storage("irc"), GW)
    await prefs.remember(ALICE, SRV, "#a")
    await prefs.remember(BOB, SRV, "#a")
    await prefs.set_channel(ALICE, SRV, "#a", ChannelPrefs(persistent=True))
    await prefs.forget(ALICE)
    assert await ids(prefs) == [(BOB, SRV, "#a")]
    assert await prefs.channel_prefs(ALICE, SRV, "#a") == ChannelPrefs()


def _row(component: str, user: str, scope: str, data: object) -> tuple[str, str, str, str]:
    return (component, user, scope, data if isinstance(data, str) else json.dumps(data))


async def test_upgrade_from_version_1_keeps_data_and_carries_persistent_channels_over(
        tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = await Store.open(path, extra_migrations={"irc": MIGRATIONS[:1]})
    rows = [
        _row(GW, ALICE, f"channel:{SRV}:#kept", {"persistent": True, "encoding_in": "cp1252"}),
        _row(GW, ALICE, f"channel:{SRV}:#off", {"persistent": False}),
        _row(GW, ALICE, f"channel:{SRV}:#unset", {"persistent": None, "record_history": True}),
        _row(GW, ALICE, "global", {"max_history_length": 5, "persistent": True}),
        _row(GW, BOB, "channel:127.0.0.1:#b&c", {"persistent": True}),
        _row(OTHER, BOB, f"channel:{SRV}:#other", {"persistent": True}),
        _row(GW, BOB, f"server:{SRV}", {"nick": "bobby", "ports": [6667]}),
        _row(GW, BOB, f"channel:{SRV}:#broken", "{not json"),
    ]
    await old.db.executemany("INSERT INTO irc_prefs VALUES (?, ?, ?, ?)", rows)
    await old.db.execute(
        "INSERT INTO irc_archive_channels (component, server, channel) VALUES (?, ?, ?)",
        (GW, SRV, "#kept"))
    assert await schema_version(old.db, "irc") == 1
    await old.close()

    store = await Store.open(path, extra_migrations={"irc": MIGRATIONS})
    try:
        assert await schema_version(store.db, "irc") == len(MIGRATIONS)
        prefs = PrefsStore(store.backend_storage("irc"), GW)
        assert await ids(prefs) == [(ALICE, SRV, "#kept"), (BOB, "127.0.0.1", "#b&c")]
        assert await ids(PrefsStore(store.backend_storage("irc"), OTHER)) == [(BOB, SRV, "#other")]
        assert await prefs.channel_prefs(ALICE, SRV, "#kept") == ChannelPrefs(
            persistent=True, encoding_in="cp1252")
        assert await prefs.global_prefs(ALICE) == GlobalPrefs(max_history_length=5,
                                                              persistent=True)
        assert (await prefs.server_prefs(BOB, SRV)).ports == (6667,)
        archived = await store.db.fetchall("SELECT component, server, channel "
                                           "FROM irc_archive_channels")
        assert [tuple(r) for r in archived] == [(GW, SRV, "#kept")]
    finally:
        await store.close()


async def test_a_join_records_the_channels_name_and_key_and_later_changes_keep_them(
        store) -> None:
    prefs = PrefsStore(store.backend_storage("irc"), GW)
    await prefs.remember(ALICE, SRV, "#keyed", "#Keyed", "sesame")
    assert await prefs.joined() == [Joined(ALICE, SRV, "#keyed", "#Keyed", "sesame")]
    # Becoming persistent (from a form) says neither name nor key: both stay.
    await prefs.set_channel(ALICE, SRV, "#keyed", ChannelPrefs(persistent=True))
    await prefs.remember(ALICE, SRV, "#keyed")
    assert await prefs.joined() == [Joined(ALICE, SRV, "#keyed", "#Keyed", "sesame")]
    # A new key (MODE +k), then none (MODE -k).
    await prefs.remember(ALICE, SRV, "#keyed", "#Keyed", "other")
    assert (await prefs.joined())[0].key == "other"
    await prefs.remember(ALICE, SRV, "#keyed", "#KEYED", "")
    assert await prefs.joined() == [Joined(ALICE, SRV, "#keyed", "#KEYED", "")]


def test_a_joined_record_never_shows_its_key() -> None:
    record = Joined(ALICE, SRV, "#keyed", "#Keyed", "sesame")
    assert "sesame" not in repr(record) and "sesame" not in str(record)
    assert "#Keyed" in repr(record)


async def test_upgrade_from_version_2_keeps_the_joined_channels(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    old = await Store.open(path, extra_migrations={"irc": MIGRATIONS[:2]})
    await old.db.executemany(
        "INSERT INTO irc_joined (component, user, server, channel) VALUES (?, ?, ?, ?)",
        [(GW, ALICE, SRV, "#kept"), (GW, BOB, "127.0.0.1", "#b&c"),
         (OTHER, BOB, SRV, "#other")])
    await old.db.execute("INSERT INTO irc_prefs VALUES (?, ?, ?, ?)",
                         _row(GW, ALICE, f"channel:{SRV}:#kept", {"persistent": True}))
    assert await schema_version(old.db, "irc") == 2
    await old.close()

    store = await Store.open(path, extra_migrations={"irc": MIGRATIONS})
    try:
        assert await schema_version(store.db, "irc") == len(MIGRATIONS)
        prefs = PrefsStore(store.backend_storage("irc"), GW)
        # No name or key was recorded: the folded name, no key, as version 2 rejoined.
        assert sorted(await prefs.joined()) == [
            Joined(ALICE, SRV, "#kept", "#kept", ""),
            Joined(BOB, "127.0.0.1", "#b&c", "#b&c", "")]
        assert await PrefsStore(store.backend_storage("irc"), OTHER).joined() == [
            Joined(BOB, SRV, "#other", "#other", "")]
        assert await prefs.channel_prefs(ALICE, SRV, "#kept") == ChannelPrefs(persistent=True)
        # The next join of an old record fills in its name and key; leaving still forgets it.
        await prefs.remember(ALICE, SRV, "#kept", "#Kept", "sesame")
        await prefs.left(BOB, "127.0.0.1", "#b&c")
        assert await prefs.joined() == [Joined(ALICE, SRV, "#kept", "#Kept", "sesame")]
    finally:
        await store.close()
