"""What the IRC benchmark measures: floods, latency runs, crowd results."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from _irc_common import (
    PAD,
    log,
    now,
    percentile,
)
from _irc_crowd import BenchClient, groupchat_body
from _irc_net import IrcPeer

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

    def tap(xml: ET.Element) -> bool:
        body = groupchat_body(xml)
        if body is not None and body.startswith(prefix):
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

    reflected = [0, 0.0]  # count, arrival of the last

    def tap(xml: ET.Element) -> bool:  # reflections of our own lines: consumed, not built
        body = groupchat_body(xml)
        if body is None or not body.startswith(prefix):
            return False
        reflected[0] += 1
        reflected[1] = now()
        return True

    async def send(first: int, n: int) -> None:
        for i in range(first, first + n):
            client.send_groupchat(room, f"{prefix}{i} {PAD}")
            if i % 50 == 49:
                await asyncio.sleep(0)

    peer.on_privmsg, client.tap = on_privmsg, tap
    try:
        start = await windowed(count, window, send, lambda: len(seqs), 15.0, 300.0)
        # Every reflection in before anything else is measured: a latency run started while
        # they still arrive would wait behind them.
        deadline = now() + 10.0
        while reflected[0] < len(seqs) and now() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        log(f"  reflections: {reflected[0]}/{len(seqs)}, the last "
            f"{max(0.0, reflected[1] - last[0]):.2f} s after the last line reached IRC")
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

    def tap(xml: ET.Element) -> bool:
        body = groupchat_body(xml)
        if body is not None and body.startswith(prefix):
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

    def tap(xml: ET.Element) -> bool:
        body = groupchat_body(xml)
        return body is not None and body.startswith(prefix)

    peer.on_privmsg, client.tap = on_privmsg, tap
    try:
        sent = await paced(rate, seconds, lambda i: client.send_groupchat(
            room, f"{prefix}{i} {now():.6f} {PAD}"))
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
