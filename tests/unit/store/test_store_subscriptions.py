"""SubscriptionsRepo: the two directions change independently; empty pairs disappear."""

from __future__ import annotations

from transport.store import Store, Subscription

C = "sms.example.org"
ALICE = "alice@example.org"


async def test_set_changes_only_given_directions(store: Store) -> None:
    sub = await store.subscriptions.set(C, ALICE, "+12125550142", user_subscribed=True)
    assert (sub.user_subscribed, sub.contact_subscribed) == (True, False)
    sub = await store.subscriptions.set(C, ALICE, "+12125550142", contact_subscribed=True)
    assert (sub.user_subscribed, sub.contact_subscribed) == (True, True)
    got = await store.subscriptions.get(C, ALICE, "+12125550142")
    assert isinstance(got, Subscription)
    assert (got.user, got.contact, got.user_subscribed, got.contact_subscribed) == (
        ALICE,
        "+12125550142",
        True,
        True,
    )
    await store.subscriptions.set(C, ALICE, "+12125550142", user_subscribed=False)
    got = await store.subscriptions.get(C, ALICE, "+12125550142")
    assert got is not None and (got.user_subscribed, got.contact_subscribed) == (False, True)


async def test_pair_with_neither_direction_is_deleted(store: Store) -> None:
    await store.subscriptions.set(C, ALICE, "", user_subscribed=True, contact_subscribed=True)
    sub = await store.subscriptions.set(
        C, ALICE, "", user_subscribed=False, contact_subscribed=False
    )
    assert (sub.user_subscribed, sub.contact_subscribed) == (False, False)
    assert await store.subscriptions.get(C, ALICE, "") is None
    assert await store.subscriptions.count(C) == 0
    # unsubscribing something that never existed stores nothing
    await store.subscriptions.set(C, ALICE, "x", contact_subscribed=False)
    assert await store.subscriptions.count(C) == 0


async def test_for_user_users_remove_user_and_count(store: Store) -> None:
    await store.subscriptions.set(C, ALICE, "b", user_subscribed=True)
    await store.subscriptions.set(C, ALICE, "a", contact_subscribed=True)
    await store.subscriptions.set(C, "bob@example.org", "", user_subscribed=True)
    await store.subscriptions.set("irc.example.org", "carol@example.org", "", user_subscribed=True)

    assert [s.contact for s in await store.subscriptions.for_user(C, ALICE)] == ["a", "b"]
    assert await store.subscriptions.users(C) == [ALICE, "bob@example.org"]
    assert await store.subscriptions.count(C) == 3
    assert await store.subscriptions.remove_user(C, ALICE) == 2
    assert await store.subscriptions.for_user(C, ALICE) == []
    assert await store.subscriptions.users(C) == ["bob@example.org"]
    assert await store.subscriptions.count("irc.example.org") == 1


async def test_registered_only_writes_nothing_for_an_unregistered_user(store: Store) -> None:
    sub = await store.subscriptions.set(C, ALICE, "", contact_subscribed=True,
                                        registered_only=True)
    assert not sub.contact_subscribed
    assert await store.subscriptions.for_user(C, ALICE) == []
    await store.users.upsert(C, ALICE, "+12125550100", {})
    await store.subscriptions.set(C, ALICE, "", contact_subscribed=True, registered_only=True)
    await store.users.remove(C, ALICE)
    assert await store.subscriptions.for_user(C, ALICE) == []
    await store.subscriptions.set(C, ALICE, "", contact_subscribed=True, registered_only=True)
    assert await store.subscriptions.for_user(C, ALICE) == [], "a late presence adds nothing"
