"""Measures the event loop's responsiveness and reports a stuck loop with what was running.

Everything the gateway does runs on one asyncio loop, so one blocking call (a synchronous
library call, a runaway loop without ``await``) stops every user's traffic at once. A tick
scheduled on the loop every ``interval`` seconds records how late it ran; a small watcher
thread, which keeps running while the loop is stuck, logs the loop thread's stack once per
stall, and the first tick after it logs how long the stall lasted. Each tick also calls
``heartbeat`` when it is due (systemd's ``WATCHDOG=1``), so a stuck loop stops the heartbeats
and the service manager restarts the process.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Final

log = logging.getLogger(__name__)

TICK_INTERVAL: Final = 0.25
STALL_AFTER: Final = 1.0
LAG_WINDOW: Final = 240  # ticks kept for percentiles: one minute at the default interval
_ASYNCIO_DIR: Final = os.path.dirname(asyncio.__file__)


class LoopMonitor:
    """Loop lag (current, maximum, percentiles) and stall reports; ``start`` on the loop."""

    def __init__(
        self,
        *,
        interval: float = TICK_INTERVAL,
        stall_after: float = STALL_AFTER,
        heartbeat: Callable[[], object] | None = None,
        heartbeat_interval: float | None = None,
    ) -> None:
        self.heartbeat_interval = heartbeat_interval if heartbeat else None
        self.interval = min(interval, self.heartbeat_interval or interval)
        self.stall_after = stall_after
        self.lag = 0.0
        self.max_lag = 0.0
        self.stalls = 0
        self._heartbeat = heartbeat
        self._recent: collections.deque[float] = collections.deque(maxlen=LAG_WINDOW)
        self._last_tick = time.monotonic()
        self._last_heartbeat = 0.0
        self._stalled_since: float | None = None  # set by the watcher, cleared by a tick
        self._report_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._loop_thread = 0
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start ticking on the running loop and watching it from a thread."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stop.clear()
        self._last_tick = time.monotonic()
        self._tick(self._last_tick)
        self._watcher = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._watcher is not None:
            self._watcher.join(timeout=2 * self.interval + 1)
            self._watcher = None

    @property
    def responsive(self) -> bool:
        """False while the loop's next tick is late by more than ``stall_after``."""
        return time.monotonic() - self._last_tick <= self.interval + self.stall_after

    def percentile(self, fraction: float) -> float:
        """The lag under which ``fraction`` (0-1) of the recent ticks ran, in seconds."""
        if not self._recent:
            return 0.0
        ordered = sorted(self._recent)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def _tick(self, expected: float) -> None:
        now = time.monotonic()
        self.lag = max(0.0, now - expected)
        self.max_lag = max(self.max_lag, self.lag)
        self._recent.append(self.lag)
        self._last_tick = now
        if self._stalled_since is not None:
            with self._report_lock:
                log.warning("Event loop responsive again after %.1f s stuck",
                            now - self._stalled_since)
                self._stalled_since = None
        if self._heartbeat is not None and self.heartbeat_interval is not None \
                and now - self._last_heartbeat >= self.heartbeat_interval * 0.9:
            self._last_heartbeat = now
            self._heartbeat()
        if self._loop is not None and not self._stop.is_set():
            self._handle = self._loop.call_at(self._loop.time() + self.interval, self._tick,
                                              now + self.interval)

    def _watch(self) -> None:
        """Runs in the watcher thread: one report per stall (the next tick reports its end)."""
        while not self._stop.wait(self.stall_after / 10):
            last = self._last_tick
            if self._stalled_since is None and not self.responsive:
                running = self._running()
                with self._report_lock:
                    self.stalls += 1
                    self._stalled_since = last
                    log.warning("Event loop stuck for %.1f s, running:\n%s",
                                time.monotonic() - last, running)

    def _running(self) -> str:
        """The loop thread's stack from the first frame below asyncio's own machinery."""
        frame = sys._current_frames().get(self._loop_thread)
        if frame is None:
            return "  (the loop thread has ended)"
        frames = traceback.extract_stack(frame)
        inner = [i for i, f in enumerate(frames) if f.filename.startswith(_ASYNCIO_DIR)]
        start = inner[-1] + 1 if inner and inner[-1] + 1 < len(frames) else 0
        return "".join(traceback.format_list(frames[start:])).rstrip()
