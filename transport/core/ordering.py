"""Turns: overlapping tasks that must reach one point in the order they started.

Each relayed stanza, and each pipelined send (``Backend.pipelined_sends``), runs as its own
task, and each may wait on the way (a cache miss, a connection coming back). A turn lets a
task queue its work (an outbox write, IRC lines) only after the previous task of its lane
queued its own, and, when it must write again after a lost connection, only once the
previous task is completely done.
"""

from __future__ import annotations

import asyncio


class _Signal:
    """A one-way flag whose future exists only once someone waits or chains on it: most
    turns pass without either, and two futures per relayed line were a visible cost."""

    __slots__ = ("_future", "is_set")

    def __init__(self) -> None:
        self.is_set = False
        self._future: asyncio.Future[None] | None = None

    def set(self) -> None:
        self.is_set = True
        if self._future is not None and not self._future.done():
            self._future.set_result(None)

    def future(self) -> asyncio.Future[None]:
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
            if self.is_set:
                self._future.set_result(None)
        return self._future

    def set_after(self, earlier: _Signal | None) -> None:
        """Set once ``earlier`` is (at once if it is, or if there is none)."""
        if earlier is None or earlier.is_set:
            self.set()
        elif not self.is_set:
            earlier.future().add_done_callback(lambda _: self.set())


class Turn:
    """One task's place in its lane."""

    __slots__ = ("finished", "previous", "queued")

    def __init__(self, previous: Turn | None) -> None:
        self.previous = previous
        self.queued = _Signal()
        self.finished = _Signal()

    async def wait_to_queue(self) -> None:
        """Until every earlier task of the lane has queued its work."""
        if self.previous is not None and not self.previous.queued.is_set:
            await asyncio.shield(self.previous.queued.future())

    async def wait_to_retry(self) -> None:
        """Until every earlier task of the lane is completely done (before a rewrite)."""
        if self.previous is not None and not self.previous.finished.is_set:
            await asyncio.shield(self.previous.finished.future())

    def mark_queued(self) -> None:
        self.queued.set()

    def close(self) -> None:
        """The task is over: pass both signals on, never ahead of the earlier tasks."""
        previous = self.previous
        self.queued.set_after(previous.queued if previous else None)
        self.finished.set_after(previous.finished if previous else None)
        self.previous = None  # the callbacks hold what is needed; no chain of old turns


class LaneTurns:
    """The latest turn of each lane (dropped once it is over)."""

    def __init__(self) -> None:
        self._tails: dict[str, Turn] = {}

    def take(self, lane: str) -> Turn:
        turn = Turn(self._tails.get(lane))
        self._tails[lane] = turn
        return turn

    def release(self, lane: str, turn: Turn) -> None:
        """``turn``'s task is over. Its lane's entry goes once the turn has passed on
        (a task after it must still wait for the tasks before it)."""
        turn.close()
        if turn.finished.is_set:
            self._drop(lane, turn)
        else:
            turn.finished.future().add_done_callback(lambda _: self._drop(lane, turn))

    def _drop(self, lane: str, turn: Turn) -> None:
        if self._tails.get(lane) is turn:
            del self._tails[lane]
