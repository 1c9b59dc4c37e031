"""ratelimit.py: the bucket paces with asyncio.sleep and never blocks the loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from transport.backends.irc.protocol.ratelimit import TokenBucket


async def test_burst_then_rate():
    bucket = TokenBucket(rate=20, burst=5)
    start = time.monotonic()
    for _ in range(5):
        await bucket.acquire()
    assert time.monotonic() - start < 0.02
    for _ in range(4):
        await bucket.acquire()
    elapsed = time.monotonic() - start
    assert 0.17 <= elapsed < 0.4  # 4 tokens at 20/s


async def test_loop_keeps_running_while_waiting():
    bucket = TokenBucket(rate=10, burst=1)
    await bucket.acquire()
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    await bucket.acquire()  # ~0.1 s of waiting
    task.cancel()
    assert ticks >= 5


async def test_unlimited_and_try_acquire():
    bucket = TokenBucket(rate=0, burst=0)
    assert bucket.unlimited and bucket.tokens == float("inf")
    for _ in range(10_000):
        await bucket.acquire()
    assert bucket.try_acquire()
    limited = TokenBucket(rate=1, burst=2)
    assert limited.try_acquire() and limited.try_acquire()
    assert not limited.try_acquire()
    assert 0 <= limited.tokens < 1


async def test_fifo_fairness():
    bucket = TokenBucket(rate=50, burst=1)
    order: list[int] = []

    async def take(i: int):
        await bucket.acquire()
        order.append(i)

    await asyncio.gather(*(take(i) for i in range(6)))
    assert order == list(range(6))


async def test_fake_clock_refill_is_capped():
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    for _ in range(3):
        assert bucket.try_acquire()
    assert not bucket.try_acquire()
    now[0] = 1.0
    assert bucket.tokens == pytest.approx(2.0)
    now[0] = 100.0
    assert bucket.tokens == 3.0


def test_invalid_burst():
    with pytest.raises(ValueError):
        TokenBucket(rate=1, burst=0)
