"""Retention: what is finished and older than ``retention_days`` goes; nothing unsent does."""

from __future__ import annotations

import asyncio

import pytest

from transport.core.events import OutgoingMessage
from transport.store import IdMapRepo, LegacyOutboxRepo, Store, XmppQueueRepo
from transport.store.retention import DAY, Retention

C = "sms.example.org"
ALICE = "alice@example.org"
NOW = 1_800_000_000.0


def _out(stanza_id: str) -> OutgoingMessage:
    return OutgoingMessage(user=ALICE, sender_full_jid=f"{ALICE}/phone", contact="+12125550142",
                           stanza_id=stanza_id, body=f"text of {stanza_id}")


async def _count(store: Store, table: str) -> int:
    row = await store.db.fetchone(f"SELECT count(*) FROM {table}")
    assert row is not None
    return int(row[0])


async def _fill(store: Store, created: float) -> dict[str, int]:
    """One row of each kind, recorded at ``created``; the outbox row ids by state."""
    clock = lambda: created  # noqa: E731
    outbox = LegacyOutboxRepo(store.db, clock=clock)
    ids: dict[str, int] = {}
    for state in ("sent", "failed", "pending", "sending"):
        row_id = await outbox.add(C, _out(f"{state}-{created}"), lane="l")
        assert row_id is not None
        ids[state] = row_id
    await outbox.mark_sent(ids["sent"], ["SM1"])
    await outbox.mark_failed(ids["failed"], "refused")
    await outbox.claim(ids["sending"])
    await XmppQueueRepo(store.db, clock=clock).enqueue(C, [], dedupe_key=f"SM-{created}")
    await IdMapRepo(store.db, clock=clock).add(C, [f"L-{created}"], ALICE, f"{ALICE}/phone",
                                               "+12125550142", f"x-{created}", True)
    return ids


async def test_prune_deletes_only_finished_rows_older_than_the_retention(store: Store) -> None:
    old = await _fill(store, NOW - 31 * DAY)
    recent = await _fill(store, NOW - 29 * DAY)
    retention = Retention(store, 30, clock=lambda: NOW)

    counts = await retention.prune()

    assert counts == {"outbox rows": 2, "de-duplication keys": 1, "id maps": 1}
    rows = await store.db.fetchall("SELECT row_id FROM legacy_outbox ORDER BY row_id")
    assert [r[0] for r in rows] == [old["pending"], old["sending"], *recent.values()]
    assert await _count(store, "dedupe_keys") == 1
    assert await _count(store, "id_map") == 1
    assert await store.id_maps.by_legacy_id(C, f"L-{NOW - 29 * DAY}") is not None
    assert await retention.prune() == {"outbox rows": 0, "de-duplication keys": 0, "id maps": 0}


async def test_a_large_backlog_is_pruned_in_chunks_of_separate_writes(store: Store) -> None:
    outbox = LegacyOutboxRepo(store.db, clock=lambda: NOW - 40 * DAY)
    ids = await asyncio.gather(*(outbox.add(C, _out(f"s{i}"), lane="l") for i in range(23)))
    await outbox.mark_sent_many([(row_id, ["x"]) for row_id in ids if row_id is not None])
    retention = Retention(store, 30, chunk=5, clock=lambda: NOW)
    commits = store.db.commits

    assert (await retention.prune())["outbox rows"] == 23
    assert await _count(store, "legacy_outbox") == 0
    # 5 chunks of outbox rows (the last one short), one empty chunk for each other table.
    assert store.db.commits - commits == 5 + 2


async def test_the_prune_runs_at_start_and_then_periodically(store: Store) -> None:
    clock = [NOW]
    retention = Retention(store, 1, interval=0.05, clock=lambda: clock[0])
    await XmppQueueRepo(store.db, clock=lambda: NOW - 2 * DAY).enqueue(C, [], dedupe_key="a")
    retention.start()
    try:
        for _ in range(100):
            if await _count(store, "dedupe_keys") == 0:
                break
            await asyncio.sleep(0.01)
        assert await _count(store, "dedupe_keys") == 0, "pruned at start"

        await XmppQueueRepo(store.db, clock=lambda: NOW).enqueue(C, [], dedupe_key="b")
        clock[0] = NOW + 2 * DAY
        for _ in range(100):
            if await _count(store, "dedupe_keys") == 0:
                break
            await asyncio.sleep(0.01)
        assert await _count(store, "dedupe_keys") == 0, "pruned again later"
    finally:
        await retention.stop()


async def test_retention_must_be_at_least_a_day(store: Store) -> None:
    with pytest.raises(ValueError):
        Retention(store, 0)
