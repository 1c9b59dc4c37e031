"""Core benchmark: XMPP -> gateway -> echo backend -> XMPP through a real Prosody.

The gateway runs as its own process (as in production); one XMPP client sends and
receives. Prints throughput for a burst and latency percentiles at a fixed rate, plus the
gateway's resident memory. Usage: ``python bench/core.py [--burst N] [--rate R] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from transport.testing.gateway import ComponentSpec, GatewayProcess, write_config
from transport.testing.servers.prosody import ProsodyServer
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register

GW = "echo.localhost"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


async def wait_registered(client: TestClient) -> None:
    for _ in range(200):
        try:
            await register(client, GW, username="bench")
            return
        except Exception:
            await asyncio.sleep(0.05)
    raise RuntimeError("gateway did not come up")


async def burst(client: TestClient, count: int) -> tuple[float, int]:
    received = 0
    done = asyncio.Event()

    def on_message(msg) -> None:
        nonlocal received
        if msg["body"].startswith("b "):
            received += 1
            if received == count:
                done.set()

    client.add_event_handler("message", on_message)
    start = time.perf_counter()
    for i in range(count):
        client.send_message(mto=f"bob@{GW}", mbody=f"b {i}", mtype="chat")
    try:
        await asyncio.wait_for(done.wait(), timeout=max(60, count / 50))
    finally:
        client.del_event_handler("message", on_message)
    return time.perf_counter() - start, received


async def paced(client: TestClient, rate: float, seconds: float) -> list[float]:
    sent: dict[str, float] = {}
    latencies: list[float] = []

    def on_message(msg) -> None:
        body = msg["body"]
        if body in sent:
            latencies.append(time.perf_counter() - sent.pop(body))

    client.add_event_handler("message", on_message)
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        target = start + i / rate
        await asyncio.sleep(max(0.0, target - time.perf_counter()))
        body = f"p {i}"
        sent[body] = time.perf_counter()
        client.send_message(mto=f"bob@{GW}", mbody=body, mtype="chat")
    deadline = time.perf_counter() + 10
    while sent and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    client.del_event_handler("message", on_message)
    return latencies


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        extra = ["network_settings = { nagle = true }"] if args.nagle else []
        server = ProsodyServer({GW: "bench-secret"}, extra_global=extra)
        server.start()
        gateway = None
        try:
            config = write_config(
                workdir / "gw.toml", "127.0.0.1", server.component_port, workdir / "gw.sqlite3",
                [ComponentSpec("echo", GW, "bench-secret")],
            )
            gateway = GatewayProcess(config, workdir / "gw.log", log_level=args.gw_log_level)
            gateway.start()
            server.register_user("bench", "pw")
            client = TestClient("bench@localhost/b", "pw", "127.0.0.1", server.c2s_port)
            await client.login()
            await wait_registered(client)
            assert gateway.proc is not None
            rss_before = rss_kib(gateway.proc.pid)
            if args.profile:
                import subprocess
                subprocess.Popen(["py-spy", "record", "-d", "8", "-f", "raw", "-o", args.profile,
                                  "-p", str(gateway.proc.pid)])
                await asyncio.sleep(1)

            elapsed, received = await burst(client, args.burst)
            latencies = await paced(client, args.rate, args.seconds)
            print(f"machine: {args.machine}")
            print(f"burst: {received}/{args.burst} echoed in {elapsed:.2f} s "
                  f"= {received / elapsed:.0f} round trips/s (each: outbox commit, "
                  f"queue commit, server barrier)")
            print(f"paced {args.rate:.0f} msg/s for {args.seconds:.0f} s: "
                  f"{len(latencies)} answered, p50 {percentile(latencies, 50) * 1000:.1f} ms, "
                  f"p99 {percentile(latencies, 99) * 1000:.1f} ms, "
                  f"mean {statistics.mean(latencies) * 1000:.1f} ms")
            print(f"gateway RSS: {rss_before} KiB idle, {rss_kib(gateway.proc.pid)} KiB after")
            await client.logout()
        finally:
            if gateway is not None:
                gateway.terminate()
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--profile", help="py-spy raw profile of the gateway to this file")
    parser.add_argument("--gw-log-level", default="INFO")
    parser.add_argument("--nagle", action="store_true",
                        help="keep Prosody's default network_settings = { nagle = true }")
    parser.add_argument("--keep", help="keep the work dir (gateway log) here")
    parser.add_argument("--machine", default="2 vCPU, 24 GiB, Debian 12, SQLite on disk")
    asyncio.run(main(parser.parse_args()))
