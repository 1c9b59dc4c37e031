"""Constants and small helpers shared by the IRC benchmark's modules."""

from __future__ import annotations

import os
import sys
import time

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
