"""De-duplication: the same key with the same content, within the window, and nothing else."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path

from transport.core.events import Attachment, OutgoingMessage, XmppMessage
from transport.store import LegacyOutboxRepo, Store, XmppQueueRepo
from transport.store.dedupe import DEDUPE_WINDOW
from transport.store.migrations import split_statements
from transport.store.schema import CORE_MIGRATIONS

C = "sms.example.org"
ALICE = "alice@example.org"
T0 = 1_800_000_000.0


def _out(stanza_id: str = "s1", body: str = "hello", **changes: object) -> OutgoingMessage:
    message = OutgoingMessage(user=ALICE, sender_full_jid=f"{ALICE}/phone",
                              contact="+12125550142", stanza_id=stanza_id, body=body)
    return dataclasses.replace(message, **changes)  # type: ignore[arg-type]


def _in(body: str, to: str = ALICE) -> XmppMessage:
    return XmppMessage(to=to, sender="+12125550142@sms.example.org", body=body)


async def test_outbox_same_id_same_content_is_a_duplicate_only_within_the_window(
    store: Store,
) -> None:
    now = [T0]
    outbox = LegacyOutboxRepo(store.db, clock=lambda: now[0])
    first = await outbox.add(C, _out(), lane="l")
    assert first is not None
    now[0] = T0 + DEDUPE_WINDOW - 1
    assert await outbox.add(C, _out(sender_full_jid=f"{ALICE}/laptop"), lane="l") is None
    await outbox.mark_sent(first, ["SM1"])

    now[0] = T0 + DEDUPE_WINDOW + 1
    again = await outbox.add(C, _out(), lane="l")
    assert again is not None and again > first, "past the window the id is new again"
    assert [r.row_id for r in await outbox.unfinished(C)] == [again]
    assert await outbox.add(C, _out(), lane="l") is None, "and de-duplicated from now on"


async def test_outbox_same_id_with_other_content_is_a_new_message(store: Store) -> None:
    first = await store.outbox.add(C, _out(), lane="l")
    others = [
        _out(body="another text"),
        _out(contact="+12125550199"),
        _out(extra_recipients=("+12125550100",)),
        _out(resource="nick"),
        _out(attachments=(Attachment("https://example.org/a.jpg"),)),
    ]
    ids = [await store.outbox.add(C, message, lane="l") for message in others]
    assert first is not None and None not in ids
    assert len({first, *ids}) == 1 + len(others)
    rows = await store.outbox.unfinished(C)
    assert [r.message for r in rows] == [_out(), *others]


async def test_outbox_unfinished_row_past_the_window_still_absorbs_its_resend(
    store: Store,
) -> None:
    now = [T0]
    outbox = LegacyOutboxRepo(store.db, clock=lambda: now[0])
    first = await outbox.add(C, _out(), lane="l")
    now[0] = T0 + 2 * DEDUPE_WINDOW
    assert await outbox.add(C, _out(), lane="l") is None, "the pending row will send it"
    assert [r.row_id for r in await outbox.unfinished(C)] == [first]


async def test_outbox_group_add_replaces_a_stale_row_once(store: Store) -> None:
    now = [T0]
    outbox = LegacyOutboxRepo(store.db, clock=lambda: now[0])
    old = await outbox.add(C, _out(), lane="l")
    assert old is not None
    await outbox.mark_sent(old, ["SM1"])
    now[0] = T0 + DEDUPE_WINDOW + 1
    ids = await asyncio.gather(outbox.add(C, _out(), lane="l"),
                               outbox.add(C, _out("s2"), lane="l"),
                               outbox.add(C, _out(), lane="l"))
    renewed, other, duplicate = ids
    assert renewed is not None and other is not None and duplicate is None
    assert sorted(r.row_id for r in await outbox.unfinished(C)) == sorted([renewed, other])


async def test_queue_key_with_other_content_is_queued(store: Store) -> None:
    queue = store.xmpp_queue
    assert await queue.enqueue(C, [_in("photo 1")], dedupe_key="SM1") is True
    assert await queue.enqueue(C, [_in("photo 1")], dedupe_key="SM1") is False
    assert await queue.enqueue(C, [_in("another")], dedupe_key="SM1") is True
    assert await queue.enqueue(C, [_in("photo 1", to="bob@example.org")],
                               dedupe_key="SM1") is True
    # A retried event gets fresh ids and delay stamps: still the same content.
    retry = [dataclasses.replace(_in("another"), delay=T0, id="fresh")]
    assert await queue.enqueue(C, retry, dedupe_key="SM1") is False
    bodies = [q.message.body for q in await queue.pending(C, limit=10)]
    assert bodies == ["photo 1", "another", "photo 1"]


async def test_queue_key_is_forgotten_after_the_window(store: Store) -> None:
    now = [T0]
    queue = XmppQueueRepo(store.db, clock=lambda: now[0])
    assert await queue.enqueue(C, [_in("a")], dedupe_key="SM1") is True
    now[0] = T0 + DEDUPE_WINDOW - 1
    assert await queue.enqueue(C, [_in("a")], dedupe_key="SM1") is False
    now[0] = T0 + DEDUPE_WINDOW + 1
    assert await queue.enqueue(C, [_in("a")], dedupe_key="SM1") is True
    assert await queue.enqueue(C, [_in("a")], dedupe_key="SM1") is False
    assert await queue.count(C) == 2


async def test_version_1_file_keeps_its_rows_and_row_ids(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in split_statements(CORE_MIGRATIONS[0]):
            conn.execute(statement)
        conn.execute("CREATE TABLE schema_versions (namespace TEXT PRIMARY KEY, version INTEGER)")
        conn.execute("INSERT INTO schema_versions VALUES ('core', 1)")
        for n in range(1, 8):
            conn.execute(
                "INSERT INTO legacy_outbox (component, user, stanza_id, lane, payload, state,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, 'l', ?, ?, 0, ?)",
                (C, ALICE, f"s{n}", _out(f"s{n}").to_json(), "sent" if n < 7 else "pending", T0))
        conn.execute("DELETE FROM legacy_outbox WHERE row_id > 5")  # the counter stays at 7
        conn.execute("INSERT INTO legacy_outbox (component, user, stanza_id, lane, payload,"
                     " next_attempt_at, created_at) VALUES (?, ?, 'p', 'l', ?, 0, ?)",
                     (C, ALICE, _out("p").to_json(), T0))
        conn.execute("INSERT INTO dedupe_keys VALUES (?, 'SM1', ?)", (C, T0))

    store = await Store.open(db_path)
    try:
        rows = await store.db.fetchall(
            "SELECT row_id, stanza_id, digest FROM legacy_outbox ORDER BY row_id")
        assert [tuple(r) for r in rows] == [(n, f"s{n}", "") for n in range(1, 6)] + [
            (8, "p", "")]
        assert [r.message for r in await store.outbox.unfinished(C)] == [_out("p")]
        added = await store.outbox.add(C, _out("new"), lane="l")
        assert added == 9, "row ids are never handed out twice"
        keys = await store.db.fetchall("SELECT component, key, digest FROM dedupe_keys")
        assert [tuple(k) for k in keys] == [(C, "SM1", "")]
    finally:
        await store.close()
