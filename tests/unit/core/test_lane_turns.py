"""Turns keep a lane's overlapping sends in call order at the point they queue lines."""

from __future__ import annotations

import asyncio

from transport.core.ordering import LaneTurns


async def test_a_slow_first_send_is_not_overtaken() -> None:
    turns = LaneTurns()
    queued: list[int] = []

    async def send(n: int, delay: float, fail: bool = False) -> None:
        turn = turns.take("lane")
        try:
            await turn.wait_to_queue()
            await asyncio.sleep(delay)
            if fail:
                raise RuntimeError("refused before queueing")
            queued.append(n)
            turn.mark_queued()
            await asyncio.sleep(0.01)
        finally:
            turns.release("lane", turn)

    results = await asyncio.gather(send(0, 0.03), send(1, 0.0, fail=True), send(2, 0.0),
                                   send(3, 0.01), return_exceptions=True)
    assert queued == [0, 2, 3]
    assert isinstance(results[1], RuntimeError)
    for _ in range(3):  # the turns pass on in callbacks
        await asyncio.sleep(0)
    assert turns._tails == {}


async def test_a_rewrite_waits_until_earlier_sends_are_done() -> None:
    turns = LaneTurns()
    events: list[str] = []
    first, second = turns.take("lane"), turns.take("lane")
    first.mark_queued()
    await second.wait_to_queue()
    second.mark_queued()

    async def rewrite() -> None:
        await second.wait_to_retry()
        events.append("second rewrites")

    task = asyncio.ensure_future(rewrite())
    await asyncio.sleep(0.01)
    events.append("first done")
    turns.release("lane", first)
    await task
    turns.release("lane", second)
    assert events == ["first done", "second rewrites"]


async def test_a_cancelled_waiter_does_not_let_the_next_one_pass_early() -> None:
    turns = LaneTurns()
    first, second, third = turns.take("l"), turns.take("l"), turns.take("l")
    waiting = asyncio.ensure_future(second.wait_to_queue())
    await asyncio.sleep(0)
    waiting.cancel()
    turns.release("l", second)  # gave up before its turn
    assert not third.previous.queued.is_set  # type: ignore[union-attr]
    first.mark_queued()
    await asyncio.wait_for(third.wait_to_queue(), 1)
    turns.release("l", first)
    turns.release("l", third)


async def test_turns_that_never_wait_make_no_futures() -> None:
    turns = LaneTurns()
    made = []
    loop = asyncio.get_running_loop()
    real = loop.create_future

    def counted() -> asyncio.Future[None]:
        made.append(1)
        return real()

    loop.create_future = counted  # type: ignore[method-assign]
    try:
        for _ in range(3):
            turn = turns.take("l")
            await turn.wait_to_queue()
            turn.mark_queued()
            turns.release("l", turn)
    finally:
        loop.create_future = real  # type: ignore[method-assign]
    assert made == []
