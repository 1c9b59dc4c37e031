"""XmppQueueRepo: ordered, durable, de-duplicated legacy -> XMPP queue."""

from __future__ import annotations

import asyncio
from typing import Any

from transport.core.events import StanzaErrorInfo, XmppMessage
from transport.store import QueuedMessage, Store, XmppQueueRepo

C = "sms.example.org"
ALICE = "alice@example.org"


def _msg(body: str, **kwargs: Any) -> XmppMessage:
    return XmppMessage(to=ALICE, sender="+12125550142@sms.example.org", body=body, **kwargs)


async def test_enqueue_keeps_order_and_fills_missing_ids(store: Store) -> None:
    fixed = _msg("two", id="fixed-id", error=StanzaErrorInfo("item-not-found", "gone"))
    assert await store.xmpp_queue.enqueue(C, [_msg("one"), fixed, _msg("three")])
    queued = await store.xmpp_queue.pending(C, limit=10)
    assert all(isinstance(q, QueuedMessage) for q in queued)
    assert [q.message.body for q in queued] == ["one", "two", "three"]
    assert [q.row_id for q in queued] == sorted(q.row_id for q in queued)
    assert queued[1].message == fixed
    ids = [q.message.id for q in queued]
    assert ids[1] == "fixed-id"
    assert all(isinstance(i, str) and len(i) == 32 for i in (ids[0], ids[2]))
    assert ids[0] != ids[2]
    # the id is fixed when queued: reading again gives the same one
    assert [q.message.id for q in await store.xmpp_queue.pending(C, limit=10)] == ids


async def test_dedupe_key_queues_once(store: Store) -> None:
    assert await store.xmpp_queue.enqueue(C, [_msg("a"), _msg("b")], dedupe_key="SM1") is True
    assert await store.xmpp_queue.enqueue(C, [_msg("a"), _msg("b")], dedupe_key="SM1") is False
    assert await store.xmpp_queue.count(C) == 2
    # keys are per component
    assert await store.xmpp_queue.enqueue("other", [_msg("a")], dedupe_key="SM1") is True
    # concurrent retries of the same webhook: exactly one wins
    results = await asyncio.gather(
        *(store.xmpp_queue.enqueue(C, [_msg("c")], dedupe_key="SM2") for _ in range(10))
    )
    assert results.count(True) == 1
    assert await store.xmpp_queue.count(C) == 3


async def test_empty_enqueue_still_records_the_key(store: Store) -> None:
    assert await store.xmpp_queue.enqueue(C, [], dedupe_key="SM3") is True
    assert await store.xmpp_queue.enqueue(C, [_msg("late")], dedupe_key="SM3") is False
    assert await store.xmpp_queue.count(C) == 0


async def test_pending_pages_by_row_id_and_mark_done(store: Store) -> None:
    await store.xmpp_queue.enqueue(C, [_msg(str(i)) for i in range(5)])
    await store.xmpp_queue.enqueue("other", [_msg("elsewhere")])
    first = await store.xmpp_queue.pending(C, limit=2)
    assert [q.message.body for q in first] == ["0", "1"]
    rest = await store.xmpp_queue.pending(C, limit=10, after_row_id=first[-1].row_id)
    assert [q.message.body for q in rest] == ["2", "3", "4"]

    await store.xmpp_queue.mark_done(C, [q.row_id for q in first])
    await store.xmpp_queue.mark_done(C, [])
    assert [q.message.body for q in await store.xmpp_queue.pending(C, limit=10)] == ["2", "3", "4"]
    await store.xmpp_queue.mark_done("other", [rest[0].row_id])  # wrong component: no effect
    assert await store.xmpp_queue.count(C) == 3
    assert await store.xmpp_queue.count("other") == 1


async def test_prune_dedupe_forgets_old_keys_only(store: Store) -> None:
    now = [100.0]
    queue = XmppQueueRepo(store.db, clock=lambda: now[0])
    await queue.enqueue(C, [], dedupe_key="old")
    now[0] = 200.0
    await queue.enqueue(C, [], dedupe_key="new")
    assert await queue.prune_dedupe(150.0) == 1
    assert await queue.enqueue(C, [], dedupe_key="old") is True
    assert await queue.enqueue(C, [], dedupe_key="new") is False
