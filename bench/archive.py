"""IRC archive benchmark: what archiving costs the relay, how fast MAM answers, disk per line.

Figures, on a real ``Store`` (synchronous=full, on disk) in a fresh temporary directory:

* ``record()``: CPU per call on the event loop (the relay's hot path pays only this);
* throughput: lines/s through ``record()`` until every line is committed, with the number
  of commits it took;
* loop stalls while lines arrive at a steady rate (1,000 and 5,000 lines/s): how late a
  1 ms ticker runs (p50/p99/max), i.e. what the flusher adds to every other stanza's latency;
* MAM and join-history latency (p50/p99) on a channel of ``--lines`` lines (100k by default),
  for the usual queries, and for a user whose presence is split into 30 windows;
* bytes per line on disk (file size after a checkpoint and VACUUM), next to the same lines
  stored biboumi's way (one row per line and per user, text uuid, owner/channel/server
  repeated in every row and index entry).

Usage: ``python bench/archive.py [--lines N] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

# Run as a script, this directory comes first on sys.path, and its irc.py (the IRC
# benchmark) would stand in for the ``irc`` library the IRC backend imports.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

from transport.backends.irc.contracts import HistoryRequest
from transport.backends.irc.history.archive import ChannelArchive
from transport.backends.irc.schema import MIGRATIONS
from transport.store import Store

GW = "irc.localhost"
SRV = "irc.libera.chat"
CHAN = "#python"
USER = "alice@example.org"
T0 = 1_700_000_000.0
NICKS = [f"{name}{i}" for i, name in enumerate(["kim", "sam", "lee", "max", "ali"] * 8)]
WORDS = ("the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for",
         "on", "are", "with", "as", "I", "his", "they", "be", "at", "python", "asyncio")


def body(rng: random.Random) -> str:
    """IRC-like text: mostly short lines, a few long ones (mean about 60 characters)."""
    length = min(400, int(rng.expovariate(1 / 55)) + 5)
    text = ""
    while len(text) < length:
        text += rng.choice(WORDS) + " "
    return text[:length].strip() or "ok"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def open_archive(path: Path, **kwargs: Any) -> tuple[Store, ChannelArchive]:
    store = await Store.open(path, extra_migrations={"irc": MIGRATIONS})
    archive = ChannelArchive(store, GW, **kwargs)
    await archive.start()
    return store, archive


async def bench_record(directory: Path, lines: int) -> None:
    store, archive = await open_archive(directory / "record.sqlite3", flush_interval=3600)
    rng = random.Random(1)
    texts = [body(rng) for _ in range(1000)]
    started = time.perf_counter()
    for i in range(lines):  # the flusher sleeps for an hour: record() alone
        archive.record(SRV, CHAN, NICKS[i % 40], "message", texts[i % 1000], T0 + i * 0.001)
    cpu = time.perf_counter() - started
    await archive.stop()
    await store.close()
    print(f"record(): {cpu / lines * 1e6:.2f} us of loop time per line")

    store, archive = await open_archive(directory / "throughput.sqlite3")
    commits = store.db.commits
    started = time.perf_counter()
    for i in range(lines):
        archive.record(SRV, CHAN, NICKS[i % 40], "message", texts[i % 1000], T0 + i * 0.001)
        if i % 1000 == 999:
            await asyncio.sleep(0)  # let the flusher run, as a real relay would
    await archive.flush()
    elapsed = time.perf_counter() - started
    print(f"throughput: {lines / elapsed:,.0f} lines/s recorded and committed "
          f"({lines:,} lines, {store.db.commits - commits} commits)")
    await archive.stop()
    await store.close()


async def bench_stalls(directory: Path, rate: float, seconds: float) -> None:
    store, archive = await open_archive(directory / f"stalls-{int(rate)}.sqlite3")
    rng = random.Random(2)
    lateness: list[float] = []
    stop = time.perf_counter() + seconds

    async def ticker() -> None:
        while time.perf_counter() < stop:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lateness.append((time.perf_counter() - t - 0.001) * 1000)

    async def producer() -> None:
        i, start = 0, time.perf_counter()
        while time.perf_counter() < stop:
            due = start + i / rate
            if due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            archive.record(SRV, CHAN, NICKS[i % 40], "message", body(rng), time.time())
            i += 1

    base: list[float] = []
    probe_stop = time.perf_counter() + 1.0
    while time.perf_counter() < probe_stop:  # the ticker alone, for reference
        t = time.perf_counter()
        await asyncio.sleep(0.001)
        base.append((time.perf_counter() - t - 0.001) * 1000)
    await asyncio.gather(ticker(), producer())
    print(f"loop lateness at {rate:,.0f} lines/s: p50 {pct(lateness, 50):.3f} ms, "
          f"p99 {pct(lateness, 99):.3f} ms, max {max(lateness):.2f} ms "
          f"(idle loop: p99 {pct(base, 99):.3f} ms)")
    await archive.stop()
    await store.close()


async def timed(label: str, call: Callable[[], Awaitable[object]], runs: int = 200) -> None:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - t) * 1000)
    print(f"  {label:<44} p50 {statistics.median(samples):6.2f} ms   "
          f"p99 {pct(samples, 99):6.2f} ms")


async def bench_queries(directory: Path, lines: int) -> Path:
    path = directory / "mam.sqlite3"
    store, archive = await open_archive(path, clock=lambda: T0 + lines + 10)
    rng = random.Random(3)
    await archive.opened(USER, SRV, CHAN, T0)
    windows_user = "bob@example.org"
    for w in range(30):  # bob was in the channel 30 times, for 1/60 of the lines each
        lo = T0 + w * lines / 30
        await archive.opened(windows_user, SRV, CHAN, lo)
        await archive.closed(windows_user, SRV, CHAN, lo + lines / 60)
    uids = []
    for i in range(lines):
        uids.append(archive.record(SRV, CHAN, NICKS[i % 40], "message", body(rng), T0 + i))
        if i % 5000 == 4999:
            await archive.flush()
    for i in range(lines // 10):  # some traffic in other channels
        archive.record(SRV, f"#c{i % 50}", "x", "message", body(rng), T0 + i * 10)
    await archive.flush()
    middle = uids[lines // 2]
    print(f"MAM on a channel of {lines:,} lines:")
    q = archive.query
    await timed("last page (before='')", lambda: q(USER, SRV, CHAN, before=""))
    await timed("first page (no RSM)", lambda: q(USER, SRV, CHAN))
    await timed("after <uid> in the middle", lambda: q(USER, SRV, CHAN, after=middle))
    await timed("before <uid> in the middle", lambda: q(USER, SRV, CHAN, before=middle))
    await timed("start/end: one hour", lambda: q(USER, SRV, CHAN, start=T0 + lines / 2,
                                                 end=T0 + lines / 2 + 3600))
    await timed("since yesterday, catch-up (start only)",
                lambda: q(USER, SRV, CHAN, start=T0 + lines - 500))
    await timed("with=<nick> (1 line in 40), last page",
                lambda: q(USER, SRV, CHAN, with_nick=NICKS[7], before=""), runs=50)
    await timed("user with 30 windows, last page", lambda: q(windows_user, SRV, CHAN, before=""))
    await timed("user with 30 windows, after <uid>",
                lambda: q(windows_user, SRV, CHAN, after=uids[lines // 30 + 1]))
    await timed("join history, 20 lines", lambda: archive.join_history(
        USER, SRV, CHAN, HistoryRequest(), 20))
    await archive.stop()
    await store.close()
    return path


def bytes_per_line(path: Path, lines: int) -> None:
    with closing(sqlite3.connect(path)) as conn:
        total = conn.execute("SELECT COUNT(*) FROM irc_archive").fetchone()[0]
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.execute("SELECT ts, uid, nick, body, chan_id FROM irc_archive").fetchall()
    ours = path.stat().st_size / total
    avg_body = sum(len(r[3]) for r in rows) / len(rows)
    biboumi = path.with_name("biboumi-layout.sqlite3")
    with closing(sqlite3.connect(biboumi)) as conn:
        conn.execute("CREATE TABLE muclogline_ (id_ INTEGER PRIMARY KEY AUTOINCREMENT, uuid_ TEXT,"
                     " owner_ TEXT, ircchanname_ TEXT, ircservername_ TEXT, date_ INTEGER,"
                     " body_ TEXT, nick_ TEXT)")
        conn.execute("CREATE INDEX archive_index ON muclogline_"
                     " (owner_, ircchanname_, ircservername_)")
        conn.executemany(
            "INSERT INTO muclogline_ (uuid_, owner_, ircchanname_, ircservername_, date_, body_,"
            " nick_) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((str(uuid.UUID(bytes=r[1])), USER, CHAN if r[4] == 1 else f"#c{r[4]}", SRV,
              int(r[0]), r[3], r[2]) for r in rows))
        conn.commit()
        conn.execute("VACUUM")
    theirs = biboumi.stat().st_size / total
    print(f"disk: {ours:.0f} bytes per line ({total:,} lines, mean body {avg_body:.0f} chars);"
          f" biboumi's layout: {theirs:.0f} bytes per line per user, so {theirs * 10:.0f}"
          f" for a line seen by 10 users (ours stays {ours:.0f} plus a window row per visit)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        directory = Path(tmp)
        await bench_record(directory, 200_000)
        await bench_stalls(directory, 1000, 3.0)
        await bench_stalls(directory, 5000, 3.0)
        path = await bench_queries(directory, args.lines)
        bytes_per_line(path, args.lines)


if __name__ == "__main__":
    asyncio.run(main())
