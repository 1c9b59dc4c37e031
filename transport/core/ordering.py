"""Turns: overlapping tasks that must reach one point in the order they started.

Each relayed stanza, and each pipelined send (``Backend.pipelined_sends``), runs as its own
task, and each may wait on the way (a cache miss, a connection coming back). A turn lets a
task queue its work (an outbox write, IRC lines) only after the previous task of its lane
queued its own, and, when it must write again after a lost connection, only once the
previous task is completely done.
"""

from __future__ import annotations

import asyncio


class Turn:
    """One task's place in its lane."""

    def __init__(self, previous: Turn | None) -> None:
        loop = asyncio.get_running_loop()
        self.previous = previous
        self.queued: asyncio.Future[None] = loop.create_future()
        self.finished: asyncio.Future[None] = loop.create_future()

    async def wait_to_queue(self) -> None:
        """Until every earlier task of the lane has queued its work."""
        if self.previous is not None and not self.previous.queued.done():
            await asyncio.shield(self.previous.queued)

    async def wait_to_retry(self) -> None:
        """Until every earlier task of the lane is completely done (before a rewrite)."""
        if self.previous is not None and not self.previous.finished.done():
            await asyncio.shield(self.previous.finished)

    def mark_queued(self) -> None:
        if not self.queued.done():
            self.queued.set_result(None)

    def close(self) -> None:
        """The task is over: pass both signals on, never ahead of the earlier tasks."""
        _after(self.previous.queued if self.previous else None, self.queued)
        _after(self.previous.finished if self.previous else None, self.finished)
        self.previous = None  # the callbacks hold what is needed; no chain of old turns


def _after(earlier: asyncio.Future[None] | None, mine: asyncio.Future[None]) -> None:
    if earlier is None or earlier.done():
        _settle(mine)
    elif not mine.done():
        earlier.add_done_callback(lambda _: _settle(mine))


def _settle(mine: asyncio.Future[None]) -> None:
    if not mine.done():
        mine.set_result(None)


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
        if turn.finished.done():
            self._drop(lane, turn)
        else:
            turn.finished.add_done_callback(lambda _: self._drop(lane, turn))

    def _drop(self, lane: str, turn: Turn) -> None:
        if self._tails.get(lane) is turn:
            del self._tails[lane]
