"""SerialRunner: one job at a time per key, in order; keys independent; failures contained."""

from __future__ import annotations

import asyncio

from transport.core.serial import SerialRunner


def job(log: list[str], name: str, gate: asyncio.Event | None = None, fail: bool = False):
    async def run() -> None:
        if gate is not None:
            await gate.wait()
        log.append(name)
        if fail:
            raise RuntimeError(name)
    return run


async def test_jobs_of_a_key_run_in_order_and_keys_do_not_wait_for_each_other():
    runner = SerialRunner("test")
    log: list[str] = []
    gate = asyncio.Event()
    runner.submit("a", job(log, "a1", gate))
    runner.submit("a", job(log, "a2"))
    b = runner.submit("b", job(log, "b1"))
    await b
    assert log == ["b1"]
    assert runner.busy_keys() == {"a"}
    gate.set()
    await runner.idle()
    assert log == ["b1", "a1", "a2"]
    assert runner.busy_keys() == set()


async def test_a_failing_job_is_logged_and_the_next_runs(caplog):
    runner = SerialRunner("test")
    log: list[str] = []
    first = runner.submit("a", job(log, "a1", fail=True))
    second = runner.submit("a", job(log, "a2"))
    await asyncio.wait_for(second, 1)
    assert first.done() and first.result() is None
    assert log == ["a1", "a2"]
    assert any("a job for a failed" in r.getMessage() for r in caplog.records)


async def test_stop_waits_then_cancels_and_refuses_new_jobs():
    runner = SerialRunner("test")
    log: list[str] = []
    runner.submit("a", job(log, "quick"))
    stuck = runner.submit("b", job(log, "never", asyncio.Event()))
    behind = runner.submit("b", job(log, "behind"))
    await runner.stop(timeout=0.1)
    assert log == ["quick"]
    assert stuck.cancelled() and behind.cancelled()
    late = runner.submit("a", job(log, "late"))
    assert late.done()
    await asyncio.sleep(0)
    assert log == ["quick"]


async def test_waiting_counts_the_jobs_behind_the_running_one_and_longest_queue_keeps_the_peak():
    runner = SerialRunner("test")
    log: list[str] = []
    gate = asyncio.Event()
    runner.submit("a", job(log, "a1", gate))
    await asyncio.sleep(0)  # a1 runs and waits at its gate
    for index in range(2, 6):
        runner.submit("a", job(log, f"a{index}"))
    assert runner.waiting("a") == 4
    assert runner.waiting("b") == 0
    gate.set()
    await runner.idle()
    assert runner.waiting("a") == 0
    assert runner.longest_queue == 4
