"""Where our IRC gateway's memory per user goes: tracemalloc + object counts, in-process.

The same scenario as ``bench/irc.py``'s "N users in one channel" (own XMPP account and IRC
connection per user, crowd in worker processes), but the gateway runs inside this process
with tracemalloc on, so the growth between "before" and "after the joins" is attributed to
source lines and object types. tracemalloc slows the gateway down (~2-3x): use a few hundred
users. Usage: ``python bench/_irc_memory.py [--users 200] [--alone] [--top 25]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

# This directory holds irc.py, which would shadow the irc package (jaraco) the gateway
# uses: look here last, only for the _irc_* helpers.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(_HERE)]
sys.path.append(_HERE)

from _irc_crowd import Crowd  # noqa: E402
from _irc_servers import precreate_accounts  # noqa: E402

from transport.backends.irc import IrcBackend  # noqa: E402
from transport.testing.gateway import ComponentSpec, build_settings, running_gateway  # noqa: E402
from transport.testing.servers.ircd import NgircdServer  # noqa: E402
from transport.testing.servers.prosody import ProsodyServer  # noqa: E402

OURS = "irc.localhost"
SECRET = "bench-secret"


def type_counts() -> collections.Counter[str]:
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


async def main(args: argparse.Namespace) -> None:
    task = asyncio.current_task()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
    n = args.users
    names = [f"m{i}" for i in range(n + 1)]
    with tempfile.TemporaryDirectory(prefix="bench-irc-mem-") as tmp:
        prosody = ProsodyServer({OURS: SECRET})
        ngircd = NgircdServer()
        crowd = Crowd(names, "pw", prosody.domain, "127.0.0.1", 0, args.workers)
        try:
            precreate_accounts(prosody.data_dir, prosody.domain, names, "pw")
            await prosody.astart()
            await ngircd.astart()
            crowd = Crowd(names, "pw", prosody.domain, "127.0.0.1", prosody.c2s_port,
                          args.workers)
            crowd.start()
            await crowd.all("login", {"concurrency": 25}, timeout=600)
            options = {"throttle_limit": -1,
                       "servers": {"127.0.0.1": {"port": ngircd.port, "tls": False}}}
            settings = build_settings("127.0.0.1", prosody.component_port,
                                      Path(tmp) / "gw.sqlite3",
                                      [ComponentSpec(IrcBackend, OURS, SECRET, options)],
                                      keepalive_interval=600.0, ping_timeout=120.0)
            tracemalloc.start(args.frames)
            async with running_gateway(settings):
                def room(ch: str) -> str:
                    return f"{ch}%127.0.0.1@{OURS}"
                # Warm-up: one user, one channel, so code paths and caches exist "before".
                warm = [(names[n], room("#warm"), "warm")]
                await crowd.each("join", [{"jobs": p, "concurrency": 10, "timeout": 60}
                                          for p in crowd.split(warm)])
                # Forget the warm-up room client-side: "settle" would wait for it to fill.
                await crowd.all("reset")
                await asyncio.sleep(2)
                gc.collect()
                tracemalloc.reset_peak()
                traced_before = tracemalloc.get_traced_memory()[0]
                before, types0, rss0 = tracemalloc.take_snapshot(), type_counts(), _self_rss()
                jobs = [(names[i], room(f"#alone{i}" if args.alone else "#mem"), f"u{i}")
                        for i in range(n)]
                t0 = time.monotonic()
                out = await crowd.each("join", [{"jobs": p, "concurrency": 10, "timeout": 300}
                                                for p in crowd.split(jobs)], timeout=1800)
                ok = sum(1 for part in out for r in part if r == "ok")
                expected = 1 if args.alone else n
                await crowd.all("settle", {"expected": expected, "timeout": 300}, timeout=400)
                await asyncio.sleep(3)
                gc.collect()
                after, rss1, types1 = tracemalloc.take_snapshot(), _self_rss(), type_counts()
                traced = sum(s.size_diff for s in after.compare_to(before, "filename"))
                _current, peak = tracemalloc.get_traced_memory()
                print(f"{ok}/{n} joined {'alone' if args.alone else 'one channel'} in "
                      f"{time.monotonic() - t0:.1f} s; RSS {rss0} -> {rss1} KiB = "
                      f"{(rss1 - rss0) / n:.1f} KiB/user; traced Python allocations "
                      f"+{traced / 1024:.0f} KiB = {traced / 1024 / n:.1f} KiB/user; traced peak "
                      f"{peak / 1024:.0f} KiB (before: {traced_before / 1024:.0f} KiB)")
                print(f"-- top {args.top} source lines by growth")
                for stat in after.compare_to(before, "lineno")[:args.top]:
                    frame = stat.traceback[0]
                    print(f"  {stat.size_diff / 1024:9.1f} KiB {stat.count_diff:+8d} blocks  "
                          f"{_short(frame.filename)}:{frame.lineno}")
                print("-- growth by file")
                for stat in after.compare_to(before, "filename")[:args.top]:
                    print(f"  {stat.size_diff / 1024:9.1f} KiB  "
                          f"{_short(stat.traceback[0].filename)}")
                print("-- growth by allocating call stack (first frame in transport/)")
                by_ours: collections.Counter[str] = collections.Counter()
                for stat in after.compare_to(before, "traceback"):
                    if stat.size_diff <= 0:
                        continue
                    ours = next((f for f in stat.traceback if "/transport/" in f.filename
                                 and "/testing/" not in f.filename), None)
                    key = f"{_short(ours.filename)}:{ours.lineno}" if ours else "(no frame)"
                    by_ours[key] += stat.size_diff
                for key, size in by_ours.most_common(args.top):
                    print(f"  {size / 1024:9.1f} KiB  {key}")
                print("-- object count growth by type")
                for name, count in (types1 - types0).most_common(args.top):
                    print(f"  {count:+8d}  {name}")
                del before, after
                tracemalloc.stop()  # the gateway's shutdown would crawl under it
        finally:
            crowd.stop()
            ngircd.close()
            prosody.close()


def _self_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _short(filename: str) -> str:
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--alone", action="store_true", help="each user in its own channel")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--top", type=int, default=25)
    asyncio.run(main(parser.parse_args()))
