"""The loop monitor: lag figures, heartbeats from the loop, and stall reports naming the culprit."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import threading
import time

import pytest

from transport.watchdog import LoopMonitor


def block_the_loop_on_purpose(seconds: float) -> None:
    time.sleep(seconds)


async def test_a_stall_is_logged_once_with_the_blocking_function_and_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    beats: list[float] = []
    monitor = LoopMonitor(interval=0.05, heartbeat=lambda: beats.append(time.monotonic()),
                          heartbeat_interval=0.05)
    caplog.set_level(logging.WARNING, logger="transport.watchdog")
    monitor.start()
    try:
        await asyncio.sleep(0.3)
        assert monitor.responsive and monitor.max_lag < 0.5
        asyncio.get_running_loop().call_soon(block_the_loop_on_purpose, 1.6)
        await asyncio.sleep(0.3)
        assert monitor.responsive
    finally:
        monitor.stop()
    stuck = [r.getMessage() for r in caplog.records if "stuck for" in r.getMessage()]
    assert len(stuck) == 1, caplog.text
    assert "block_the_loop_on_purpose" in stuck[0] and "time.sleep(seconds)" in stuck[0]
    assert "base_events.py" not in stuck[0], "asyncio's own frames are left out"
    recovered = [r.getMessage() for r in caplog.records if "responsive again" in r.getMessage()]
    assert len(recovered) == 1
    assert 1.5 <= float(re.search(r"after ([0-9.]+) s", recovered[0])[1]) < 2.5  # type: ignore[index]
    assert monitor.stalls == 1 and 1.5 < monitor.max_lag < 2.5
    assert monitor.percentile(0.5) < 0.5 <= monitor.percentile(1.0)
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert max(gaps) >= 1.5, "no heartbeat while the loop was stuck"
    assert sorted(gaps)[len(gaps) // 2] < 0.2, "heartbeats come every interval otherwise"


async def test_short_delays_are_measured_but_not_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    monitor = LoopMonitor(interval=0.05)
    monitor.start()
    try:
        await asyncio.sleep(0.1)
        asyncio.get_running_loop().call_soon(block_the_loop_on_purpose, 0.4)
        await asyncio.sleep(0.3)
    finally:
        monitor.stop()
    assert 0.3 < monitor.max_lag < 1.0 and monitor.stalls == 0
    assert "stuck" not in caplog.text


async def test_stop_ends_ticks_and_the_watcher_thread() -> None:
    monitor = LoopMonitor(interval=0.02)
    monitor.start()
    await asyncio.sleep(0.05)
    monitor.stop()
    lag_figures = (monitor.lag, monitor.max_lag)
    await asyncio.sleep(0.1)
    assert (monitor.lag, monitor.max_lag) == lag_figures
    assert not any(t.name == "loop-watchdog" for t in threading.enumerate())
