"""Jobs run one at a time per key, in the order they were submitted; keys run concurrently.

The lifecycle hooks of one user must never overtake each other (an ``on_user_offline``
before the ``on_user_online`` it ends), while a slow hook of one user must not hold up the
others. A worker task exists only while its key has work, so idle users cost nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class SerialRunner:
    """A FIFO of jobs per key, each drained by its own short-lived task."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._queues: dict[str, deque[tuple[Job, asyncio.Future[None]]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopped = False
        self._longest = 0

    def submit(self, key: str, job: Job) -> asyncio.Future[None]:
        """Queue ``job`` behind ``key``'s earlier jobs; the future is done once it ran.

        A job that raises is logged with its key and the next one still runs; the future
        then carries None all the same. After ``stop`` nothing runs and the future is done.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._stopped:
            log.debug("%s: stopped, a job for %s was not run", self._name, key)
            done.set_result(None)
            return done
        queue = self._queues.setdefault(key, deque())
        queue.append((job, done))
        self._longest = max(self._longest, len(queue))
        if key not in self._workers:
            self._idle.clear()
            self._workers[key] = asyncio.ensure_future(self._drain(key))
        return done

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                job, done = queue.popleft()
                try:
                    await job()
                except asyncio.CancelledError:
                    done.cancel()
                    raise
                except Exception:
                    log.exception("%s: a job for %s failed", self._name, key)
                if not done.done():
                    done.set_result(None)
        finally:
            for _job, done in queue:
                done.cancel()
            del self._queues[key]
            del self._workers[key]
            if not self._workers:
                self._idle.set()

    @property
    def stopped(self) -> bool:
        """Whether ``stop`` was called: new jobs are not run."""
        return self._stopped

    @property
    def longest_queue(self) -> int:
        """The most jobs ever waiting at once behind one key (the running one not counted):
        what a flood of one key's events costs."""
        return self._longest

    def waiting(self, key: str) -> int:
        """How many jobs of ``key`` wait for their turn (the running one not counted)."""
        queue = self._queues.get(key)
        return len(queue) if queue is not None else 0

    def busy_keys(self) -> set[str]:
        """The keys with jobs queued or running."""
        return set(self._workers)

    async def idle(self) -> None:
        """Return once no key has work left."""
        await self._idle.wait()

    async def stop(self, timeout: float) -> None:
        """Take no more jobs; let the queued ones finish for ``timeout`` s, cancel the rest."""
        self._stopped = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
