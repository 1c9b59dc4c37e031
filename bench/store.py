"""Store benchmark: what the group-committing writer delivers, per synchronous mode.

Per mode and kind of write: commits/s and writes/s for one sequential caller and for 200
concurrent callers; the latency (p50/p99) of one awaited write while a background load of
100 writes/s runs, which is what a message in a conversation sees; and that latency once
more with the event loop about 45 % busy (BUSY_TASKS tasks each burning BUSY_SLICE_MS of
CPU every BUSY_PERIOD_MS, as stanza parsing and routing do in the gateway), where every
hand-off between the loop and a SQLite thread waits for the loop's turn and for the GIL.
Two kinds of write: ``insert`` is ``Database.execute`` of one INSERT (the writer's own
cost), ``enqueue`` is ``XmppQueueRepo.enqueue`` of one message with a dedupe key (two
statements, the inbound hot path). A raw ``sqlite3`` loop of one commit per insert on the
same file system shows the most one-at-a-time commits the disk allows.

It only uses the public API (``Database.open``, ``execute``, ``commits``, ``Store``), so it
runs unchanged against any version of the store. Files go to a fresh temporary directory
(``--dir`` picks its parent); it warns if that is not on the disk this checkout is on.
Usage: ``python bench/store.py [--seconds S] [--dir DIR] [--modes full,normal]
[--kinds insert,enqueue]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path

from transport.core.events import XmppMessage
from transport.store import Database, Store

Write = Callable[[], Awaitable[object]]

CONCURRENCY = 200
BACKGROUND_RATE = 100.0
BUSY_TASKS = 4
BUSY_SLICE_MS = 0.25
BUSY_PERIOD_MS = 2.25
COMPONENT = "bench.localhost"
_INSERT = "INSERT INTO t (v) VALUES (?)"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def raw_commits_per_second(path: Path, mode: str, seconds: float) -> float:
    """One INSERT + COMMIT at a time on a plain sqlite3 connection: the disk's floor."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={mode.upper()}")
        conn.execute("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)")
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_INSERT, ("x",))
            conn.execute("COMMIT")
            count += 1
        return count / (time.perf_counter() - start)


async def sequential(db: Database, write: Write, seconds: float) -> tuple[float, float]:
    """(commits/s, writes/s) for one caller awaiting each write before the next."""
    commits, count = db.commits, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        await write()
        count += 1
    elapsed = time.perf_counter() - start
    return (db.commits - commits) / elapsed, count / elapsed


async def concurrent(db: Database, write: Write, seconds: float) -> tuple[float, float]:
    """(commits/s, writes/s) for CONCURRENCY callers, each awaiting its writes in turn."""
    commits, count = db.commits, 0
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await write()
            count += 1

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - start
    return (db.commits - commits) / elapsed, count / elapsed


async def busy(stop: asyncio.Event) -> None:
    """Burn BUSY_SLICE_MS of CPU every BUSY_PERIOD_MS until ``stop``."""
    slice_s, idle_s = BUSY_SLICE_MS / 1000, (BUSY_PERIOD_MS - BUSY_SLICE_MS) / 1000
    while not stop.is_set():
        until = time.perf_counter() + slice_s
        while time.perf_counter() < until:
            pass
        await asyncio.sleep(idle_s)


async def latency_under_load(
    write: Write, seconds: float, busy_tasks: int = 0
) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, samples) of single awaited writes beside BACKGROUND_RATE writes/s.

    The background writes are started on a fixed schedule and not awaited in turn, so a
    slow commit does not slow the load down; the probe waits a random 0-20 ms between
    its writes so that it samples every phase of the writer's cycle.
    """
    stop = asyncio.Event()
    inflight: set[asyncio.Task[object]] = set()
    burners = [asyncio.create_task(busy(stop)) for _ in range(busy_tasks)]

    async def one() -> object:
        return await write()

    async def background() -> None:
        interval = 1 / BACKGROUND_RATE
        due = time.perf_counter()
        while not stop.is_set():
            task = asyncio.create_task(one())
            inflight.add(task)
            task.add_done_callback(inflight.discard)
            due += interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    load = asyncio.create_task(background())
    await asyncio.sleep(0.2)
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        await write()
        samples.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(rng.uniform(0, 0.02))
    stop.set()
    await asyncio.gather(load, *burners)
    await asyncio.gather(*inflight)
    return percentile(samples, 50), percentile(samples, 99), len(samples)


def insert_write(db: Database) -> Write:
    def write() -> Awaitable[object]:
        return db.execute(_INSERT, ("x",))

    return write


def enqueue_write(store: Store) -> Write:
    counter = iter(range(1 << 62))

    def write() -> Awaitable[object]:
        n = next(counter)
        message = XmppMessage(to="user@example.org", sender=f"c@{COMPONENT}", body=f"m{n}")
        return store.xmpp_queue.enqueue(COMPONENT, [message], dedupe_key=f"k{n}")

    return write


async def run_kind(kind: str, directory: Path, mode: str, seconds: float) -> dict[str, float | int]:
    path = directory / f"{kind}-{mode}.sqlite3"
    store = await Store.open(path, synchronous=mode)
    try:
        db = store.db
        if kind == "insert":
            await db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
            write = insert_write(db)
        else:
            write = enqueue_write(store)
        for _ in range(50):  # warm the statement caches and the file
            await write()
        seq_commits, seq_writes = await sequential(db, write, seconds)
        con_commits, con_writes = await concurrent(db, write, seconds)
        p50, p99, samples = await latency_under_load(write, seconds * 2)
        busy50, busy99, _ = await latency_under_load(write, seconds * 2, BUSY_TASKS)
    finally:
        await store.close()
    return {
        "seq_commits": seq_commits,
        "seq_writes": seq_writes,
        "con_commits": con_commits,
        "con_writes": con_writes,
        "p50": p50,
        "p99": p99,
        "samples": samples,
        "busy50": busy50,
        "busy99": busy99,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput figure")
    parser.add_argument("--dir", type=Path, default=None, help="parent of the temp dir")
    parser.add_argument("--modes", default="full,normal")
    parser.add_argument("--kinds", default="insert,enqueue")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix=".bench-store-", dir=args.dir) as tmp:
        directory = Path(tmp)
        checkout = Path(__file__).resolve().parent
        same = os.stat(directory).st_dev == os.stat(checkout).st_dev
        print(f"files in {directory}" + ("" if same else f" (NOT on the disk of {checkout})"))
        print(
            f"{'mode':<7}{'write':<9}{'1 caller':>22}{f'{CONCURRENCY} callers':>24}"
            f"{'at 100 writes/s':>26}{'+ busy loop':>18}"
        )
        print(
            f"{'':<16}{'commits/s':>11}{'writes/s':>11}{'commits/s':>12}{'writes/s':>12}"
            f"{'p50 ms':>9}{'p99 ms':>9}{'n':>8}{'p50 ms':>9}{'p99 ms':>9}"
        )
        for mode in args.modes.split(","):
            floor = raw_commits_per_second(directory / f"raw-{mode}.sqlite3", mode, args.seconds)
            print(f"{mode:<7}{'raw':<9}{floor:>11.0f}  (plain sqlite3, one commit per insert)")
            for kind in args.kinds.split(","):
                r = await run_kind(kind, directory, mode, args.seconds)
                print(
                    f"{mode:<7}{kind:<9}{r['seq_commits']:>11.0f}{r['seq_writes']:>11.0f}"
                    f"{r['con_commits']:>12.0f}{r['con_writes']:>12.0f}"
                    f"{r['p50']:>9.2f}{r['p99']:>9.2f}{r['samples']:>8}"
                    f"{r['busy50']:>9.2f}{r['busy99']:>9.2f}"
                )


if __name__ == "__main__":
    asyncio.run(main())
