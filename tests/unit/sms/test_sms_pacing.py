"""Per-number pacing: bursts wait their turn, numbers do not slow each other down."""

import asyncio

from transport.backends.sms.pacing import Pacer


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self):
        self.now = 100.0
        self.log = []

    def clock(self):
        return self.now

    async def sleep(self, delay):
        self.now += delay
        await asyncio.sleep(0)


async def test_a_burst_is_spaced_not_refused():
    delays = []

    async def record(delay):
        delays.append(delay)

    pacer = Pacer(2.0, clock=lambda: 100.0, sleep=record)
    for _ in range(5):
        await pacer.wait_turn("+12125550100")
    assert delays == [0.5, 1.0, 1.5, 2.0], "each waits for the slot after the previous one"


async def test_numbers_have_their_own_pace():
    t = FakeTime()
    pacer = Pacer(1.0, clock=t.clock, sleep=t.sleep)
    await pacer.wait_turn("+12125550100")
    await pacer.wait_turn("+12125550101")
    assert t.now == 100.0
    await pacer.wait_turn("+12125550100")
    assert t.now == 101.0


async def test_idle_number_sends_at_once():
    t = FakeTime()
    pacer = Pacer(1.0, clock=t.clock, sleep=t.sleep)
    await pacer.wait_turn("a")
    t.now += 10
    await pacer.wait_turn("a")
    assert t.now == 110.0


async def test_zero_rate_turns_pacing_off():
    t = FakeTime()
    pacer = Pacer(0, clock=t.clock, sleep=t.sleep)
    for _ in range(100):
        await pacer.wait_turn("a")
    assert t.now == 100.0


async def test_waiting_counts_queued_sends():
    pacer = Pacer(20.0)
    tasks = [asyncio.ensure_future(pacer.wait_turn("a")) for _ in range(4)]
    await asyncio.sleep(0.01)
    assert pacer.waiting == 3
    await asyncio.gather(*tasks)
    assert pacer.waiting == 0
