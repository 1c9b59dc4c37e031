"""UsersRepo: registration, legacy key uniqueness, and remove() cleaning up everything."""

from __future__ import annotations

import asyncio

import pytest

from transport.core.events import OutgoingMessage, XmppMessage
from transport.store import LegacyKeyTaken, Store, UserRecord

C = "sms.example.org"
ALICE = "alice@example.org"
BOB = "bob@example.org"


async def test_upsert_get_and_by_legacy_key(store: Store) -> None:
    await store.users.upsert(C, ALICE, "+12125550142", {"phone": "+12125550142"})
    user = await store.users.get(C, ALICE)
    assert isinstance(user, UserRecord)
    assert (user.component, user.jid, user.legacy_key) == (C, ALICE, "+12125550142")
    assert user.data == {"phone": "+12125550142"}
    assert user.registered_at > 0
    assert await store.users.by_legacy_key(C, "+12125550142") == user
    assert await store.users.get(C, BOB) is None
    assert await store.users.get("irc.example.org", ALICE) is None
    assert await store.users.by_legacy_key(C, "+12125550199") is None


async def test_legacy_key_taken_by_another_jid(store: Store) -> None:
    await store.users.upsert(C, ALICE, "+12125550142", {})
    with pytest.raises(LegacyKeyTaken) as info:
        await store.users.upsert(C, BOB, "+12125550142", {})
    assert info.value.owner_jid == ALICE
    assert await store.users.get(C, BOB) is None
    # the same key on another component is someone else's business
    await store.users.upsert("other.example.org", BOB, "+12125550142", {})


async def test_reregistering_replaces_key_and_data(store: Store) -> None:
    await store.users.upsert(C, ALICE, "+12125550142", {"phone": "+12125550142"})
    first = await store.users.get(C, ALICE)
    await store.users.upsert(C, ALICE, "+12125550143", {"phone": "+12125550143"})
    user = await store.users.get(C, ALICE)
    assert user is not None and first is not None
    assert user.legacy_key == "+12125550143"
    assert user.data == {"phone": "+12125550143"}
    assert user.registered_at == first.registered_at
    assert await store.users.by_legacy_key(C, "+12125550142") is None
    await store.users.upsert(C, BOB, "+12125550142", {})  # the old key is free again


async def test_users_without_legacy_key_do_not_collide(store: Store) -> None:
    await store.users.upsert(C, ALICE, None, {})
    await store.users.upsert(C, BOB, None, {})
    assert await store.users.count(C) == 2


async def test_list_and_count(store: Store) -> None:
    await store.users.upsert(C, BOB, "2", {})
    await store.users.upsert(C, ALICE, "1", {})
    await store.users.upsert("irc.example.org", "carol@example.org", None, {})
    assert [u.jid for u in await store.users.list(C)] == [ALICE, BOB]
    assert await store.users.count(C) == 2
    assert await store.users.count("nobody") == 0


async def _fill(store: Store, component: str, user: str, tag: str) -> None:
    await store.users.upsert(component, user, f"key-{user}", {})
    await store.subscriptions.set(component, user, "+12125550150", user_subscribed=True)
    await store.user_settings.set(component, user, "lang", "en")
    message = OutgoingMessage(
        user=user, sender_full_jid=f"{user}/phone", contact="+12125550150", stanza_id=tag, body="x"
    )
    await store.outbox.add(component, message, lane="lane")
    await store.id_maps.add(component, [f"SM{tag}"], user, f"{user}/phone", "c", tag, True)
    await store.xmpp_queue.enqueue(
        component,
        [
            XmppMessage(to=user, sender="s"),
            XmppMessage(to=f"{user}/phone", sender="s"),
        ],
    )


async def _counts(store: Store, component: str, user: str) -> tuple[int, ...]:
    sql = (
        ("SELECT count(*) FROM users WHERE component = ? AND jid = ?"),
        ("SELECT count(*) FROM subscriptions WHERE component = ? AND user = ?"),
        ("SELECT count(*) FROM user_settings WHERE component = ? AND user = ?"),
        ("SELECT count(*) FROM legacy_outbox WHERE component = ? AND user = ?"),
        ("SELECT count(*) FROM id_map WHERE component = ? AND user = ?"),
        (
            "SELECT count(*) FROM xmpp_queue WHERE component = ?"
            " AND (to_jid = ?2 OR to_jid LIKE ?2 || '/%')"
        ),
    )
    counts = []
    for query in sql:
        row = await store.db.fetchone(query, (component, user))
        assert row is not None
        counts.append(row[0])
    return tuple(counts)


async def test_remove_deletes_all_the_users_rows_and_only_them(store: Store) -> None:
    # "alice@example.org0" sorts right after "alice@example.org/" and must survive
    neighbours = [BOB, "alice@example.org0", "alice@example.orga"]
    await _fill(store, C, ALICE, "a")
    for index, other in enumerate(neighbours):
        await _fill(store, C, other, f"n{index}")
    await _fill(store, "irc.example.org", ALICE, "i")

    assert await store.users.remove(C, ALICE) is True
    assert await _counts(store, C, ALICE) == (0, 0, 0, 0, 0, 0)
    for other in neighbours:
        assert await _counts(store, C, other) == (1, 1, 1, 1, 1, 2)
    assert await _counts(store, "irc.example.org", ALICE) == (1, 1, 1, 1, 1, 2)
    assert await store.users.remove(C, ALICE) is False
    await store.users.upsert(C, BOB, "key-alice@example.org", {})  # key released


async def test_remove_cleans_up_after_an_unregistered_user(store: Store) -> None:
    await store.user_settings.set("irc.example.org", ALICE, "nick", "al")
    assert await store.users.remove("irc.example.org", ALICE) is False
    assert await store.user_settings.get_all("irc.example.org", ALICE) == {}


async def test_cached_lookups_follow_every_write(store: Store) -> None:
    """get() answers from a cache; registering, re-registering and removing must show."""
    assert await store.users.get(C, ALICE) is None
    await store.users.upsert(C, ALICE, "+12125550142", {"phone": "+12125550142"})
    first = await store.users.get(C, ALICE)
    assert first is not None and first.legacy_key == "+12125550142"
    await store.users.upsert(C, ALICE, "+12125550143", {"phone": "+12125550143"})
    second = await store.users.get(C, ALICE)
    assert second is not None and second.legacy_key == "+12125550143"
    assert await store.users.remove(C, ALICE)
    assert await store.users.get(C, ALICE) is None


async def test_lookup_racing_a_write_is_not_cached_stale(store: Store) -> None:
    """A read that started before a registration must not pin the old answer."""
    reads = [asyncio.ensure_future(store.users.get(C, ALICE)) for _ in range(20)]
    await store.users.upsert(C, ALICE, "+12125550142", {})
    await asyncio.gather(*reads)
    user = await store.users.get(C, ALICE)
    assert user is not None and user.legacy_key == "+12125550142"


async def test_lookup_cache_is_bounded(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type(store.users), "CACHE_SIZE", 3)
    for n in range(5):
        await store.users.upsert(C, f"u{n}@example.org", str(n), {})
    for n in range(5):
        user = await store.users.get(C, f"u{n}@example.org")
        assert user is not None and user.legacy_key == str(n)
    assert len(store.users._cache) == 3
