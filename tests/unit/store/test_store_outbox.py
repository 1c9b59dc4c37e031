"""LegacyOutboxRepo: one row per (user, stanza id) moving pending -> sending -> sent/failed."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from transport.core.events import Attachment, OutgoingMessage
from transport.store import LegacyOutboxRepo, OutboxRow, Store

C = "sms.example.org"
ALICE = "alice@example.org"


def _msg(stanza_id: str, user: str = ALICE, body: str = "hello") -> OutgoingMessage:
    return OutgoingMessage(
        user=user,
        sender_full_jid=f"{user}/phone",
        contact="+12125550142",
        stanza_id=stanza_id,
        body=body,
        attachments=(Attachment("https://example.org/a.jpg", "image/jpeg", 10),),
        receipt_requested=True,
    )


async def _raw(store: Store, row_id: int) -> sqlite3.Row:
    row = await store.db.fetchone("SELECT * FROM legacy_outbox WHERE row_id = ?", (row_id,))
    assert row is not None
    return row


async def test_add_is_once_per_user_stanza_id_and_content(store: Store) -> None:
    first = await store.outbox.add(C, _msg("s1"), lane="a")
    assert isinstance(first, int)
    assert await store.outbox.add(C, _msg("s1"), lane="a") is None
    second = await store.outbox.add(C, _msg("s1", user="bob@example.org"), lane="b")
    third = await store.outbox.add("irc.example.org", _msg("s1"), lane="c")
    assert second is not None and third is not None and first < second < third
    # The same id with another body is another message, not a retry.
    reused = await store.outbox.add(C, _msg("s1", body="a new text"), lane="a")
    assert reused is not None and reused > third
    rows = await store.outbox.unfinished(C)
    assert [r.row_id for r in rows] == [first, second, reused]
    assert rows[0].message == _msg("s1")
    assert rows[2].message == _msg("s1", body="a new text")


async def test_lifecycle_and_unfinished(store: Store) -> None:
    ids = [await store.outbox.add(C, _msg(f"s{i}"), lane="l") for i in range(4)]
    r0, r1, r2, r3 = (i for i in ids if i is not None)

    await store.outbox.claim(r0)
    await store.outbox.mark_sent(r0, ["SM1", "SM2"])
    await store.outbox.claim(r1)
    await store.outbox.reschedule(r1, 1234.5, "429 too many requests")
    await store.outbox.claim(r1)
    await store.outbox.claim(r2)
    await store.outbox.mark_failed(r2, "21211 invalid number")

    rows = await store.outbox.unfinished(C)
    assert all(isinstance(r, OutboxRow) for r in rows)
    assert [(r.row_id, r.state, r.attempts) for r in rows] == [
        (r1, "sending", 2),
        (r3, "pending", 0),
    ]
    assert rows[0].next_attempt_at == 1234.5
    assert rows[0].error == "429 too many requests"
    assert rows[0].lane == "l"

    sent = await _raw(store, r0)
    assert (sent["state"], json.loads(sent["legacy_ids"]), sent["attempts"]) == (
        "sent",
        ["SM1", "SM2"],
        1,
    )
    failed = await _raw(store, r2)
    assert (failed["state"], failed["error"]) == ("failed", "21211 invalid number")
    assert await store.outbox.count_by_state(C) == {
        "sent": 1,
        "sending": 1,
        "failed": 1,
        "pending": 1,
    }
    assert await store.outbox.count_by_state("nobody") == {}


async def test_prune_deletes_only_old_finished_rows(store: Store) -> None:
    now = [100.0]
    outbox = LegacyOutboxRepo(store.db, clock=lambda: now[0])
    old_sent = await outbox.add(C, _msg("a"), lane="l")
    old_failed = await outbox.add(C, _msg("b"), lane="l")
    old_pending = await outbox.add(C, _msg("c"), lane="l")
    now[0] = 300.0
    new_sent = await outbox.add(C, _msg("d"), lane="l")
    assert old_sent and old_failed and old_pending and new_sent
    await outbox.mark_sent(old_sent, ["x"])
    await outbox.mark_failed(old_failed, "no")
    await outbox.mark_sent(new_sent, ["y"])

    assert await store.outbox.prune(200.0) == 2
    assert await store.outbox.count_by_state(C) == {"pending": 1, "sent": 1}
    # after pruning, the same stanza id would be accepted again
    assert await store.outbox.add(C, _msg("a"), lane="l") is not None


async def test_adds_of_one_loop_turn_are_one_write_in_call_order(store: Store,
                                                                 monkeypatch) -> None:
    writes = []
    real_write = store.db.write

    async def counted(op):
        writes.append(op)
        return await real_write(op)

    monkeypatch.setattr(store.db, "write", counted)
    ids = await asyncio.gather(
        store.outbox.add(C, _msg("g1"), lane="a"),
        store.outbox.add(C, _msg("g2"), lane="a"),
        store.outbox.add(C, _msg("g1"), lane="a"),
        store.outbox.add("irc.example.org", _msg("g1"), lane="b"),
        store.outbox.add(C, _msg("g3", user="bob@example.org", body="héllo 😀"), lane="c"),
    )
    assert len(writes) == 1
    first, second, duplicate, other_component, bob = ids
    assert duplicate is None
    assert first is not None and second is not None and other_component is not None
    assert bob is not None and first < second < other_component < bob
    rows = await store.outbox.unfinished(C)
    assert [(r.row_id, r.message.stanza_id) for r in rows] == [
        (first, "g1"), (second, "g2"), (bob, "g3")]
    assert rows[0].message == _msg("g1")
    assert rows[2].message == _msg("g3", user="bob@example.org", body="héllo 😀")
    # A stanza already stored before the group is a duplicate too.
    again = await asyncio.gather(store.outbox.add(C, _msg("g2"), lane="a"),
                                 store.outbox.add(C, _msg("g4"), lane="a"))
    assert again[0] is None and again[1] is not None and again[1] > bob


async def test_a_failed_group_write_fails_every_add_in_it(store: Store, monkeypatch) -> None:
    async def broken(op):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store.db, "write", broken)
    results = await asyncio.gather(store.outbox.add(C, _msg("f1"), lane="a"),
                                   store.outbox.add(C, _msg("f2"), lane="a"),
                                   return_exceptions=True)
    assert [type(r) for r in results] == [sqlite3.OperationalError] * 2


async def test_mark_sent_many_sets_each_rows_ids(store: Store) -> None:
    ids = [await store.outbox.add(C, _msg(f"m{i}"), lane="l") for i in range(3)]
    r0, r1, r2 = (i for i in ids if i is not None)
    await store.outbox.mark_sent_many([(r0, ["a"]), (r2, ["b", "c"])])
    assert [(r["state"], json.loads(r["legacy_ids"] or "null"))
            for r in [await _raw(store, r) for r in (r0, r1, r2)]] == [
        ("sent", ["a"]), ("pending", []), ("sent", ["b", "c"])]
