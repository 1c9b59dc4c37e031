"""XmppQueueRepo: ordered, durable, de-duplicated legacy -> XMPP queue."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from transport.core.events import StanzaErrorInfo, XmppMessage
from transport.store import QueuedMessage, Store, XmppQueueRepo

C = "sms.example.org"
ALICE = "alice@example.org"


def _msg(body: str, to: str = ALICE, **kwargs: Any) -> XmppMessage:
    return XmppMessage(to=to, sender="+12125550142@sms.example.org", body=body, **kwargs)


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
    assert await store.xmpp_queue.enqueue(C, [], dedupe_key="SM3") is False
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


def _count_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = store.db.fetchall

    async def counted(sql: str, params: tuple = ()) -> list:
        reads.append(sql)
        return await real(sql, params)

    monkeypatch.setattr(store.db, "fetchall", counted)
    return reads


async def test_what_was_just_queued_is_not_read_back(store: Store, monkeypatch) -> None:
    reads = _count_reads(store, monkeypatch)
    await store.xmpp_queue.enqueue(C, [_msg("before")])
    first = await store.xmpp_queue.pending(C, limit=10)
    assert [q.message.body for q in first] == ["before"]
    assert len(reads) == 1  # the first look reads the table to its end
    cursor = first[-1].row_id
    await store.xmpp_queue.enqueue(C, [_msg("a"), _msg("b")])
    await store.xmpp_queue.enqueue("other", [_msg("elsewhere")])
    await store.xmpp_queue.enqueue(C, [_msg("c")])
    paged = await store.xmpp_queue.pending(C, limit=2, after_row_id=cursor)
    assert [q.message.body for q in paged] == ["a", "b"]
    fresh = await store.xmpp_queue.pending(C, limit=10, after_row_id=paged[-1].row_id)
    assert [q.message.body for q in fresh] == ["c"]
    assert len(reads) == 1
    await store.xmpp_queue.mark_done(C, [paged[0].row_id])
    assert [q.message.body for q in await store.xmpp_queue.pending(C, limit=10, after_row_id=cursor)
            ] == ["b", "c"]
    assert len(reads) == 1
    # The memory holds what the table holds: a new repository (a restart) reads the same.
    again = await XmppQueueRepo(store.db).pending(C, limit=10, after_row_id=cursor)
    assert [(q.row_id, q.message) for q in again] == [
        (q.row_id, q.message)
        for q in await store.xmpp_queue.pending(C, limit=10, after_row_id=cursor)]
    assert all(q.message.id for q in again) and len(reads) == 2
    # From the start again (a new stream): the table, since "before" was never in memory.
    assert [q.message.body for q in await store.xmpp_queue.pending(C, limit=10)] == [
        "before", "b", "c"]
    assert len(reads) == 3


async def test_a_table_read_that_stops_short_does_not_vouch_for_the_rest(store: Store,
                                                                          monkeypatch) -> None:
    await store.xmpp_queue.enqueue(C, [_msg(str(i)) for i in range(3)])
    reads = _count_reads(store, monkeypatch)
    # A new repository knows nothing: a page that stops at the limit says nothing beyond.
    queue = XmppQueueRepo(store.db)
    first = await queue.pending(C, limit=2)
    await queue.enqueue(C, [_msg("3")])
    rest = await queue.pending(C, limit=10, after_row_id=first[-1].row_id)
    assert [q.message.body for q in rest] == ["2", "3"]
    assert len(reads) == 2


async def test_removing_a_user_drops_their_queued_messages_from_memory(store: Store) -> None:
    await store.xmpp_queue.pending(C, limit=10)
    await store.xmpp_queue.enqueue(C, [
        _msg("for alice"), _msg("to a resource", to=f"{ALICE}/phone"),
        _msg("for bob", to="bob@example.org")])
    await store.users.remove(C, ALICE)
    assert [q.message.body for q in await store.xmpp_queue.pending(C, limit=10)] == ["for bob"]


async def test_a_cancelled_enqueue_sends_the_pump_back_to_the_table(store: Store) -> None:
    await store.xmpp_queue.pending(C, limit=10)
    task = asyncio.ensure_future(store.xmpp_queue.enqueue(C, [_msg("maybe")]))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.db.execute("SELECT 1")  # whatever was committed is committed now
    stored = await store.db.fetchall("SELECT payload FROM xmpp_queue")
    assert [q.message.body for q in await store.xmpp_queue.pending(C, limit=10)] == [
        "maybe"] * len(stored)
