"""How long a server running Nagle holds stanzas for the component's ACK, from packet timing.

Starts a Prosody at its default network settings (or tuned, ``--tuned``), our gateway (echo
backend) in this process and one XMPP client, and traces Prosody's socket writes with
strace. The client sends ``--count`` chats at ``--rate``/s to the echo contact; for each one
it reports the time from Prosody's ``write`` of the stanza to the component socket to the
moment the component read it. With Nagle on and a delayed ACK on our side, the write
returns at once but the kernel holds the bytes until the ACK of the previous stanza: the
hold shows up here as ~40 ms. Run it with PYTHONPATH pointing at the code to measure.

Usage: ``python bench/nagle_probe.py [--tuned] [--count 300] [--rate 50]``
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from transport.testing.gateway import ComponentSpec, build_settings, running_gateway
from transport.testing.servers.prosody import ProsodyServer
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register, send_chat

GW = "echo.localhost"
MARK = "probe-"
# strace -ttt: "PID 1700000000.123456 writev(12, ..." with the stanza text in the arguments.
WRITE = re.compile(r"^\d+\s+(\d+\.\d+)\s+(?:write|writev|sendto|sendmsg)\(")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


async def probe(args: argparse.Namespace, workdir: Path) -> str:
    prosody = ProsodyServer({GW: "secret"}, nagle=not args.tuned)
    try:
        prosody.start()
        prosody.register_user("alice", "pw")
        settings = build_settings("127.0.0.1", prosody.component_port, workdir / "gw.sqlite3",
                                  [ComponentSpec("echo", GW, "secret")])
        async with running_gateway(settings) as app:
            client = TestClient(f"alice@{prosody.domain}/probe", "pw", "127.0.0.1",
                                prosody.c2s_port)
            await client.login()
            await register(client, GW, username="alice")
            read_at: dict[str, float] = {}

            def stamp(stanza: Any) -> Any:
                if stanza.name == "message" and stanza["body"].startswith(MARK):
                    read_at[stanza["body"]] = time.time()
                return stanza

            app.runtimes[0].xmpp.add_filter("in", stamp)
            trace = workdir / "prosody.strace"
            tracer = subprocess.Popen(
                ["strace", "-f", "-ttt", "-s", "4096", "-e", "trace=write,writev,sendto,sendmsg",
                 "-o", str(trace), "-p", str(prosody.pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(1.0)
            run = uuid.uuid4().hex[:6]
            start = time.perf_counter()
            for i in range(args.count):
                await asyncio.sleep(max(0.0, start + i / args.rate - time.perf_counter()))
                send_chat(client, f"bob@{GW}", f"{MARK}{run}-{i}")
            await client.expect_message(body=f"{MARK}{run}-{args.count - 1}", timeout=30)
            await asyncio.sleep(0.5)
            tracer.terminate()
            tracer.wait(10)
            await client.logout()
    finally:
        prosody.close()
    written: dict[str, float] = {}
    for line in trace.read_text(errors="replace").splitlines():
        match = WRITE.match(line)
        # The stanza to the component comes from alice; the echo back to her from bob.
        if not match or "from='alice@" not in line:
            continue
        for body in re.findall(rf"{MARK}{run}-\d+", line):
            written.setdefault(body, float(match.group(1)))
    holds = [(read_at[b] - t) * 1000 for b, t in written.items() if b in read_at]
    if not holds:
        return "no stanza matched in the trace"
    setting = "tuned (nagle = false)" if args.tuned else "default (nagle on)"
    return (f"Prosody {setting}: {len(holds)}/{args.count} stanzas at {args.rate:.0f}/s; "
            f"Prosody write -> component read: p50 {percentile(holds, 50):.2f} ms, "
            f"p90 {percentile(holds, 90):.2f} ms, p99 {percentile(holds, 99):.2f} ms, "
            f"max {max(holds):.2f} ms; over 20 ms: {sum(h > 20 for h in holds)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tuned", action="store_true", help="Prosody with nagle = false")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nagle-probe-") as workdir:
        print(asyncio.run(probe(args, Path(workdir))))


if __name__ == "__main__":
    main()
