"""IRC benchmark: our gateway and biboumi side by side, same run, same Prosody and ngIRCd.

One Prosody with two XEP-0114 components (``biboumi.localhost`` for Debian's biboumi 9.0,
``irc.localhost`` for ours), one ngIRCd with flood penalties off, SQLite on disk for both
gateways (in temporary directories on the disk the temp dir is on), both gateways' per-user
flood throttle off (biboumi: ad-hoc ``configure`` ``throttle_limit`` -1 on the server JID,
per user; ours: ``[irc] throttle_limit = -1``). Each gateway is measured alone (the other is
stopped), in turn:

1. **IRC->XMPP**: an IRC client floods a channel where one XMPP user (a ``TestClient``) is
   joined through the gateway; messages/s received by the XMPP client, completeness, order.
   The flood keeps at most ``--window`` lines in flight (sent, not yet received): ngIRCd
   disconnects a client whose 32 KiB write buffer overflows, so an unbounded flood would
   measure that, not the gateway.
2. **XMPP->IRC**: the XMPP user sends groupchat messages (same window); the IRC client
   counts them: messages/s, completeness, order.
3. **Latency** p50/p99 at a steady ``--rate`` msg/s each way, from a timestamp in the body.
4. **Memory per user** (VmRSS of the gateway process from /proc, before and after N users
   join; a fresh gateway process for each case, warmed by the measuring user's own join):
   N users in ONE channel (100 and 500), and 100 users each alone in a channel. Every user
   is its own XMPP account (files pre-written into Prosody's data dir: ``prosodyctl register``
   takes ~40 ms each) and its own IRC connection, as with biboumi. The crowd runs in worker
   processes (see ``_irc_crowd.py``).
5. **Fan-out**: the IRC client says one line in the crowded channel; time until every
   XMPP user received it (median of ``--fanout-reps`` lines).

Prints both gateways side by side with the machine and the targets of issue 4 item 9.
Every process it starts (servers, gateways, crowd workers, py-spy) is stopped by PID, also
on errors and Ctrl-C/SIGTERM.

Usage: ``python bench/irc.py [--quick] [--only ours|biboumi] [--profile DIR]``
(``--quick``: small counts, about 1-2 minutes; the default full run takes about 10).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# This directory holds irc.py, which would shadow the irc package (jaraco) the gateway
# uses: look here last, only for the _irc_* helpers.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(_HERE)]
sys.path.append(_HERE)

from _irc_crowd import MARK, BenchClient, Crowd, configure_biboumi, send_join, status_codes  # noqa: E402
from _irc_net import IrcPeer  # noqa: E402
from _irc_servers import (  # noqa: E402
    BenchGateway,
    BiboumiServer,
    cpu_seconds,
    machine_summary,
    precreate_accounts,
    rss_kib,
)

from transport.testing.gateway import ComponentSpec, write_config  # noqa: E402
from transport.testing.servers.ircd import NgircdServer  # noqa: E402
from transport.testing.servers.prosody import ProsodyServer  # noqa: E402

BIBOUMI = "biboumi.localhost"
OURS = "irc.localhost"
SECRET = "bench-secret"
PASSWORD = "pw"
IRC_HOST = "127.0.0.1"
PAD = "the quick brown fox jumps over the lazy dog"

# Reference figures and targets from issue 4 item 9 (measured there on this machine kind).
REFERENCE = {
    "i2x_rate": "560-600 msg/s", "x2i_rate": "560-600 msg/s", "p99": "~6.5 ms",
    "mem_one_100": "54 KiB", "mem_one_500": "215 KiB", "mem_alone_100": "~11 KiB",
}


def now() -> float:
    return time.monotonic()


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


LOADS: list[float] = []


def log(msg: str) -> None:
    """Progress on stderr, with the 1-minute load average (other work on the machine)."""
    load = os.getloadavg()[0]
    LOADS.append(load)
    print(f"[{time.strftime('%H:%M:%S')} load {load:.2f}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- gateways

class Target:
    """One gateway under test: how to start, stop and address it."""

    key = ""
    label = ""
    domain = ""
    tag = ""

    def room(self, channel: str) -> str:
        return f"{channel}%{IRC_HOST}@{self.domain}"

    @property
    def pid(self) -> int | None:
        raise NotImplementedError

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def prepare(self, client: BenchClient) -> None:
        """Per-user settings the gateway needs before the user's first join."""

    def describe(self) -> str:
        raise NotImplementedError


class BiboumiTarget(Target):
    key, label, domain, tag = "biboumi", "biboumi 9.0", BIBOUMI, "bb"

    def __init__(self, prosody: ProsodyServer, ngircd: NgircdServer) -> None:
        self.server = BiboumiServer(BIBOUMI, SECRET, prosody.component_port)
        self.ngircd = ngircd

    @property
    def pid(self) -> int | None:
        return self.server.pid

    async def start(self) -> None:
        await self.server.astart()

    async def stop(self) -> None:
        # With 500 users biboumi's graceful stop (QUIT per connection, then waiting for
        # the server to close each one) takes a while; SIGKILL after 60 s.
        await self.server.astop(timeout=60.0)

    async def prepare(self, client: BenchClient) -> None:
        await configure_biboumi(client, f"{IRC_HOST}@{BIBOUMI}", self.ngircd.port)

    def describe(self) -> str:
        return (f"biboumi {self.server.config_path} (log_level=1, SQLite {self.server.db_path}:"
                " biboumi's defaults, rollback journal, synchronous=FULL, one insert per line"
                " per user)")

    def close(self) -> None:
        self.server.close()


class OursTarget(Target):
    key, label, domain, tag = "ours", "xmpp-transport", OURS, "tr"

    def __init__(self, workdir: Path, prosody: ProsodyServer, ngircd: NgircdServer,
                 synchronous: str) -> None:
        self.workdir = workdir
        self.db_path = workdir / "gw.sqlite3"
        self.synchronous = synchronous
        servers = f'\n[irc.servers."{IRC_HOST}"]\nport = {ngircd.port}\ntls = false\n'
        self.config = write_config(
            workdir / "gw.toml", "127.0.0.1", prosody.component_port, self.db_path,
            [ComponentSpec("irc", OURS, SECRET, {"throttle_limit": -1})], extra=servers)
        text = self.config.read_text().replace(
            "[database]\n", f'[database]\nsynchronous = "{synchronous}"\n', 1)
        self.config.write_text(text)
        self.proc: BenchGateway | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    async def start(self) -> None:
        self.proc = BenchGateway(self.config, self.workdir / "gw.log", log_level="INFO")
        self.proc.start()

    async def stop(self) -> None:
        if self.proc is not None:
            await asyncio.to_thread(self.proc.stop, 60.0)

    def describe(self) -> str:
        return (f"python -m transport run --config {self.config} --log-level INFO "
                f"(SQLite {self.db_path}, synchronous={self.synchronous})")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stop(5)


async def wait_online(client: BenchClient, target: Target, timeout: float = 30.0) -> float:
    """Until the component answers disco#info (Prosody answers an error while it is away)."""
    start = now()
    while now() - start < timeout:
        if target.pid is None:
            raise RuntimeError(f"{target.label} exited; see its log")
        try:
            await client.plugin["xep_0030"].get_info(jid=target.domain, timeout=2)
            return now() - start
        except Exception:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{target.label} did not come online in {timeout:.0f} s")


async def wait_offline(client: BenchClient, target: Target, timeout: float = 30.0) -> None:
    """Until Prosody no longer routes to the component (a new one would be refused)."""
    start = now()
    while now() - start < timeout:
        try:
            await client.plugin["xep_0030"].get_info(jid=target.domain, timeout=2)
        except Exception:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{target.label}: Prosody still had the component after {timeout:.0f} s")


async def start_target(client: BenchClient, target: Target, attempts: int = 5) -> float:
    """Start and wait until online; retried when Prosody still held the old component."""
    for attempt in range(attempts):
        try:
            await target.start()
            return await wait_online(client, target)
        except Exception as exc:
            if attempt == attempts - 1:
                raise
            log(f"{target.label} did not come up ({str(exc).splitlines()[0]}); retrying")
            await target.stop()
            await asyncio.sleep(1.0)
    raise AssertionError("unreachable")


async def join_room(client: BenchClient, room: str, nick: str, timeout: float = 30.0) -> None:
    """Join and wait for our self-presence (110), then the subject if it comes."""
    send_join(client, room, nick)

    def self_presence(s: Any) -> bool:
        return (s.name == "presence" and s["from"].bare == room
                and (s["type"] == "error" or "110" in status_codes(s)))

    got = await client.expect(self_presence, timeout)
    if got["type"] == "error":
        raise RuntimeError(f"join {room} refused: {got['error']['condition']}")
    with contextlib.suppress(TimeoutError):
        await client.expect(lambda s: s.name == "message" and s["from"].bare == room
                            and s.xml.find("{jabber:client}subject") is not None, 5)
    client.drain()


# ----------------------------------------------------------------------------- measures

@dataclasses.dataclass
class Flow:
    sent: int = 0
    received: int = 0
    seconds: float = 0.0
    inversions: int = 0
    duplicates: int = 0

    @property
    def rate(self) -> float:
        return self.received / self.seconds if self.seconds > 0 else 0.0

    @property
    def complete(self) -> bool:
        return self.received == self.sent and self.duplicates == 0

    @property
    def ordered(self) -> bool:
        return self.inversions == 0

    def summary(self) -> str:
        return (f"{self.rate:,.0f} msg/s ({self.received}/{self.sent} in {self.seconds:.2f} s"
                f"{'' if self.ordered else f', {self.inversions} out of order'}"
                f"{f', {self.duplicates} dup' if self.duplicates else ''})")


def order_stats(seqs: list[int]) -> tuple[int, int]:
    inversions = sum(1 for a, b in itertools.pairwise(seqs) if b < a)
    return inversions, len(seqs) - len(set(seqs))


async def windowed(count: int, window: int, send: Callable[[int, int], Any],
                   received: Callable[[], int], stall: float, cap: float) -> float:
    """Send ``count`` items keeping at most ``window`` unreceived; returns when all arrived,
    nothing arrived for ``stall`` s, or ``cap`` s passed. Returns the start time."""
    start = now()
    sent = 0
    last_progress, last_count = start, 0
    while now() - start < cap:
        got = received()
        if got != last_count:
            last_progress, last_count = now(), got
        if got >= count:
            break
        if now() - last_progress > stall:
            log(f"  stalled at {got}/{count}")
            break
        room_left = min(window - (sent - got), count - sent)
        if room_left > 0:
            await send(sent, room_left)
            sent += room_left
        else:
            await asyncio.sleep(0.001)
    return start


async def flood_irc_to_xmpp(peer: IrcPeer, client: BenchClient, channel: str, room: str,
                            count: int, window: int, run: str) -> Flow:
    prefix = f"i2x {run} "
    seqs: list[int] = []
    last = [0.0]

    def tap(s: Any) -> bool:
        if s.name == "message" and s["type"] == "groupchat":
            body = s["body"]
            if body.startswith(prefix):
                seqs.append(int(body.split(" ", 3)[2]))
                last[0] = now()
                return True
        return False

    async def send(first: int, n: int) -> None:
        peer.write(*(f"PRIVMSG {channel} :{prefix}{i} {PAD}" for i in range(first, first + n)))
        await peer.drain()

    client.tap = tap
    try:
        start = await windowed(count, window, send, lambda: len(seqs), 15.0, 300.0)
    finally:
        client.tap = None
    inv, dup = order_stats(seqs)
    return Flow(count, len(set(seqs)), (last[0] or now()) - start, inv, dup)


async def flood_xmpp_to_irc(peer: IrcPeer, client: BenchClient, channel: str, room: str,
                            count: int, window: int, run: str) -> Flow:
    prefix = f"x2i {run} "
    seqs: list[int] = []
    last = [0.0]
    folded = channel.lower()

    def on_privmsg(_nick: str, target: str, text: str, t: float) -> None:
        if target.lower() == folded and text.startswith(prefix):
            seqs.append(int(text.split(" ", 3)[2]))
            last[0] = t

    def tap(s: Any) -> bool:  # reflections of our own lines: consumed, not queued
        return s.name == "message" and s["body"].startswith(prefix)

    async def send(first: int, n: int) -> None:
        for i in range(first, first + n):
            client.make_message(mto=room, mbody=f"{prefix}{i} {PAD}", mtype="groupchat").send()
            if i % 50 == 49:
                await asyncio.sleep(0)

    peer.on_privmsg, client.tap = on_privmsg, tap
    try:
        start = await windowed(count, window, send, lambda: len(seqs), 15.0, 300.0)
        await asyncio.sleep(0.5)  # let the last reflections arrive and be consumed
    finally:
        peer.on_privmsg, client.tap = None, None
    inv, dup = order_stats(seqs)
    return Flow(count, len(set(seqs)), (last[0] or now()) - start, inv, dup)


@dataclasses.dataclass
class Latency:
    sent: int
    samples: list[float]

    def summary(self) -> str:
        if not self.samples:
            return "no samples"
        return (f"p50 {percentile(self.samples, 50) * 1000:.2f} ms, "
                f"p99 {percentile(self.samples, 99) * 1000:.2f} ms, "
                f"max {max(self.samples) * 1000:.1f} ms ({len(self.samples)}/{self.sent})")


async def paced(rate: float, seconds: float, send: Callable[[int], None]) -> int:
    total = int(rate * seconds)
    start = now()
    for i in range(total):
        delay = start + i / rate - now()
        if delay > 0:
            await asyncio.sleep(delay)
        send(i)
    return total


async def latency_irc_to_xmpp(peer: IrcPeer, client: BenchClient, channel: str, rate: float,
                              seconds: float, run: str) -> Latency:
    prefix = f"l2x {run} "
    samples: list[float] = []

    def tap(s: Any) -> bool:
        if s.name == "message" and s["type"] == "groupchat":
            body = s["body"]
            if body.startswith(prefix):
                samples.append(now() - float(body.split(" ", 4)[3]))
                return True
        return False

    client.tap = tap
    try:
        sent = await paced(rate, seconds, lambda i: peer.write(
            f"PRIVMSG {channel} :{prefix}{i} {now():.6f} {PAD}"))
        deadline = now() + 10
        while len(samples) < sent and now() < deadline:
            await asyncio.sleep(0.05)
    finally:
        client.tap = None
    return Latency(sent, samples)


async def latency_xmpp_to_irc(peer: IrcPeer, client: BenchClient, channel: str, room: str,
                              rate: float, seconds: float, run: str) -> Latency:
    prefix = f"l2i {run} "
    samples: list[float] = []
    folded = channel.lower()

    def on_privmsg(_nick: str, target: str, text: str, t: float) -> None:
        if target.lower() == folded and text.startswith(prefix):
            samples.append(t - float(text.split(" ", 4)[3]))

    def tap(s: Any) -> bool:
        return s.name == "message" and s["body"].startswith(prefix)

    peer.on_privmsg, client.tap = on_privmsg, tap
    try:
        sent = await paced(rate, seconds, lambda i: client.make_message(
            mto=room, mbody=f"{prefix}{i} {now():.6f} {PAD}", mtype="groupchat").send())
        deadline = now() + 10
        while len(samples) < sent and now() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        peer.on_privmsg, client.tap = None, None
    return Latency(sent, samples)


@dataclasses.dataclass
class CrowdResult:
    users: int
    mode: str
    joined: int = 0
    join_seconds: float = 0.0
    settle_seconds: float = 0.0
    min_occupants: int = 0
    expected_occupants: int = 0
    rss_before: int = 0
    rss_after: int = 0
    cpu_seconds: float = 0.0
    fanout: list[float] = dataclasses.field(default_factory=list)  # "all received" times
    fanout_p50: list[float] = dataclasses.field(default_factory=list)
    fanout_missing: int = 0
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    previous_stop_seconds: float = 0.0
    rss_peak: int = 0
    load: float = 0.0

    @property
    def per_user_kib(self) -> float:
        """RSS growth per user that really joined."""
        users = self.joined or self.users
        return (self.rss_after - self.rss_before) / users if users else 0.0


# ----------------------------------------------------------------------------- driver

class Bench:
    def __init__(self, args: argparse.Namespace, prosody: ProsodyServer, ngircd: NgircdServer,
                 crowd: Crowd, client: BenchClient, names: list[str]) -> None:
        self.args = args
        self.prosody = prosody
        self.ngircd = ngircd
        self.crowd = crowd
        self.client = client
        self.names = names
        self.spies: list[subprocess.Popen[bytes]] = []

    async def restart(self, target: Target) -> float:
        """A fresh gateway process; returns how long the old one took to stop."""
        start = now()
        await target.stop()
        stopped = now() - start
        await wait_offline(self.client, target)
        await start_target(self.client, target)
        return stopped

    def spy(self, target: Target, name: str, seconds: float) -> subprocess.Popen[bytes] | None:
        """py-spy on our gateway for ``seconds`` (``--profile DIR``); raw stacks to DIR."""
        if not self.args.profile or target.key != "ours" or target.pid is None:
            return None
        out = Path(self.args.profile) / f"{name}.raw"
        proc = subprocess.Popen(
            ["py-spy", "record", "--threads", "-d", str(max(1, round(seconds))), "-r", "100",
             "-f", "raw",
             "-o", str(out), "-p", str(target.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.spies.append(proc)
        return proc

    def strace(self, target: Target, name: str) -> subprocess.Popen[bytes] | None:
        """``--strace DIR``: a timestamped trace of our gateway's socket and fsync calls."""
        if not self.args.strace or target.key != "ours" or target.pid is None:
            return None
        out = Path(self.args.strace) / f"{name}.strace"
        proc = subprocess.Popen(
            ["strace", "-f", "-tt", "-T", "-s", "200", "-o", str(out), "-p", str(target.pid), "-e",
             "trace=read,recvfrom,write,sendto,sendmsg,fdatasync,fsync,pwrite64,pread64"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.spies.append(proc)
        time.sleep(0.5)  # attached before the first line
        return proc

    def unspy(self, proc: subprocess.Popen[bytes] | None) -> None:
        if proc is None:
            return
        if proc.args[0] == "strace":
            proc.terminate()  # strace runs until detached
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    async def setup(self, target: Target) -> tuple[dict[str, Any], IrcPeer]:
        """Start ``target``, join its flow channel from IRC and from XMPP, warm both ways."""
        res: dict[str, Any] = {"target": target, "rounds": []}
        log(f"{target.label}: starting")
        res["online_s"] = await start_target(self.client, target)
        res["rss_idle"] = rss_kib(target.pid)
        await target.prepare(self.client)
        tag = target.tag
        peer = await IrcPeer(f"{tag}peer").connect(IRC_HOST, self.ngircd.port)
        channel = f"#{tag}flow"
        room = target.room(channel)
        await peer.join(channel)
        await join_room(self.client, room, f"{tag}bench")
        await flood_irc_to_xmpp(peer, self.client, channel, room, 50, 50, "w")
        await flood_xmpp_to_irc(peer, self.client, channel, room, 50, 50, "w")
        return res, peer

    async def flow_round(self, target: Target, peer: IrcPeer, res: dict[str, Any],
                         r: int) -> None:
        """One round of both floods and both latency runs on ``target``."""
        a = self.args
        channel = f"#{target.tag}flow"
        room = target.room(channel)
        pid = target.pid
        out: dict[str, Any] = {}
        cpu0 = cpu_seconds(pid)
        out["i2x"] = await flood_irc_to_xmpp(peer, self.client, channel, room, a.count,
                                             a.window, f"{r}")
        out["i2x_cpu"] = cpu_seconds(pid) - cpu0
        cpu0 = cpu_seconds(pid)
        out["x2i"] = await flood_xmpp_to_irc(peer, self.client, channel, room, a.count,
                                             a.window, f"{r}")
        out["x2i_cpu"] = cpu_seconds(pid) - cpu0
        log(f"{target.label} round {r + 1}: IRC->XMPP {out['i2x'].summary()}; "
            f"XMPP->IRC {out['x2i'].summary()}")
        tracer = self.strace(target, f"ours-l2x-{r}")
        out["l2x"] = await latency_irc_to_xmpp(peer, self.client, channel, a.rate, a.seconds,
                                               f"{r}")
        self.unspy(tracer)
        tracer = self.strace(target, f"ours-l2i-{r}")
        out["l2i"] = await latency_xmpp_to_irc(peer, self.client, channel, room, a.rate,
                                               a.seconds, f"{r}")
        self.unspy(tracer)
        log(f"{target.label} round {r + 1}: latency at {a.rate:.0f}/s IRC->XMPP "
            f"{out['l2x'].summary()}; XMPP->IRC {out['l2i'].summary()}")
        res["rounds"].append(out)

    async def crowd_cases(self, target: Target, peer: IrcPeer, res: dict[str, Any]) -> None:
        a = self.args
        cases = [("one", a.users_small), ("one", a.users_large), ("alone", a.users_alone)]
        res["crowd"] = []
        for k, (mode, n) in enumerate(cases):
            if n <= 0:
                continue
            res["crowd"].append(await self._crowd_case(target, peer, mode, n, k))
        await target.stop()

    async def _profile_flows(self, target: Target, peer: IrcPeer, channel: str, room: str,
                             res: dict[str, Any]) -> None:
        a = self.args
        for name, fn in (("i2x", flood_irc_to_xmpp), ("x2i", flood_xmpp_to_irc)):
            rate = max(statistics.median(r[name].rate for r in res["rounds"]), 100.0)
            count = int(min(rate * a.profile_seconds, 40_000))
            spy = self.spy(target, f"ours-{name}", a.profile_seconds)
            await asyncio.sleep(0.5)
            flow = await fn(peer, self.client, channel, room, count, a.window, f"p{name}")
            log(f"  profiled {name}: {flow.summary()}")
            self.unspy(spy)
        spy = self.spy(target, "ours-latency", a.seconds)
        await asyncio.sleep(0.5)
        lat = await latency_irc_to_xmpp(peer, self.client, channel, a.rate, a.seconds, "p")
        log(f"  profiled latency IRC->XMPP: {lat.summary()}")
        self.unspy(spy)

    async def _crowd_case(self, target: Target, peer: IrcPeer, mode: str, n: int,
                          k: int) -> CrowdResult:
        a = self.args
        tag = target.tag
        out = CrowdResult(n, mode)
        log(f"{target.label}: {n} users {'in one channel' if mode == 'one' else 'alone'}: "
            "fresh gateway process")
        out.previous_stop_seconds = await self.restart(target)
        await self.crowd.all("reset")
        await join_room(self.client, target.room(f"#{tag}flow"), f"{tag}bench")
        channel = f"#{tag}crowd{k}"
        if mode == "one":
            await peer.join(channel)
        await asyncio.sleep(1.0)
        pid = target.pid
        out.rss_before = rss_kib(pid)
        cpu0 = cpu_seconds(pid)
        users = self.names[:n]
        jobs = [(name, target.room(channel if mode == "one" else f"#{tag}s{k}x{i}"),
                 f"{tag}{k}u{i}") for i, name in enumerate(users)]
        spy = None
        if mode == "one" and n == max(a.users_small, a.users_large):
            spy = self.spy(target, f"ours-join{n}", 3 * a.profile_seconds)
        peak = [out.rss_before]

        async def sample_peak() -> None:
            while True:
                peak[0] = max(peak[0], rss_kib(pid))
                await asyncio.sleep(0.25)

        sampler = asyncio.create_task(sample_peak())
        start = now()
        parts = self.crowd.split(jobs)
        outcomes = await self.crowd.each(
            "join", [{"jobs": p, "concurrency": a.join_concurrency, "timeout": 120.0}
                     for p in parts], timeout=900.0)
        out.join_seconds = now() - start
        self.unspy(spy)
        for result in (r for part in outcomes for r in part):
            out.errors[result] = out.errors.get(result, 0) + 1
        out.joined = out.errors.pop("ok", 0)
        # Everyone who joined, plus the IRC speaker; a refused join is reported, not awaited.
        out.expected_occupants = out.joined + 1 if mode == "one" else 1
        start = now()
        counts = await self.crowd.all(
            "settle", {"expected": out.expected_occupants, "timeout": a.settle_timeout},
            timeout=a.settle_timeout + 60)
        out.settle_seconds = now() - start
        flat = [c for part in counts for c in part]
        out.min_occupants = min(flat) if flat else 0
        await asyncio.sleep(2.0)  # archive batches, queued stanzas, GC
        sampler.cancel()
        out.rss_after = rss_kib(pid)
        out.rss_peak = max(peak[0], out.rss_after)
        out.cpu_seconds = cpu_seconds(pid) - cpu0
        log(f"  joined {out.joined}/{n} in {out.join_seconds:.1f} s, settled in "
            f"{out.settle_seconds:.1f} s (min occupants {out.min_occupants}/"
            f"{out.expected_occupants}), RSS {out.rss_before} -> {out.rss_after} KiB "
            f"(peak {out.rss_peak}) = "
            f"{out.per_user_kib:.1f} KiB/user {out.errors or ''}")
        if mode == "one" and out.joined:
            for rep in range(a.fanout_reps):
                body = f"{MARK}{tag} {k} {rep}"
                t0 = now()
                peer.write(f"PRIVMSG {channel} :{body}")
                await peer.drain()
                times = await self.crowd.all("marks", {"body": body, "timeout": 60.0}, 120.0)
                got = [t - t0 for part in times for t in part if t is not None]
                out.fanout_missing += sum(1 for part in times for t in part if t is None)
                if got:
                    out.fanout.append(max(got))
                    out.fanout_p50.append(percentile(got, 50))
                await asyncio.sleep(0.5)
            log(f"  fan-out to {out.joined}: all received in "
                f"{', '.join(f'{x * 1000:.0f}' for x in out.fanout)} ms")
        return out


# ----------------------------------------------------------------------------- report

def flows(res: dict[str, Any], key: str) -> list[Any]:
    return [r[key] for r in res.get("rounds", [])]


def median_rate(res: dict[str, Any], key: str) -> float:
    return statistics.median(f.rate for f in flows(res, key))


def fmt_rate(res: dict[str, Any], key: str) -> str:
    """Median rate over the rounds, the range, and any loss or reordering."""
    runs = flows(res, key)
    if not runs:
        return "-"
    rates = sorted(f.rate for f in runs)
    text = f"{statistics.median(rates):,.0f}/s"
    if len(rates) > 1:
        text += f" ({rates[0]:,.0f}-{rates[-1]:,.0f})"
    lost = sum(f.sent - f.received for f in runs)
    inv = sum(f.inversions for f in runs)
    dup = sum(f.duplicates for f in runs)
    flags = [f"{lost} lost"] if lost else []
    flags += [f"{inv} out of order"] if inv else []
    flags += [f"{dup} dup"] if dup else []
    return text + (f" {', '.join(flags)}" if flags else " all, in order")


def complete_ordered(res: dict[str, Any], key: str) -> bool:
    return all(f.complete and f.ordered for f in flows(res, key))


def pooled(res: dict[str, Any], key: str) -> list[float]:
    return [x for lat in flows(res, key) for x in lat.samples]


def fmt_p99(res: dict[str, Any], key: str) -> str:
    values = pooled(res, key)
    if not values:
        return "-"
    text = f"{percentile(values, 99) * 1000:.2f} ms"
    per_round = sorted(percentile(lat.samples, 99) * 1000 for lat in flows(res, key)
                       if lat.samples)
    if len(per_round) > 1:
        text += f" (rounds {per_round[0]:.1f}-{per_round[-1]:.1f})"
    return text


def fmt_ms(values: list[float], pct: float) -> str:
    return f"{percentile(values, pct) * 1000:.2f} ms" if values else "-"


def crowd_of(res: dict[str, Any] | None, mode: str, n: int) -> CrowdResult | None:
    if res is None:
        return None
    for c in res.get("crowd", []):
        if c.mode == mode and c.users == n:
            return c
    return None


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]], machine: str,
           elapsed: float) -> str:
    bib, ours = results.get("biboumi"), results.get("ours")
    rows: list[tuple[str, str, str, str, str]] = []

    def add(metric: str, get: Callable[[dict[str, Any]], str], ref: str = "",
            verdict: str = "") -> None:
        rows.append((metric, get(bib) if bib else "-", get(ours) if ours else "-", ref, verdict))

    def judge(ok: bool | None) -> str:
        return "-" if ok is None else ("PASS" if ok else "MISS")

    def both(fn: Callable[[dict[str, Any], dict[str, Any]], bool]) -> bool | None:
        if bib is None or ours is None:
            return None
        try:
            return fn(bib, ours)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return None

    for key, name in (("i2x", "IRC->XMPP channel msgs"), ("x2i", "XMPP->IRC channel msgs")):
        add(name, lambda r, key=key: fmt_rate(r, key), REFERENCE[f"{key}_rate"],
            ">= 3x biboumi, all, in order: " + judge(both(
                lambda b, o, key=key: median_rate(o, key) >= 3 * median_rate(b, key)
                and complete_ordered(o, key))))
        add("  gateway CPU per message", lambda r, key=key: "{:.2f} ms".format(
            statistics.median(x[f"{key}_cpu"] / x[key].sent for x in r["rounds"]) * 1000))
    for key, name in (("l2x", "IRC->XMPP"), ("l2i", "XMPP->IRC")):
        ref = REFERENCE["p99"] if key == "l2x" else ""
        add(f"latency {name} p50 @{args.rate:.0f}/s",
            lambda r, key=key: fmt_ms(pooled(r, key), 50), "")
        add(f"latency {name} p99 @{args.rate:.0f}/s", lambda r, key=key: fmt_p99(r, key), ref,
            "<= biboumi: " + judge(both(lambda b, o, key=key: percentile(pooled(o, key), 99)
                                        <= percentile(pooled(b, key), 99))))
        add("  received", lambda r, key=key: (
            f"{len(pooled(r, key))}/{sum(lat.sent for lat in flows(r, key))}"))
    add("RSS idle (component up)", lambda r: f"{r['rss_idle'] / 1024:.1f} MiB")
    cases = [("one", args.users_small, "mem_one_100"), ("one", args.users_large, "mem_one_500"),
             ("alone", args.users_alone, "mem_alone_100")]
    for mode, n, ref_key in cases:
        if n <= 0:
            continue
        label = f"{n} users in one channel" if mode == "one" else f"{n} users, one channel each"
        ref = REFERENCE[ref_key] if n in (100, 500) else ""
        verdict = ""
        if mode == "one" and n == args.users_large:
            verdict = "< biboumi: " + judge(both(
                lambda b, o, n=n: crowd_of(o, "one", n).per_user_kib  # type: ignore[union-attr]
                < crowd_of(b, "one", n).per_user_kib))  # type: ignore[union-attr]
        elif mode == "alone":
            verdict = "<= 3x biboumi: " + judge(both(
                lambda b, o, n=n: crowd_of(o, "alone", n).per_user_kib  # type: ignore[union-attr]
                <= 3 * max(crowd_of(b, "alone", n).per_user_kib, 0.0)))  # type: ignore[union-attr]

        def mem(r: dict[str, Any], mode: str = mode, n: int = n) -> str:
            c = crowd_of(r, mode, n)
            return "-" if c is None else (
                f"{c.per_user_kib:.1f} KiB/user ({c.rss_before / 1024:.1f}->"
                f"{c.rss_after / 1024:.1f} MiB, peak {c.rss_peak / 1024:.1f})")

        def joins(r: dict[str, Any], mode: str = mode, n: int = n) -> str:
            c = crowd_of(r, mode, n)
            if c is None:
                return "-"
            extra = f", {c.errors}" if c.errors else ""
            return (f"{c.joined}/{n} in {c.join_seconds:.1f}+{c.settle_seconds:.1f} s, "
                    f"{c.cpu_seconds:.1f} CPU-s{extra}")

        add(f"memory, {label}", mem, ref, verdict)
        add("  joins (+ presences settled)", joins)
        if mode == "one":
            def fan(r: dict[str, Any], mode: str = mode, n: int = n) -> str:
                c = crowd_of(r, mode, n)
                if c is None or not c.fanout:
                    return "-"
                miss = f", {c.fanout_missing} missing" if c.fanout_missing else ""
                return (f"{statistics.median(c.fanout) * 1000:.0f} ms "
                        f"(p50 user {statistics.median(c.fanout_p50) * 1000:.0f} ms{miss})")
            add(f"  fan-out of 1 line to all {n}", fan)

    header = ("metric", "biboumi 9.0", "xmpp-transport", "issue ref.", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = [
        f"machine: {machine}",
        f"run: {'quick' if args.quick else 'full'}, {elapsed:.0f} s; {args.rounds} alternating "
        f"round(s) of: flows of {args.count} msgs (window {args.window}), latency "
        f"{args.rate:.0f} msg/s x {args.seconds:.0f} s each way (rates: median (min-max); "
        f"latency: all rounds pooled); "
        f"crowd in {args.workers} worker processes; 1-min load average during the run "
        f"{min(LOADS, default=0):.2f}-{max(LOADS, default=0):.2f}",
    ]
    for res in (bib, ours):
        if res is not None:
            lines.append(f"{res['target'].label}: {res['target'].describe()}")
    lines.append("")
    lines.append(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines.append("-+-".join("-" * w for w in widths))
    for row in rows:
        lines.append(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main

async def main(args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
    started = now()
    crowd_size = max(args.users_small, args.users_large, args.users_alone)
    names = [f"c{i}" for i in range(crowd_size)]
    results: dict[str, dict[str, Any]] = {}
    async with contextlib.AsyncExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-irc-")))
        if args.keep:
            workdir = Path(args.keep)
            workdir.mkdir(parents=True, exist_ok=True)
        for folder in (args.profile, args.strace):
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)
        machine = machine_summary(workdir)
        prosody = ProsodyServer({BIBOUMI: SECRET, OURS: SECRET})
        stack.callback(prosody.close)
        took = precreate_accounts(prosody.data_dir, prosody.domain, ["bench", *names], PASSWORD)
        log(f"{len(names) + 1} accounts written in {took * 1000:.0f} ms "
            f"(prosodyctl register: ~40 ms each)")
        await prosody.astart()
        ngircd = NgircdServer()
        stack.callback(ngircd.close)
        await ngircd.astart()
        crowd = Crowd(names, PASSWORD, prosody.domain, "127.0.0.1", prosody.c2s_port,
                      args.workers)
        stack.callback(crowd.stop)
        crowd.start()
        client = BenchClient(f"bench@{prosody.domain}/bench", PASSWORD, "127.0.0.1",
                             prosody.c2s_port)
        await client.login()
        stack.push_async_callback(client.logout)
        t0 = now()
        logins = await crowd.all("login", {"concurrency": 25}, timeout=600)
        failed = [r for part in logins for r in part if r != "ok"]
        log(f"{len(names)} crowd users logged in ({args.workers} workers) in "
            f"{now() - t0:.1f} s" + (f"; failures: {failed[:3]}" if failed else ""))
        if failed:
            raise RuntimeError(f"{len(failed)} crowd logins failed: {failed[:3]}")
        bench = Bench(args, prosody, ngircd, crowd, client, names)

        def stop_spies() -> None:
            for spy in bench.spies:
                if spy.poll() is None:
                    spy.kill()
                    spy.wait(5)

        stack.callback(stop_spies)
        targets: list[Target] = []
        if args.only in (None, "biboumi"):
            bib = BiboumiTarget(prosody, ngircd)
            stack.callback(bib.close)
            targets.append(bib)
        if args.only in (None, "ours"):
            ours = OursTarget(workdir, prosody, ngircd, args.synchronous)
            stack.callback(ours.close)
            targets.append(ours)
        for target in targets:
            if isinstance(target, BiboumiTarget):
                # biboumi's per-user server settings: port, no TLS, throttle_limit -1.
                await start_target(client, target)
                t0 = now()
                parts = crowd.split_names(names)
                outcome = await crowd.each("configure_biboumi", [
                    {"names": p, "server_jid": f"{IRC_HOST}@{BIBOUMI}", "port": ngircd.port,
                     "concurrency": 10} for p in parts], timeout=600)
                bad = [r for part in outcome for r in part if r != "ok"]
                log(f"biboumi configure (ad-hoc) for {len(names)} users in {now() - t0:.1f} s"
                    + (f"; failures: {bad[:3]}" if bad else ""))
                await target.stop()
                await wait_offline(client, target)
        # Flows and latency: both gateways up, measured in alternating order, round by round,
        # so that other load on the machine hits both alike.
        peers: dict[str, IrcPeer] = {}
        for target in targets:
            results[target.key], peers[target.key] = await bench.setup(target)
            stack.callback(peers[target.key].close)
        for r in range(args.rounds):
            for target in targets if r % 2 == 0 else targets[::-1]:
                await bench.flow_round(target, peers[target.key], results[target.key], r)
        for target in targets:
            res = results[target.key]
            if args.profile and target.key == "ours":
                channel = f"#{target.tag}flow"
                await bench._profile_flows(target, peers[target.key], channel,
                                           target.room(channel), res)
            res["rss_after_flows"] = rss_kib(target.pid)
            await target.stop()
        # Memory and fan-out: one gateway at a time, a fresh process for each case.
        for target in targets:
            await bench.crowd_cases(target, peers[target.key], results[target.key])
        text = report(args, results, machine, now() - started)
        print(text, flush=True)
        if args.output:
            Path(args.output).write_text(text + "\n")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small counts (1,000-message flows, 3 s latency, 20/50/20 users)")
    parser.add_argument("--only", choices=("biboumi", "ours"), help="measure one gateway")
    parser.add_argument("--count", type=int, help="messages per flow (default 5000)")
    parser.add_argument("--rounds", type=int,
                        help="alternating rounds of flows and latency (default 3; quick 1)")
    parser.add_argument("--window", type=int, default=300,
                        help="most messages in flight during a flow (default 300)")
    parser.add_argument("--rate", type=float, default=100.0, help="latency rate, msg/s")
    parser.add_argument("--seconds", type=float, help="latency duration each way (default 10)")
    parser.add_argument("--users-small", type=int, help="users in one channel (default 100)")
    parser.add_argument("--users-large", type=int, help="users in one channel (default 500)")
    parser.add_argument("--users-alone", type=int, help="users alone in a channel (100)")
    parser.add_argument("--fanout-reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="crowd worker processes")
    parser.add_argument("--join-concurrency", type=int, default=10,
                        help="joins in flight per worker")
    parser.add_argument("--settle-timeout", type=float, default=240.0)
    parser.add_argument("--synchronous", default="full", choices=("full", "normal"),
                        help="our gateway's [database] synchronous (default full, as shipped)")
    parser.add_argument("--profile", metavar="DIR",
                        help="py-spy raw stacks of our gateway during extra flows, into DIR")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    parser.add_argument("--strace", metavar="DIR",
                        help="strace our gateway (sockets, fsync) during the latency phases")
    parser.add_argument("--keep", metavar="DIR", help="keep our gateway's config/log/db here")
    parser.add_argument("--output", metavar="FILE", help="also write the table to FILE")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {"rounds": 1 if quick else 3, "count": 1000 if quick else 5000,
                "seconds": 3.0 if quick else 10.0,
                "users_small": 20 if quick else 100, "users_large": 50 if quick else 500,
                "users_alone": 20 if quick else 100}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; every started process was stopped", file=sys.stderr)
        sys.exit(130)
