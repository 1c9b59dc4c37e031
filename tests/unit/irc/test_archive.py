"""The channel archive on a real SQLite store: batching, visibility windows, join history,
retention, shutdown."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

import pytest

from transport.backends.irc.contracts import ChannelHistory, HistoryRequest
from transport.backends.irc.history.archive import ChannelArchive

GW = "irc.localhost"
SRV = "irc.example.org"
CHAN = "#chan"
ALICE = "alice@localhost"
BOB = "bob@localhost"
T0 = 1_700_000_000.0


class Clock:
    def __init__(self, now: float = T0 + 100_000) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def archive(store, clock):
    made = ChannelArchive(store.backend_storage("irc"), GW, clock=clock)
    await made.start()
    yield made
    await made.stop()


async def say(archive, *bodies, at=T0, step=1.0, nick="carol", channel=CHAN):
    """Record lines at ``at``, ``at+step``...; returns their uids."""
    return [archive.record(SRV, channel, nick, "message", b, at + i * step)
            for i, b in enumerate(bodies)]


async def bodies(archive, user, **kwargs):
    page = await archive.query(user, SRV, CHAN, **kwargs)
    return [line.body for line in page.lines]


def test_implements_the_protocol(store):
    archive: ChannelHistory = ChannelArchive(store.backend_storage("irc"), GW)
    assert archive is not None


async def test_record_returns_uid_at_once_and_reads_see_buffered_lines(archive):
    await archive.opened(ALICE, SRV, CHAN, T0)
    uid = archive.record(SRV, CHAN, "carol", "action", "waves", T0 + 1)
    assert len(uid) == 32 and int(uid, 16) >= 0
    page = await archive.query(ALICE, SRV, CHAN)
    assert [(line.uid, line.kind, line.body, line.nick) for line in page.lines] == [
        (uid, "action", "waves", "carol")
    ]
    assert page.lines[0].timestamp == T0 + 1 and page.lines[0].channel == CHAN


async def test_thousand_records_take_a_few_commits(store, clock):
    archive = ChannelArchive(store.backend_storage("irc"), GW, clock=clock, flush_interval=0.02)
    await archive.start()
    await archive.opened(ALICE, SRV, CHAN, T0)
    commits = store.db.commits
    started = time.perf_counter()
    uids = [archive.record(SRV, CHAN, "carol", "message", f"line {i}", T0 + i) for i in range(1000)]
    spent = time.perf_counter() - started
    assert len(set(uids)) == 1000
    assert spent < 0.1  # record() never waits for the disk
    await asyncio.sleep(0.2)  # the flusher, not a read, writes them
    assert store.db.commits - commits <= 3
    row = await store.db.fetchone("SELECT COUNT(*) FROM irc_archive")
    assert row[0] == 1000
    await archive.stop()


async def test_big_bursts_are_written_in_chunks_of_max_batch(store, clock):
    archive = ChannelArchive(
        store.backend_storage("irc"), GW, clock=clock, flush_interval=0.01, max_batch=100
    )
    await archive.start()
    commits = store.db.commits
    await say(archive, *[str(i) for i in range(250)])
    await asyncio.sleep(0.3)
    row = await store.db.fetchone("SELECT COUNT(*) FROM irc_archive")
    assert row[0] == 250 and store.db.commits - commits >= 3
    await archive.stop()


async def test_stop_flushes_everything(store, clock):
    archive = ChannelArchive(store.backend_storage("irc"), GW, clock=clock, flush_interval=60)
    await archive.start()
    await say(archive, *[str(i) for i in range(2500)])
    await archive.stop()
    row = await store.db.fetchone("SELECT COUNT(*) FROM irc_archive")
    assert row[0] == 2500


async def test_lines_survive_a_restart_in_order(store, clock):
    first = ChannelArchive(store.backend_storage("irc"), GW, clock=clock)
    await first.start()
    await first.opened(ALICE, SRV, CHAN, T0)
    await say(first, "a", "b", at=T0 + 10)
    await first.stop()
    second = ChannelArchive(store.backend_storage("irc"), GW, clock=clock)
    await second.start()
    await second.opened(ALICE, SRV, CHAN, clock.now)  # a quiet channel: same window goes on
    # A line stamped before the last archived one still sorts after it.
    late = second.record(SRV, CHAN, "carol", "message", "c", T0)
    page = await second.query(ALICE, SRV, CHAN)
    assert [line.body for line in page.lines] == ["a", "b", "c"]
    assert page.lines[-1].uid == late and page.lines[-1].timestamp == T0 + 11
    await second.stop()


async def test_one_copy_per_line_with_two_users(archive, store):
    await archive.opened(ALICE, SRV, CHAN, T0)
    await archive.opened(BOB, SRV, CHAN, T0)
    await say(archive, "hello", "world", at=T0 + 1)
    assert await bodies(archive, ALICE) == ["hello", "world"]
    assert await bodies(archive, BOB) == ["hello", "world"]
    row = await store.db.fetchone("SELECT COUNT(*) FROM irc_archive")
    assert row[0] == 2


async def test_windows_hide_what_was_said_before_joining_and_while_away(archive):
    await say(archive, "before anyone", at=T0)
    await archive.opened(ALICE, SRV, CHAN, T0 + 10)
    await say(archive, "while alice is in", at=T0 + 11)
    await archive.closed(ALICE, SRV, CHAN, T0 + 20)
    await say(archive, "while alice is away", at=T0 + 21)
    await archive.opened(ALICE, SRV, CHAN, T0 + 30)
    await say(archive, "alice is back", at=T0 + 31)
    assert await bodies(archive, ALICE) == ["while alice is in", "alice is back"]
    assert await bodies(archive, BOB) == []
    page = await archive.query(ALICE, SRV, CHAN)
    assert page.count == 2 and page.complete


async def test_persistent_presence_keeps_the_window_open(archive):
    await archive.opened(ALICE, SRV, CHAN, T0)
    # Every resource left, but the channel is persistent: the connection side does not
    # call closed(), and a second opened() (another resource) changes nothing.
    await say(archive, "said while alice's clients were offline", at=T0 + 50)
    await archive.opened(ALICE, SRV, CHAN, T0 + 60)
    await say(archive, "later", at=T0 + 70)
    assert await bodies(archive, ALICE) == ["said while alice's clients were offline", "later"]


async def test_rejoining_a_quiet_channel_reuses_the_window(archive, store):
    await archive.opened(ALICE, SRV, CHAN, T0)
    await archive.closed(ALICE, SRV, CHAN, T0 + 5)
    await archive.opened(ALICE, SRV, CHAN, T0 + 6)  # nothing said meanwhile
    await archive.closed(ALICE, SRV, CHAN, T0 + 7)
    await say(archive, "gap", at=T0 + 8)
    await archive.opened(ALICE, SRV, CHAN, T0 + 9)  # something said meanwhile
    rows = await store.db.fetchall("SELECT opened, closed FROM irc_windows ORDER BY opened")
    assert [tuple(r) for r in rows] == [(T0, T0 + 7), (T0 + 9, None)]


async def test_windows_left_open_by_a_crash_are_closed_at_start(store, clock):
    first = ChannelArchive(store.backend_storage("irc"), GW, clock=clock)
    await first.start()
    await first.opened(ALICE, SRV, CHAN, T0)
    await first.stop()  # as after a crash: the window is still open
    second = ChannelArchive(store.backend_storage("irc"), GW, clock=clock)
    await second.start()
    await say(second, "after the restart, alice never came back", at=clock.now + 1)
    assert await bodies(second, ALICE) == []
    await second.stop()


async def test_channels_and_servers_are_separate(archive):
    await archive.opened(ALICE, SRV, CHAN, T0)
    await archive.opened(ALICE, SRV, "#other", T0)
    await say(archive, "here", at=T0 + 1)
    await say(archive, "there", at=T0 + 1, channel="#other")
    archive.record("irc.other.net", CHAN, "x", "message", "elsewhere", T0 + 1)
    assert await bodies(archive, ALICE) == ["here"]
    page = await archive.query(ALICE, "irc.other.net", CHAN)
    assert page.lines == () and page.complete


async def test_join_history_limits(archive, clock):
    await archive.opened(ALICE, SRV, CHAN, T0)
    clock.now = T0 + 100
    await say(archive, "one", "two", "three", "four", at=T0 + 10, step=10)  # at +10..+40

    async def history(limit=20, **request):
        lines = await archive.join_history(ALICE, SRV, CHAN, HistoryRequest(**request), limit)
        return [line.body for line in lines]

    assert await history() == ["one", "two", "three", "four"]
    assert await history(limit=2) == ["three", "four"]
    assert await history(maxstanzas=3) == ["two", "three", "four"]
    assert await history(limit=1, maxstanzas=3) == ["four"]
    assert await history(maxstanzas=0) == []
    assert await history(maxchars=0) == []
    assert await history(maxchars=9) == ["three", "four"]
    assert await history(seconds=75) == ["three", "four"]  # since T0+25
    assert await history(since=T0 + 20) == ["two", "three", "four"]
    assert await history(since=T0 + 20, seconds=75) == ["three", "four"]  # the later wins
    assert await history(since=T0 + 35, seconds=75) == ["four"]
    assert await history(limit=0) == []


async def test_join_history_shows_only_visible_lines(archive):
    await say(archive, "before", at=T0)
    await archive.opened(ALICE, SRV, CHAN, T0 + 1)
    await say(archive, "in", at=T0 + 2)
    await archive.closed(ALICE, SRV, CHAN, T0 + 3)
    await say(archive, "away", at=T0 + 4)
    lines = await archive.join_history(ALICE, SRV, CHAN, HistoryRequest(), 20)
    assert [line.body for line in lines] == ["in"]
    assert await archive.join_history(BOB, SRV, CHAN, HistoryRequest(), 20) == []


async def test_retention_prunes_old_lines_and_windows(store, clock):
    archive = ChannelArchive(store.backend_storage("irc"), GW, retention_days=1, clock=clock)
    await archive.start()
    clock.now = T0
    await archive.opened(BOB, SRV, CHAN, T0 - 5 * 86400)
    await archive.closed(BOB, SRV, CHAN, T0 - 4 * 86400)
    await archive.opened(ALICE, SRV, CHAN, T0 - 3 * 86400)
    await say(archive, "old", at=T0 - 2 * 86400)
    await say(archive, "recent", at=T0 - 3600)
    await archive.flush()
    assert await archive.prune() == 1
    assert await bodies(archive, ALICE) == ["recent"]
    rows = await store.db.fetchall("SELECT user FROM irc_windows")
    assert [r[0] for r in rows] == [ALICE]  # bob's window ended before any kept line
    await archive.stop()


async def test_retention_runs_by_itself(store, clock):
    clock.now = T0
    archive = ChannelArchive(store.backend_storage("irc"), GW, clock=clock)
    await archive.start()
    await say(archive, "old", at=T0 - 3 * 86400)
    await archive.stop()
    pruning = ChannelArchive(
        store.backend_storage("irc"), GW, retention_days=2, clock=clock, prune_interval=0.05
    )
    await pruning.start()
    for _ in range(50):
        row = await store.db.fetchone("SELECT COUNT(*) FROM irc_archive")
        if row[0] == 0:
            break
        await asyncio.sleep(0.02)
    assert row[0] == 0
    await pruning.stop()


async def test_a_line_sqlite_cannot_store_is_repaired_not_lost(archive):
    # A lone surrogate (undecodable IRC bytes) would fail the whole batch, forever.
    await archive.opened(ALICE, SRV, CHAN, T0)
    await say(archive, "fine", "broken \ud800 surrogate", "also fine", at=T0 + 1)
    assert await bodies(archive, ALICE) == ["fine", "broken ? surrogate", "also fine"]


async def test_a_failing_disk_keeps_the_lines_for_later(archive, store, monkeypatch, caplog):
    await archive.opened(ALICE, SRV, CHAN, T0)
    real = store.db.write

    async def broken(op):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store.db, "write", broken)
    with caplog.at_level(logging.ERROR):
        await say(archive, "kept", at=T0 + 1)
        assert await archive.flush() is False
        assert await bodies(archive, ALICE) == []  # reads still answer
    assert "2 lines kept" not in caplog.text and "1 lines kept" in caplog.text
    monkeypatch.setattr(store.db, "write", real)
    await say(archive, "after", at=T0 + 2)
    assert await archive.flush() is True
    assert await bodies(archive, ALICE) == ["kept", "after"]
