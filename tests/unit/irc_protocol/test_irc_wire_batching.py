"""Lines cleared to go out in one loop turn leave in one write, in order, and each line's
future resolves only once the kernel took it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from transport.backends.irc.protocol.errors import IrcNotConnected
from transport.backends.irc.protocol.ratelimit import TokenBucket
from transport.backends.irc.protocol.wire import LineWire


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Nothing is ever left unsent here."""

    def close(self) -> None:
        self.closing = True


def open_wire(bucket: TokenBucket) -> tuple[LineWire, FakeTransport]:
    wire = LineWire(lambda: None, lambda line, truncated: None, lambda exc: None, bucket, 512)
    transport = FakeTransport()
    wire.connection_made(transport)
    wire.open_gate()
    return wire, transport


async def test_lines_of_one_turn_leave_in_one_write() -> None:
    wire, transport = open_wire(TokenBucket(0, 1))
    futures = [wire.enqueue(line) for line in (b"PRIVMSG #a :1", b"PRIVMSG #a :2", b"X")]
    assert not any(f.done() for f in futures) and transport.writes == []
    await asyncio.sleep(0)
    assert transport.writes == [b"PRIVMSG #a :1\r\nPRIVMSG #a :2\r\nX\r\n"]
    assert all(f.done() and f.exception() is None for f in futures)
    wire.close()


async def test_paced_lines_wait_behind_the_batch_in_order() -> None:
    wire, transport = open_wire(TokenBucket(50, 2))
    futures = [wire.enqueue(f"L{i}".encode()) for i in range(4)]
    await asyncio.wait_for(asyncio.gather(*futures), 2)
    assert b"".join(transport.writes) == b"L0\r\nL1\r\nL2\r\nL3\r\n"
    assert transport.writes[0] == b"L0\r\nL1\r\n"
    wire.close()


async def test_urgent_line_goes_after_the_older_batched_ones() -> None:
    wire, transport = open_wire(TokenBucket(0, 1))
    first = wire.enqueue(b"PRIVMSG #a :bye")
    wire.write_now(b"QUIT :done")
    assert transport.writes == [b"PRIVMSG #a :bye\r\n", b"QUIT :done\r\n"]
    await asyncio.sleep(0)
    assert first.done() and first.exception() is None
    wire.close()


async def test_batched_lines_fail_when_the_connection_is_lost_first() -> None:
    wire, transport = open_wire(TokenBucket(0, 1))
    futures = [wire.enqueue(b"PRIVMSG #a :x"), wire.enqueue(b"PRIVMSG #a :y")]
    wire.connection_lost(None)
    await asyncio.sleep(0)
    assert transport.writes == []
    for fut in futures:
        with pytest.raises(IrcNotConnected):
            fut.result()
