"""The byte-level side of a connection: an asyncio protocol with an ordered, paced writer.

Every queued line gets a future resolved only once the line has left our buffers (handed to
the kernel, or to the TLS layer), so the gateway can reflect a message to XMPP exactly when
it really went out, as biboumi does. Lines marked urgent (PONG, QUIT, CAP, registration)
skip the queue and the bucket; so do unthrottled lines (a user's raw commands) once the
server accepted our registration, as in biboumi, where they never wait behind a backlog.
Background lines (what the gateway answers on its own, such as CTCP replies) have a lane of
their own, short and paced, that is written only while no other line waits: a flood of
requests can never hold up what the user typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import ssl
import time
from collections import deque
from collections.abc import Callable
from typing import ClassVar

from .errors import IrcNotConnected
from .lite import Flag, Inbox
from .message import LineReader
from .ratelimit import TokenBucket

log = logging.getLogger(__name__)

_HEAD = r"^((?:@\S* +)?(?::\S* +)?)"
_SECRET = re.compile(_HEAD + r"(PASS|OPER|AUTHENTICATE(?! +(?:PLAIN|\*|\+)$))\b.*", re.I)
_SERVICES = re.compile(_HEAD + r"((?:PRIVMSG|NOTICE) +\S*serv\b\S* |NS |NICKSERV ).*", re.I)
# Channel keys: JOIN's keys, and the parameters of a mode change (or 324) that sets +k.
_KEYS = re.compile(_HEAD + r"(JOIN +\S+|(?:MODE|324 +\S+) +\S+ +[-+]\S*k\S*) .*", re.I)


def redact(line: str) -> str:
    """A loggable form of a line: passwords (PASS, OPER, SASL, services) are masked.

    Works on received lines too, since echo-message sends our own messages back.
    """
    line = _SECRET.sub(r"\1\2 ****", line)
    line = _KEYS.sub(r"\1\2 ****", line)
    return _SERVICES.sub(r"\1\2****", line)


def _consume(fut: asyncio.Future[None]) -> None:
    """Mark a send future's outcome as seen: callers may fire and forget."""
    if not fut.cancelled():
        fut.exception()


# Where every connection's transport reads into: received bytes are handed over at once
# (copied into that connection's line buffer), so one buffer serves all of them. A plain
# Protocol would get a fresh bytes object per read, of asyncio's 256 KiB read size, shrunk
# after the fact: a large malloc per read that leaves the heap fragmented.
_READ_SIZE = 65536
_READ_BUFFER = memoryview(bytearray(_READ_SIZE))


class LineWire(asyncio.BufferedProtocol):
    """Reads CR/LF-terminated lines and writes queued lines in order, with flow control."""

    __slots__ = ("_background", "_batch", "_batch_futures", "_bucket", "_can_write", "_current",
                 "_flushing", "_gate", "_on_line", "_on_lost", "_on_made", "_queue", "_reader",
                 "_reading_paused", "_unflushed", "_writer", "closed", "last_rx", "transport")
    #: Lines of every connection that had to wait for the flood throttle (process-wide).
    throttled_total: ClassVar[int] = 0

    def __init__(
        self,
        on_made: Callable[[], None],
        on_line: Callable[[bytes, bool], None],
        on_lost: Callable[[BaseException | None], None],
        bucket: TokenBucket,
        max_line_bytes: int,
    ) -> None:
        self._on_made = on_made
        self._on_line = on_line
        self._on_lost = on_lost
        self._bucket = bucket
        self._reader = LineReader(max_line_bytes)
        self.transport: asyncio.Transport | None = None
        self.last_rx = time.monotonic()
        self.closed = False
        # Light stand-ins (see .lite): a connection keeps these for its whole life.
        self._queue: Inbox[tuple[bytes, asyncio.Future[None], bool]] = Inbox()
        self._gate = Flag()
        self._can_write = Flag()
        self._can_write.set()
        self._writer: asyncio.Task[None] | None = None  # only while lines are queued
        self._current: asyncio.Future[None] | None = None  # dequeued, not yet written
        self._flushing: asyncio.Future[None] | None = None  # written, not yet flushed
        self._unflushed: list[asyncio.Future[None]] = []  # unthrottled, written, not flushed
        # Lines cleared to go out this loop turn: written together, in one system call.
        self._batch: list[bytes] = []
        self._batch_futures: list[asyncio.Future[None]] = []
        self._reading_paused = False
        self._background: deque[bytes] | None = None  # made by the first background line

    # asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # high=0: pause_writing fires whenever anything is left unsent, so "written" means
        # the kernel (or the TLS layer) accepted the bytes.
        transport.set_write_buffer_limits(high=0)
        self.last_rx = time.monotonic()
        self._on_made()

    def get_buffer(self, sizehint: int) -> memoryview:
        return _READ_BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(_READ_BUFFER[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        self.last_rx = time.monotonic()
        for line, truncated in self._reader.feed(data):
            if self.closed:
                return
            self._on_line(line, truncated)

    def eof_received(self) -> bool | None:
        if self._reader.pending:
            log.debug("connection closed mid-line (%d bytes dropped)", self._reader.pending)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._shutdown(IrcNotConnected("connection closed"))
        self._on_lost(exc)

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()
        flushed, self._unflushed = self._unflushed, []
        for fut in flushed:
            if not fut.done():
                fut.set_result(None)

    # Writing ----------------------------------------------------------------------------

    def write_now(self, data: bytes) -> None:
        """Write an urgent line immediately, ahead of anything queued (after the lines
        already cleared to go out this turn, which are older)."""
        if self.closed or self.transport is None or self.transport.is_closing():
            raise IrcNotConnected("not connected")
        self._write_batch()
        if log.isEnabledFor(logging.DEBUG):
            log.debug(">> %s", redact(data.decode("utf-8", "replace")))
        self.transport.write(data + b"\r\n")

    def enqueue(self, data: bytes, throttle: bool = True) -> asyncio.Future[None]:
        """Queue a line; the future resolves once it is written, fails if it never is.

        Unthrottled lines are written at once, ahead of the paced queue, once the gate is
        open; before that they wait in order with the others.
        """
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.add_done_callback(_consume)
        if self.closed:
            fut.set_exception(IrcNotConnected("not connected"))
        elif not throttle and self._gate.is_set():
            self._write_unthrottled(data, fut)
        elif self._idle() and self._bucket.try_acquire():
            # Nothing ahead of it and a token free: no need to wake the writer task. The
            # line joins this turn's batch, written at the end of the turn in one call.
            if not self._batch:
                asyncio.get_running_loop().call_soon(self._write_batch)
            self._batch.append(data)
            self._batch_futures.append(fut)
        else:
            if throttle and not self._bucket.unlimited:
                LineWire.throttled_total += 1
            self._queue.put_nowait((data, fut, throttle))
            self._wake_writer()
        return fut

    def enqueue_background(self, data: bytes, limit: int) -> bool:
        """Queue a line in the background lane, behind every other line and paced like them;
        False (the line is dropped) when ``limit`` lines already wait there."""
        if self.closed:
            return False
        lane = self._background
        if lane is None:
            lane = self._background = deque()
        if len(lane) >= limit:
            return False
        lane.append(data)
        self._wake_writer()
        return True

    def _idle(self) -> bool:
        """No paced line is queued, being written or waiting for the kernel."""
        return (self._gate.is_set() and self._can_write.is_set() and self._queue.empty()
                and self._current is None and self._flushing is None)

    def _write_batch(self) -> None:
        """Write this turn's batch; its futures resolve once the kernel took the bytes."""
        if not self._batch:
            return
        lines, futures = self._batch, self._batch_futures
        self._batch, self._batch_futures = [], []
        if self.closed or self.transport is None or self.transport.is_closing():
            lost = IrcNotConnected("not connected")
            for fut in futures:
                if not fut.done():
                    fut.set_exception(lost)
            return
        if log.isEnabledFor(logging.DEBUG):
            for line in lines:
                log.debug(">> %s", redact(line.decode("utf-8", "replace")))
        lines.append(b"")
        self.transport.write(b"\r\n".join(lines))
        if not self._can_write.is_set():
            self._unflushed.extend(futures)
            return
        for fut in futures:
            if not fut.done():
                fut.set_result(None)

    def _write_unthrottled(self, data: bytes, fut: asyncio.Future[None]) -> None:
        try:
            self.write_now(data)
        except IrcNotConnected as exc:
            fut.set_exception(exc)
            return
        if self._can_write.is_set():
            fut.set_result(None)
        else:
            self._unflushed.append(fut)

    def open_gate(self) -> None:
        """Let queued lines flow (held back until the server accepted our registration)."""
        self._gate.set()
        self._wake_writer()

    def _wake_writer(self) -> None:
        if (self._writer is None and self._gate.is_set() and not self.closed
                and (not self._queue.empty() or self._background)):
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def _write_loop(self) -> None:
        """Write the queued lines in order, paced, then end: a connection with nothing
        queued keeps no task (about 1.5 KiB with its frames); the next line starts one.
        Background lines go out only while the main queue is empty."""
        try:
            while not self.closed:
                if self._queue.empty():
                    if not self._background:
                        break
                    await self._write_background()
                    continue
                data, fut, throttle = self._queue.get_nowait()
                if fut.done():
                    continue  # the caller gave up waiting
                self._current = fut
                if throttle:
                    await self._bucket.acquire()
                if fut.done():
                    continue
                try:
                    self.write_now(data)
                except IrcNotConnected as exc:
                    fut.set_exception(exc)
                    continue
                self._current, self._flushing = None, fut
                await self._can_write.wait()
                self._flushing = None
                if not fut.done():
                    fut.set_result(None)
        finally:
            self._current = None  # a line its caller gave up on may be left here
            if self._writer is asyncio.current_task():
                self._writer = None

    async def _write_background(self) -> None:
        """Write the oldest background line, unless another line came while its token was
        awaited: that line gets the token instead."""
        await self._bucket.acquire()
        if self.closed or not self._background:
            return
        if not self._queue.empty():
            self._bucket.give_back()
            return
        data = self._background.popleft()
        try:
            self.write_now(data)
        except IrcNotConnected:
            return
        await self._can_write.wait()

    def fail_pending(self, exc: BaseException) -> None:
        """Fail every queued line (e.g. on QUIT): they will not be sent."""
        if self._current is not None and not self._current.done():
            self._current.set_exception(exc)
        while not self._queue.empty():
            _, fut, _ = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(exc)

    def _shutdown(self, exc: BaseException) -> None:
        if self.closed:
            return
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()
        lost = IrcNotConnected("connection lost while writing")
        for batched in self._batch_futures:
            if not batched.done():
                batched.set_exception(exc)
        self._batch, self._batch_futures = [], []
        for fut in [self._flushing, *self._unflushed]:
            if fut is not None and not fut.done():
                fut.set_exception(lost)
        self._unflushed = []
        self._background = None
        self.fail_pending(exc)
        self._can_write.set()

    def close(self, exc: BaseException | None = None) -> None:
        """Stop writing, fail what is queued, close the socket (after flushing what's written)."""
        self._shutdown(exc or IrcNotConnected("connection closed"))
        if self.transport is not None:
            self.transport.close()

    # Read-side backpressure --------------------------------------------------------------

    def set_reading_paused(self, paused: bool) -> None:
        """Stop (or restart) reading from the socket, e.g. while the consumer lags."""
        if self.transport is None or paused == self._reading_paused:
            return
        self._reading_paused = paused
        with contextlib.suppress(RuntimeError):
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    @property
    def reading_paused(self) -> bool:
        return self._reading_paused


@functools.lru_cache(maxsize=16)
def ssl_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """Cached: loading a trust store reads files, which we do once, not per connection."""
    ctx = ssl.create_default_context(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def open_wire(
    wire: LineWire,
    host: str,
    port: int,
    ctx: ssl.SSLContext | None,
    local_addr: tuple[str, int] | None = None,
    address: str | None = None,
) -> None:
    """Connect ``wire`` (name resolution runs in asyncio's executor, never on the loop).

    With ``address`` the socket goes there and ``host`` only names the server for TLS."""
    await asyncio.get_running_loop().create_connection(
        lambda: wire,
        address or host,
        port,
        ssl=ctx,
        server_hostname=host if ctx is not None else None,
        local_addr=local_addr,
        happy_eyeballs_delay=0.25,
    )
