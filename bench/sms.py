"""SMS benchmark: Twilio webhooks -> XMPP, and XMPP -> Twilio, through a real Prosody.

Everything is real except Twilio: Prosody, the gateway as its own process (``python -m
transport run`` at INFO, as in production) with the sms backend, one XMPP client (the
receiving user), and the Twilio stand-in (``transport.testing.twilio``) as the REST API.

(a) inbound: signed ``POST /twilio/sms`` webhooks, the full form Twilio sends, from
    ``--senders`` phone numbers, ``--concurrency`` requests in flight (aiohttp), to the
    gateway's webhook port. The gateway answers 200 only once the message is committed
    (its behaviour; the bench only counts the 200s). Measured at the XMPP client:
    messages/s from the first webhook sent to the last message received, and per message
    the latency from sending its webhook to receiving its stanza (p50/p99); also the
    webhook answer time.
(b) outbound: the client sends ``--outbound`` chat messages round-robin to ``--lanes``
    contacts (conversations), pacing off (``messages_per_second = 0``). Measured:
    messages/s from the first stanza sent to the last ``POST Messages.json`` the stand-in
    recorded. The stand-in's status callbacks are held back until the measurement is over
    (``--callbacks`` lets them flow at once, as a busy Twilio would), so (b) measures sends.

Usage: ``python bench/sms.py [--inbound N] [--outbound N] [--concurrency C] [--lanes L]
[--phases in,out] [--callbacks] [--profile DIR] [--keep DIR]``. With ``--profile`` each
phase runs a second time under py-spy (``-f raw``), so the printed figures are never taken
with the profiler attached.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from multidict import MultiDict

from transport.testing.gateway import ComponentSpec, GatewayProcess, write_config
from transport.testing.servers.ports import free_port, wait_for_port_async
from transport.testing.servers.prosody import ProsodyServer
from transport.testing.twilio import TwilioStandIn, compute_signature
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register

GW = "sms.localhost"
SECRET = "sms-secret"
ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "5e1f0c0ffee0ddba11ab5e11ca7500d5"
NUMBER = "+12125550100"
PUBLIC = "https://sms-gw.example.test"
SMS_PATH = "/twilio/sms"
FILLER = "see you at the station at half past six, bring the tickets"  # a typical text


def sender_number(index: int) -> str:
    return f"+1212555{2000 + index:04d}"


# ------------------------------------------------------------------ the machine


def machine(workdir: Path) -> list[str]:
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "?")
    lines = [f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
             f"{mem_kib / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
             f"{platform.platform(terse=True)}"]
    lines.append(f"disk: {disk(workdir)}; {fsync_ms(workdir)}")
    return lines


def disk(path: Path) -> str:
    """The file system and block device under ``path``, and what the kernel says it is."""
    found = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", str(path)],
                           capture_output=True, text=True, check=False).stdout.split()
    if len(found) < 2:
        return "unknown"
    source, fstype = found[:2]
    device = Path(source).name
    sys_block = Path("/sys/block") / device
    if not sys_block.exists():  # a partition: its parent holds queue/
        parents = [p for p in Path("/sys/block").iterdir() if (p / device).exists()]
        sys_block = parents[0] if parents else sys_block
    details = []
    rotational = sys_block / "queue" / "rotational"
    if rotational.exists():
        details.append("rotational" if rotational.read_text().strip() == "1" else "non-rotational")
    if sys_block.name.startswith("vd"):
        details.append("virtio block device")
    elif sys_block.name.startswith("nvme"):
        details.append("NVMe")
    model = sys_block / "device" / "model"
    if model.exists() and model.read_text().strip():
        details.append(model.read_text().strip())
    return f"{fstype} on {source} ({', '.join(details) or 'no details'}) at {path}"


def fsync_ms(path: Path, count: int = 100) -> str:
    """Median time of a 4 KiB append + fdatasync: what one SQLite commit waits for."""
    target = path / "fsync-probe"
    times = []
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(count):
            os.write(fd, b"x" * 4096)
            start = time.perf_counter()
            os.fdatasync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        target.unlink()
    return f"fdatasync of 4 KiB p50 {percentile(times, 50) * 1000:.2f} ms"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy (all CPUs, from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used by the gateway, Prosody and this process (client, stand-in, load) meanwhile,
    and by everything else on the machine (other people's jobs skew the figures)."""

    def __init__(self, rig: Rig) -> None:
        self.pids = {"gateway": rig.pid, "prosody": rig.server.pid or 0, "bench": os.getpid()}
        self.start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.machine = machine_busy_seconds()
        self.t0 = time.perf_counter()

    def report(self) -> str:
        wall = time.perf_counter() - self.t0
        used = {name: cpu_seconds(pid) - self.start[name] for name, pid in self.pids.items()}
        others = machine_busy_seconds() - self.machine - sum(used.values())
        return "  CPU (cores busy): " + ", ".join(
            f"{name} {seconds / wall:.2f}" for name, seconds in used.items()
        ) + f"; other processes {max(0.0, others) / wall:.2f}"


def memory(pid: int) -> str:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) // 1024
    return f"RSS {fields.get('VmRSS', 0)} MiB (peak {fields.get('VmHWM', 0)} MiB)"


# ------------------------------------------------------------------ set-up


@dataclass
class Rig:
    server: ProsodyServer
    standin: TwilioStandIn
    gateway: GatewayProcess
    client: TestClient
    webhook_url: str
    pid: int
    profiles: list[subprocess.Popen[bytes]] = field(default_factory=list)


async def start_rig(workdir: Path, args: argparse.Namespace) -> Rig:
    server = ProsodyServer({GW: SECRET})
    await server.astart()
    standin = TwilioStandIn({ACCOUNT: TOKEN}, {ACCOUNT: [NUMBER]})
    await standin.start()
    standin.set_sms_url(NUMBER, PUBLIC + SMS_PATH)
    port = free_port()
    standin.route_url(PUBLIC, f"http://127.0.0.1:{port}")
    # Status callbacks (sent, delivered) would compete with the sends measured in (b).
    standin.set_outcome("*", "delivered", delay=0.0 if args.callbacks else 3600.0)
    options = {"default_region": "US", "registration": "open"}
    tables = (
        "[sms.twilio]\n"
        f'account_sid = "{ACCOUNT}"\nauth_token = "{TOKEN}"\nnumbers = ["{NUMBER}"]\n'
        f'api_base_url = "{standin.url}"\nmessages_per_second = 0\n'
        "[sms.webhook]\n"
        f'listen_host = "127.0.0.1"\nlisten_port = {port}\npublic_url = "{PUBLIC}"\n'
        "[sms.media]\n"
        'dir = "media"\n'
        # One user sends the whole outbound run: its daily limits must not be what is measured.
        "[sms.limits]\n"
        "messages_per_day = 100000000\nsegments_per_day = 100000000\n"
    )
    config = write_config(workdir / "gw.toml", "127.0.0.1", server.component_port,
                          workdir / "gw.sqlite3", [ComponentSpec("sms", GW, SECRET, options)],
                          allowed_domains=[server.domain], extra=tables)
    gateway = GatewayProcess(config, workdir / "gw.log", log_level="INFO")
    gateway.start()
    assert gateway.proc is not None
    server.register_user("bench", "pw")
    client = TestClient("bench@localhost/bench", "pw", "127.0.0.1", server.c2s_port)
    await client.login()
    await wait_for_port_async("127.0.0.1", port, timeout=30)
    for attempt in range(400):
        try:
            await register(client, GW, phone=NUMBER)
            break
        except Exception:
            if attempt == 399:
                raise
            await asyncio.sleep(0.05)
    return Rig(server, standin, gateway, client, f"http://127.0.0.1:{port}{SMS_PATH}",
               gateway.proc.pid)


async def stop_rig(rig: Rig) -> None:
    for proc in rig.profiles:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(30)
    await rig.client.logout()
    rig.gateway.terminate()
    await rig.standin.stop()
    await rig.server.astop()
    rig.server.close()


def start_profile(rig: Rig, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    proc = subprocess.Popen([spy, "record", "-d", str(max(1, int(seconds))), "-f", "raw",
                             "-o", str(out), "-p", str(rig.pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rig.profiles.append(proc)
    return proc


# ------------------------------------------------------------------ (a) inbound


def webhook_form(index: int, sender: str, body: str) -> list[tuple[str, str]]:
    """The form Twilio posts for an inbound SMS (same fields, same order)."""
    sid = f"SM{index:032x}"
    return [
        ("ToCountry", "US"), ("ToState", "NY"), ("SmsMessageSid", sid), ("NumMedia", "0"),
        ("ToCity", "NEW YORK"), ("FromZip", "10001"), ("SmsSid", sid), ("FromState", "NY"),
        ("SmsStatus", "received"), ("FromCity", "NEW YORK"), ("Body", body),
        ("FromCountry", "US"), ("To", NUMBER), ("ToZip", "10001"), ("NumSegments", "1"),
        ("MessageSid", sid), ("AccountSid", ACCOUNT), ("From", sender),
        ("ApiVersion", "2010-04-01"),
    ]


def signed(form: list[tuple[str, str]]) -> tuple[bytes, str]:
    """(urlencoded body, X-Twilio-Signature) as Twilio computes it for the public URL."""
    from urllib.parse import urlencode
    return urlencode(form).encode(), compute_signature(TOKEN, PUBLIC + SMS_PATH,
                                                       MultiDict(form))


@dataclass
class InboundResult:
    count: int
    elapsed: float
    latencies: list[float]
    answers: list[float]
    refused: int
    received: int


async def inbound(rig: Rig, first: int, count: int, concurrency: int,
                  senders: int) -> InboundResult:
    """Webhooks ``first``..``first+count-1``; waits for every stanza at the client."""
    requests = []
    for i in range(first, first + count):
        body, signature = signed(webhook_form(i, sender_number(i % senders), f"in {i} {FILLER}"))
        requests.append((i, body, signature))
    sent_at: dict[int, float] = {}
    received_at: dict[int, float] = {}
    answers: list[float] = []
    refused = 0
    all_in = asyncio.Event()

    def on_message(msg: Any) -> None:
        text = msg["body"]
        if text.startswith("in "):
            index = int(text.split(" ", 2)[1])
            if first <= index < first + count and index not in received_at:
                received_at[index] = time.perf_counter()
                if len(received_at) == count:
                    all_in.set()

    rig.client.add_event_handler("message", on_message)
    connector = aiohttp.TCPConnector(limit=concurrency)
    pending = iter(requests)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            async def worker() -> None:
                nonlocal refused
                for index, body, signature in pending:
                    start = time.perf_counter()
                    sent_at[index] = start
                    async with http.post(rig.webhook_url, data=body, headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature,
                        "I-Twilio-Idempotency-Token": f"bench-{index}",
                    }) as answer:
                        await answer.read()
                        if answer.status != 200:
                            refused += 1
                    answers.append(time.perf_counter() - start)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_in.wait(), timeout=60)
    finally:
        rig.client.del_event_handler("message", on_message)
    first_sent = min(sent_at.values())
    last = max(received_at.values(), default=first_sent)
    latencies = [received_at[i] - sent_at[i] for i in received_at]
    return InboundResult(count, last - first_sent, latencies, answers, refused,
                         len(received_at))


# ------------------------------------------------------------------ (b) outbound


@dataclass
class OutboundResult:
    count: int
    elapsed: float
    recorded: int
    errors: int
    written: float = 0.0  # the client had written every stanza (s after the first)
    first_create: float = 0.0  # the stand-in had the first create
    sustained: float = 0.0  # creates/s from the 10th to the 90th percentile create


async def outbound(rig: Rig, first: int, count: int, lanes: int) -> OutboundResult:
    """``count`` chat messages round-robin over ``lanes`` contacts; until all are created."""
    state = rig.standin.state
    before = len(state.create_attempts)
    errors = 0

    def on_error(msg: Any) -> None:
        nonlocal errors
        errors += 1

    rig.client.add_event_handler("message_error", on_error)
    contacts = [f"{sender_number(5000 + lane)}@{GW}" for lane in range(lanes)]
    start = time.perf_counter()
    for i in range(first, first + count):
        msg = rig.client.make_message(mto=contacts[i % lanes], mbody=f"out {i} {FILLER}",
                                      mtype="chat")
        msg["id"] = f"bench-out-{i}"
        msg.send()
        if i % 200 == 199:
            await asyncio.sleep(0)  # let slixmpp write while the loop keeps producing
    end = written = first_create = tenth = ninetieth = 0.0
    deadline = start + 120
    while True:
        now = time.perf_counter()
        done = len(state.create_attempts) - before
        if not written and rig.client.waiting_queue.empty():
            written = now  # every stanza handed to the client's socket
        if not first_create and done:
            first_create = now
        if not tenth and done >= count // 10:
            tenth = now
        if not ninetieth and done >= count * 9 // 10:
            ninetieth = now
        if done >= count or now > deadline:
            end = now
            break
        await asyncio.sleep(0.001)
    rig.client.del_event_handler("message_error", on_error)
    recorded = len(state.create_attempts) - before
    failed = sum(1 for c in state.create_attempts[before:] if c.sid is None)
    sustained = (count * 8 // 10) / (ninetieth - tenth) if ninetieth > tenth else float("nan")
    return OutboundResult(count, end - start, recorded, errors + failed,
                          (written or end) - start, (first_create or end) - start, sustained)


# ------------------------------------------------------------------ main


def report_inbound(label: str, r: InboundResult, concurrency: int) -> None:
    rate = r.received / r.elapsed if r.elapsed else float("nan")
    print(f"{label}: {r.received}/{r.count} delivered in {r.elapsed:.2f} s = {rate:.0f} msg/s "
          f"end to end ({concurrency} webhooks in flight, {r.refused} not answered 200)")
    print(f"  webhook -> stanza at the client: p50 {percentile(r.latencies, 50) * 1000:.1f} ms, "
          f"p99 {percentile(r.latencies, 99) * 1000:.1f} ms; "
          f"webhook answered (committed) p50 {percentile(r.answers, 50) * 1000:.1f} ms, "
          f"p99 {percentile(r.answers, 99) * 1000:.1f} ms")


def report_outbound(label: str, r: OutboundResult, lanes: int) -> None:
    rate = r.recorded / r.elapsed if r.elapsed else float("nan")
    print(f"{label}: {r.recorded}/{r.count} created at the stand-in in {r.elapsed:.2f} s = "
          f"{rate:.0f} msg/s over {lanes} conversations, pacing off ({r.errors} errors)")
    print(f"  the client wrote its last stanza after {r.written:.2f} s; the first create came "
          f"after {r.first_create * 1000:.0f} ms; from the 10th to the 90th percentile create "
          f"{r.sustained:.0f} msg/s")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sms-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for line in machine(workdir):
            print(line)
        rig = await start_rig(workdir, args)
        try:
            print(f"gateway pid {rig.pid}: {memory(rig.pid)} idle")
            # Warm-up: every sender's first text, a few sends (first-contact paths, JIT-less
            # caches, connection pools).
            await inbound(rig, 0, max(args.senders, 200), min(args.concurrency, 20),
                          args.senders)
            await outbound(rig, 0, 200, args.lanes)
            next_in, next_out = 10_000_000, 10_000_000
            result_in = result_out = None
            if "in" in args.phases:
                meter = CpuMeter(rig)
                result_in = await inbound(rig, next_in, args.inbound, args.concurrency,
                                          args.senders)
                report_inbound("(a) inbound", result_in, args.concurrency)
                print(meter.report())
                print(f"  gateway {memory(rig.pid)}")
            if "out" in args.phases:
                meter = CpuMeter(rig)
                result_out = await outbound(rig, next_out, args.outbound, args.lanes)
                report_outbound("(b) outbound", result_out, args.lanes)
                print(meter.report())
                print(f"  gateway {memory(rig.pid)}")
            if args.profile:
                out = Path(args.profile)
                out.mkdir(parents=True, exist_ok=True)
                if result_in is not None:
                    start_profile(rig, out / "inbound.txt", max(3.0, result_in.elapsed * 0.8))
                    await asyncio.sleep(0.5)
                    again = await inbound(rig, 2 * next_in, args.inbound, args.concurrency,
                                          args.senders)
                    report_inbound("(a) inbound under py-spy", again, args.concurrency)
                    for proc in rig.profiles:
                        proc.wait(60)
                if result_out is not None:
                    start_profile(rig, out / "outbound.txt", max(3.0, result_out.elapsed * 0.8))
                    await asyncio.sleep(0.5)
                    again_out = await outbound(rig, 2 * next_out, args.outbound, args.lanes)
                    report_outbound("(b) outbound under py-spy", again_out, args.lanes)
                print(f"profiles (py-spy raw) in {out}")
        finally:
            await stop_rig(rig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inbound", type=int, default=10_000)
    parser.add_argument("--outbound", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50, help="webhooks in flight")
    parser.add_argument("--senders", type=int, default=20, help="phones texting the user")
    parser.add_argument("--lanes", type=int, default=20, help="conversations for (b)")
    parser.add_argument("--callbacks", action="store_true",
                        help="let the stand-in's status callbacks run during (b)")
    parser.add_argument("--phases", default="in,out", help="in, out or in,out")
    parser.add_argument("--profile", help="directory for py-spy raw profiles of the gateway")
    parser.add_argument("--keep", help="keep the work dir (gateway log, database) here")
    asyncio.run(main(parser.parse_args()))
