"""XMPP -> legacy: the durable outbox and the lanes that drain it.

A user's message is committed before the backend sees it, so a crash never loses it and a
stanza resent with the same id is sent once. Each lane (by default one conversation) sends
in order; lanes run side by side. Only failures where nothing reached the network
(``TemporaryFailure``) are retried; everything else ends as sent or as an error the user sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from transport.core.backend import Backend
from transport.core.errors import DeliveryRefused, TemporaryFailure
from transport.core.events import OutgoingMessage, SendOutcome, StanzaErrorInfo

log = logging.getLogger(__name__)

ErrorReporter = Callable[[OutgoingMessage, StanzaErrorInfo], Awaitable[None]]
ReceiptReporter = Callable[[OutgoingMessage], Awaitable[None]]
MappedHook = Callable[[Sequence[str]], Awaitable[None]]

UNCERTAIN = StanzaErrorInfo(
    condition="undefined-condition",
    text="The gateway stopped while sending this message; it may not have been delivered",
    etype="wait",
)


class OutboxDispatcher:
    """Feeds queued user messages to a backend, lane by lane, with retries and reports."""

    def __init__(
        self,
        component: str,
        backend: Backend[Any],
        store: Any,
        on_error: ErrorReporter,
        on_receipt: ReceiptReporter,
        on_mapped: MappedHook | None = None,
        *,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        give_up_after: float = 3600.0,
        pipeline_depth: int = 64,
        observe: Callable[[float], None] | None = None,
    ) -> None:
        self.component = component
        self.backend = backend
        self.store = store
        self.on_error = on_error
        self.on_receipt = on_receipt
        self.on_mapped = on_mapped or _nothing
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.give_up_after = give_up_after
        self.pipeline_depth = pipeline_depth
        self._lanes: dict[str, asyncio.Queue[tuple[int, OutgoingMessage, int, float]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._bookkeeping: set[asyncio.Task[None]] = set()
        self._sent: list[tuple[int, OutgoingMessage, SendOutcome]] = []
        self._stopping = asyncio.Event()
        # Seconds from a message's commit to the legacy network accepting it (submitted in
        # this run only: a row resumed after a restart has no start time here).
        self._observe = observe
        self._submitted: dict[int, float] = {}
        self.sent = 0
        self.failed = 0

    async def start(self) -> None:
        """Resume what a previous run left unfinished."""
        for row in await self.store.outbox.unfinished(self.component):
            if row.state == "sending" and not self.backend.resend_unconfirmed:
                await self.store.outbox.mark_failed(row.row_id, UNCERTAIN.text)
                await self.on_error(row.message, UNCERTAIN)
                continue
            self._enqueue(row.lane, row.row_id, row.message, row.attempts, row.next_attempt_at)

    async def submit(self, message: OutgoingMessage) -> bool:
        """Commit a user's message and schedule it; False when it was a resent duplicate."""
        lane = self.backend.lane(message)
        row_id = await self.store.outbox.add(self.component, message, lane)
        if row_id is None:
            return False
        if self._observe is not None:
            self._submitted[row_id] = time.monotonic()
        self._enqueue(lane, row_id, message, 0, 0.0)
        return True

    async def stop(self, grace: float = 5.0) -> None:
        """Let in-flight sends finish for a moment, then stop; the rest stays queued.

        A lane waiting out a retry backoff stops at once (its row is due at the next
        start); only a send under way gets the ``grace``."""
        self._stopping.set()
        workers = list(self._workers.values())
        for queue in self._lanes.values():
            while not queue.empty():
                queue.get_nowait()
        if workers:
            _done, pending = await asyncio.wait(workers, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._bookkeeping:
            await asyncio.gather(*self._bookkeeping, return_exceptions=True)

    async def _until(self, due: float) -> bool:
        """Wait until ``due`` (a time.time()); False, at once, when the outbox stops."""
        wait = due - time.time()
        if wait > 0 and not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._stopping.wait()
        return not self._stopping.is_set()

    def pending_lanes(self) -> int:
        """Lanes still sending, or outcomes still being recorded (0 = idle)."""
        return len(self._workers) + len(self._bookkeeping)

    def _enqueue(
        self, lane: str, row_id: int, message: OutgoingMessage, attempts: int, due: float
    ) -> None:
        queue = self._lanes.get(lane)
        if queue is None:
            queue = self._lanes[lane] = asyncio.Queue()
        queue.put_nowait((row_id, message, attempts, due))
        if lane not in self._workers:
            self._workers[lane] = asyncio.ensure_future(self._drain(lane, queue))

    async def _drain(self, lane: str, queue: asyncio.Queue[Any]) -> None:
        try:
            if self.backend.pipelined_sends and self.backend.resend_unconfirmed:
                await self._drain_pipelined(queue)
            else:
                while not queue.empty():
                    row_id, message, attempts, due = queue.get_nowait()
                    await self._deliver(row_id, message, attempts, due)
        finally:
            self._workers.pop(lane, None)
            if queue.empty():
                self._lanes.pop(lane, None)

    async def _drain_pipelined(self, queue: asyncio.Queue[Any]) -> None:
        """Up to ``pipeline_depth`` sends of the lane under way at once, outcomes taken in
        order. A row that is not due yet waits until everything before it is done."""
        window: deque[tuple[int, OutgoingMessage, asyncio.Future[SendOutcome]]] = deque()
        held: tuple[int, OutgoingMessage, int, float] | None = None
        try:
            while window or held is not None or not queue.empty():
                while len(window) < self.pipeline_depth and (held or not queue.empty()):
                    row_id, message, attempts, due = held or queue.get_nowait()
                    held = None
                    if due > time.time():
                        if window:
                            held = (row_id, message, attempts, due)
                            break
                        if not await self._until(due):
                            return
                    window.append((row_id, message,
                                   asyncio.ensure_future(self.backend.send(message))))
                if window:
                    row_id, message, first = window.popleft()
                    self._settle(row_id, message, await _outcome(first))
        finally:
            for _row_id, _message, pending in window:
                pending.cancel()

    def _settle(self, row_id: int, message: OutgoingMessage,
                outcome: SendOutcome | BaseException) -> None:
        """Record a pipelined send's outcome, as ``_deliver`` does for a serial one."""
        if isinstance(outcome, SendOutcome):
            self._record_sent(row_id, message, outcome)
            return
        if isinstance(outcome, DeliveryRefused):
            error = StanzaErrorInfo(outcome.condition, outcome.text, outcome.etype,
                                    outcome.legacy_code)
        else:
            log.error("Backend failed sending to %s for %s", message.contact, message.user,
                      exc_info=outcome)
            error = StanzaErrorInfo("internal-server-error",
                                    "The gateway failed to send this message")
        self._after(self._fail(row_id, message, error))

    async def _deliver(
        self, row_id: int, message: OutgoingMessage, attempts: int, due: float
    ) -> None:
        first_try = time.time()
        while True:
            if not await self._until(due):
                return
            if not self.backend.resend_unconfirmed:
                # The network is not idempotent: the row must say "sending" durably before
                # the network sees the message, so a crash is reported, never resent.
                await self.store.outbox.claim(row_id)
            attempts += 1
            try:
                outcome = await self.backend.send(message)
            except TemporaryFailure as exc:
                if time.time() - first_try > self.give_up_after:
                    await self._fail(row_id, message, StanzaErrorInfo(
                        "remote-server-timeout", f"Could not send: {exc.reason}", "wait"))
                    return
                delay = exc.retry_after
                if delay is None or delay <= 0:  # no hint, or one that would mean a spin
                    delay = min(self.max_delay, self.base_delay * 2 ** (attempts - 1))
                due = time.time() + delay
                log.info("Send to %s for %s deferred %.1f s: %s",
                         message.contact, message.user, delay, exc.reason)
                await self.store.outbox.reschedule(row_id, due, exc.reason)
                continue
            except DeliveryRefused as exc:
                self._after(self._fail(row_id, message, StanzaErrorInfo(
                    exc.condition, exc.text, exc.etype, exc.legacy_code)))
                return
            except Exception:
                log.exception("Backend failed sending to %s for %s", message.contact, message.user)
                self._after(self._fail(row_id, message, StanzaErrorInfo(
                    "internal-server-error", "The gateway failed to send this message")))
                return
            self._record_sent(row_id, message, outcome)
            return

    def _record_sent(self, row_id: int, message: OutgoingMessage, outcome: SendOutcome) -> None:
        """A plain success joins the loop turn's batch: one write marks them all sent."""
        started = self._submitted.pop(row_id, None)
        if started is not None and self._observe is not None:
            self._observe(time.monotonic() - started)
        if outcome.legacy_ids and not outcome.confirmed:
            self._after(self._sent_awaiting_report(row_id, message, outcome))
            return
        if not self._sent:
            self._after(self._flush_sent())
        self._sent.append((row_id, message, outcome))

    async def _flush_sent(self) -> None:
        await asyncio.sleep(0)  # the rest of this turn's successes join the batch
        batch, self._sent = self._sent, []
        self.sent += len(batch)
        await self.store.outbox.mark_sent_many(
            [(row_id, outcome.legacy_ids) for row_id, _message, outcome in batch])
        for _row_id, message, outcome in batch:
            if outcome.confirmed and message.receipt_requested:
                await self.on_receipt(message)

    def _after(self, bookkeeping: Coroutine[Any, Any, None]) -> None:
        """Record an outcome without holding up the lane's next message.

        The single store writer commits in submission order, so the records still land in
        the order the messages were sent; stop() waits for them.
        """
        task = asyncio.ensure_future(bookkeeping)
        self._bookkeeping.add(task)
        task.add_done_callback(self._bookkeeping_done)

    def _bookkeeping_done(self, task: asyncio.Task[None]) -> None:
        self._bookkeeping.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Could not record a send outcome", exc_info=task.exception())

    async def _sent_awaiting_report(self, row_id: int, message: OutgoingMessage,
                                    outcome: SendOutcome) -> None:
        """Sent, with the network's report still to come: keep its ids to match it."""
        self.sent += 1
        await self.store.outbox.mark_sent(row_id, list(outcome.legacy_ids))
        for contact, legacy_ids in outcome.by_contact(message.contact).items():
            await self.store.id_maps.add(
                self.component,
                legacy_ids,
                message.user,
                message.sender_full_jid,
                contact,
                message.stanza_id,
                message.receipt_requested,
            )
        await self.on_mapped(outcome.legacy_ids)

    async def _fail(self, row_id: int, message: OutgoingMessage, error: StanzaErrorInfo) -> None:
        self.failed += 1
        self._submitted.pop(row_id, None)
        log.info("Message from %s to %s failed: %s", message.user, message.contact,
                 error.condition)
        await self.store.outbox.mark_failed(row_id, f"{error.condition}: {error.text}")
        await self.on_error(message, error)


async def _outcome(send: asyncio.Future[SendOutcome]) -> SendOutcome | BaseException:
    """A send's result, or the exception it ended with (cancellation still propagates)."""
    try:
        return await send
    except Exception as exc:
        return exc


async def _nothing(_legacy_ids: Sequence[str]) -> None:
    """Default ``on_mapped``: no late reports to apply."""
