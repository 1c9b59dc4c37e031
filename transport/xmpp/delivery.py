"""Legacy -> XMPP: drain the durable queue into the stream, with a server barrier.

A stanza written to a socket is not yet delivered: the server may die before reading it.
So rows are sent in order, then a ping goes to the server; only its answer (the server
handles a component stream in order) marks the rows done. After a reconnect or restart
everything not marked done is sent again with the same id and origin-id.

The ping waits ``linger`` seconds and then covers every batch sent meanwhile (a
``_Barrier``). A ping right behind each message cost the server as much as the message,
and arriving in the same read it held the message back: at 100 messages/s that was a
third of the latency and most of its tail.

Stanzas that are not queued (a contact's presence, a room's presences) but must not
overtake the messages queued before them go through ``send_in_turn``: they leave at once
when the pump has written everything queued so far, else right behind the batch that does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transport.xmpp.component import GatewayComponent
from transport.xmpp.render import render_message

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Barrier:
    """Batches sent on one stream, confirmed by one ping per domain once it is sent."""

    generation: int
    row_ids: list[int] = field(default_factory=list)
    domains: set[str] = field(default_factory=set)
    # (rows, when they were taken from the queue) per batch, for the latency figures.
    taken: list[tuple[int, float]] = field(default_factory=list)


class DeliveryPump:
    """One per component: sends queued messages while the stream is up."""

    def __init__(
        self,
        xmpp: GatewayComponent,
        store: Any,
        *,
        batch_size: int = 256,
        max_in_flight: int = 4,
        linger: float = 0.02,
        observe: Callable[[float], None] | None = None,
    ) -> None:
        self.xmpp = xmpp
        self.store = store
        self.component = str(xmpp.boundjid.bare)
        self.batch_size = batch_size
        self.linger = linger
        # Seconds from a committed row being taken for sending to the server's confirmation.
        self._observe = observe
        # Barriers (not batches) under way: each holds a slot until its answer is in.
        self._slots = asyncio.Semaphore(max_in_flight)
        self._open: _Barrier | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._confirming: set[asyncio.Task[None]] = set()
        self._cursor = 0
        self._generation = 0
        # Every queued row up to this id is written to the current stream (-1: not known
        # yet on this stream); stanzas sent in turn wait here for the rows before them.
        self._written_upto = -1
        self._in_turn: deque[tuple[int, str]] = deque()
        self.delivered = 0
        xmpp.add_event_handler("session_start", self._on_session_start)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._confirming):
            task.cancel()

    async def drain(self, timeout: float) -> bool:
        """Wait until everything queued so far is confirmed; False on timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._in_turn or await self.store.xmpp_queue.count(self.component):
            if asyncio.get_running_loop().time() >= deadline or not self.xmpp.online.is_set():
                return False
            self._wake.set()
            await asyncio.sleep(0.02)
        return True

    def wake(self) -> None:
        """Something was queued: look at the queue now rather than at the next poll."""
        self._wake.set()

    def send_in_turn(self, xml: str) -> None:
        """Send stanzas (XML text) after every message queued so far, before later ones.

        At once when those are written already (the stream keeps the order), else right
        after the batch that writes the last of them. Not durable: a restart loses it.
        """
        mark = self.store.xmpp_queue.last_queued(self.component)
        if not self._in_turn and mark <= self._written_upto and self.xmpp.online.is_set():
            self.xmpp.send(xml, use_filters=False)
            return
        self._in_turn.append((mark, xml))
        self._wake.set()

    def _release_in_turn(self) -> None:
        """Send the waiting stanzas whose messages are all written, in order, in one write."""
        ready: list[str] = []
        while self._in_turn and self._in_turn[0][0] <= self._written_upto:
            ready.append(self._in_turn.popleft()[1])
        if ready:
            self.xmpp.send("".join(ready), use_filters=False)

    def _on_session_start(self, _event: Any) -> None:
        # A new stream: whatever was sent on the old one without a barrier answer is resent.
        self._cursor = 0
        self._generation += 1
        self._written_upto = -1
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.xmpp.online.wait()
                # Cleared before looking, so a message queued while we look wakes us again.
                self._wake.clear()
                sent = await self._send_batch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Delivery to XMPP failed for %s; retrying", self.component)
                await asyncio.sleep(1)
                continue
            if not sent:
                # asyncio.timeout, not wait_for: on 3.11 a wait_for cancelled while its
                # inner task finishes can swallow the cancellation, and stop() hangs.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(5):
                        await self._wake.wait()

    async def _send_batch(self) -> bool:
        barrier = self._open
        if barrier is None or barrier.generation != self._generation:
            barrier = None
            await self._slots.acquire()  # a new barrier: wait while too many are under way
        try:
            generation = self._generation
            queued = self.store.xmpp_queue.last_queued(self.component)
            rows = await self.store.xmpp_queue.pending(
                self.component, self.batch_size, self._cursor
            )
            taken_at = time.monotonic()
            if not self.xmpp.online.is_set():
                if barrier is None:
                    self._slots.release()
                return False
            if not rows:
                if barrier is None:
                    self._slots.release()
                self._written(generation, queued)
                return False
            # One write for the batch, through send() so that it stays in order with the
            # stanzas other parts of the gateway send (presences, the barrier's ping).
            self.xmpp.send("".join(render_message(row.message) for row in rows),
                           use_filters=False)
            self._cursor = rows[-1].row_id
            # A short read reached the end: everything queued before it is written now.
            self._written(generation, queued if len(rows) < self.batch_size else 0)
        except BaseException:
            if barrier is None:
                self._slots.release()
            raise
        if barrier is None or barrier is not self._open:  # the open one was pinged meanwhile
            if barrier is not None:
                await self._slots.acquire()
            barrier = self._open = _Barrier(self._generation)
            task = asyncio.ensure_future(self._confirm(barrier))
            self._confirming.add(task)
            task.add_done_callback(self._confirming.discard)
        barrier.row_ids.extend(row.row_id for row in rows)
        barrier.taken.append((len(rows), taken_at))
        barrier.domains.update(row.message.to.partition("/")[0].rpartition("@")[2]
                               for row in rows)
        return True

    def _written(self, generation: int, queued: int) -> None:
        """Rows up to the cursor (and to ``queued`` when the read reached the end) are
        written to this stream: let the stanzas waiting for them go."""
        if generation != self._generation:
            return
        self._written_upto = max(self._written_upto, self._cursor, queued)
        if self._in_turn:
            self._release_in_turn()

    async def _confirm(self, barrier: _Barrier) -> None:
        try:
            await asyncio.sleep(self.linger)
            if self._open is barrier:
                self._open = None  # batches sent from now on wait for a later ping
            row_ids = barrier.row_ids
            results = await asyncio.gather(*(self.xmpp.barrier(d) for d in barrier.domains))
            if all(results) and barrier.generation == self._generation:
                await self.store.xmpp_queue.mark_done(self.component, row_ids)
                self.delivered += len(row_ids)
                if self._observe is not None:
                    now = time.monotonic()
                    for count, taken_at in barrier.taken:
                        for _ in range(count):
                            self._observe(now - taken_at)
            elif barrier.generation == self._generation:
                log.warning("Server did not confirm %d stanzas for %s; reconnecting",
                            len(row_ids), self.component)
                self.xmpp.abort()
        except Exception:
            log.exception("Could not confirm delivery of %d stanzas", len(barrier.row_ids))
        finally:
            if self._open is barrier:
                self._open = None
            self._slots.release()
            self._wake.set()
