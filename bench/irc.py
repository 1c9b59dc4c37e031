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

Usage: ``python bench/irc.py [--quick] [--only ours|biboumi] [--prosody-nagle
default|off|both] [--profile DIR]``
(``--quick``: small counts, about 1-2 minutes; the default full run takes about 10 per
Prosody setting). Admins mostly run Prosody at its defaults (Nagle's algorithm on), so by
default everything is measured twice: with Prosody's defaults and with
``network_settings = { nagle = false }``, one table each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# This directory holds irc.py, which would shadow the irc package (jaraco) the gateway
# uses: look here last, only for the _irc_* helpers.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(_HERE)]
sys.path.append(_HERE)

from _irc_common import (  # noqa: E402
    BIBOUMI,
    IRC_HOST,
    OURS,
    PASSWORD,
    SECRET,
    log,
    now,
    percentile,
)
from _irc_crowd import MARK, BenchClient, Crowd  # noqa: E402
from _irc_measures import (  # noqa: E402
    CrowdResult,
    flood_irc_to_xmpp,
    flood_xmpp_to_irc,
    latency_irc_to_xmpp,
    latency_xmpp_to_irc,
)
from _irc_net import IrcPeer  # noqa: E402
from _irc_report import report  # noqa: E402
from _irc_servers import (  # noqa: E402
    cpu_seconds,
    machine_summary,
    precreate_accounts,
    rss_kib,
)
from _irc_targets import (  # noqa: E402
    BiboumiTarget,
    OursTarget,
    Target,
    join_room,
    start_target,
    wait_offline,
)

from transport.testing.servers.ircd import NgircdServer  # noqa: E402
from transport.testing.servers.prosody import ProsodyServer  # noqa: E402

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


# ----------------------------------------------------------------------------- main

#: ``--prosody-nagle`` choices -> Prosody's Nagle setting for each run, in order.
NAGLE_RUNS: dict[str, tuple[bool, ...]] = {"default": (True,), "off": (False,),
                                           "both": (True, False)}


def prosody_setting(nagle: bool) -> str:
    return ("Prosody at its default network settings (nagle on)" if nagle
            else "Prosody tuned: network_settings = { nagle = false }")


async def main(args: argparse.Namespace) -> int:
    """One full run per Prosody setting ``--prosody-nagle`` asks for, each with its table."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
    tables = []
    for nagle in NAGLE_RUNS[args.prosody_nagle]:
        log(f"run with {prosody_setting(nagle)}")
        tables.append(f"{prosody_setting(nagle)}\n{await run(args, nagle)}")
    text = "\n\n".join(tables)
    print(text, flush=True)
    if args.output:
        Path(args.output).write_text(text + "\n")
    return 0


async def run(args: argparse.Namespace, nagle: bool) -> str:
    """Both gateways on one Prosody (Nagle on if ``nagle``) and one ngIRCd; the table."""
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
        prosody = ProsodyServer({BIBOUMI: SECRET, OURS: SECRET}, nagle=nagle)
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
        return report(args, results, machine, now() - started)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small counts (1,000-message flows, 3 s latency, 20/50/20 users)")
    parser.add_argument("--only", choices=("biboumi", "ours"), help="measure one gateway")
    parser.add_argument("--prosody-nagle", choices=tuple(NAGLE_RUNS), default="both",
                        help="Prosody's Nagle: its default (on), off (tuned), or both, one "
                        "run and table each (default both)")
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
