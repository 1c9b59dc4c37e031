"""The session's serial worker and the wire's writer exist only while there is work: what
is queued still runs one at a time, in order, and the next item starts another task."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from transport.backends.irc.protocol.ratelimit import TokenBucket
from transport.backends.irc.protocol.wire import LineWire
from transport.backends.irc.session.irc_session import IrcSession


def session() -> IrcSession:
    bridge: Any = SimpleNamespace(info=SimpleNamespace(chantypes=lambda host: "#&"))
    manager: Any = SimpleNamespace(forget=lambda s: None)
    config: Any = SimpleNamespace(port=6667, tls=False)
    return IrcSession(manager, bridge, "u@example.org", "irc.example.org", config, "u")


async def test_actions_run_in_order_one_at_a_time_and_the_worker_ends_when_idle() -> None:
    s = session()
    log: list[str] = []
    running = 0

    def action(name: str, pause: float = 0.0) -> Any:
        async def run() -> str:
            nonlocal running
            running += 1
            assert running == 1, "two actions ran at once"
            log.append(f"start {name}")
            await asyncio.sleep(pause)
            log.append(f"end {name}")
            running -= 1
            return name
        return run

    assert s._worker is None
    s.submit(action("a", 0.01))
    first = s._worker
    assert first is not None
    result = asyncio.ensure_future(s.run(action("b")))
    await asyncio.sleep(0)  # run() queues "b" once its task starts, while "a" runs
    s.submit(action("c"))
    assert await result == "b"
    await asyncio.sleep(0.01)
    assert log == ["start a", "end a", "start b", "end b", "start c", "end c"]
    assert s._worker is None and first.done()
    assert await s.run(action("d")) == "d"  # a new worker for new work
    assert s._worker is None


async def test_failures_do_not_stop_the_worker_and_reach_run_callers() -> None:
    s = session()

    async def boom() -> None:
        raise ValueError("bad")

    async def fine() -> int:
        return 1

    s.submit(boom)
    try:
        await s.run(boom)
    except ValueError as exc:
        assert str(exc) == "bad"
    else:
        raise AssertionError("run() should raise what the action raised")
    assert await s.run(fine) == 1


async def test_after_quit_actions_run_at_once() -> None:
    s = session()
    await s.quit(send_quit=False)
    assert s.state == "closed" and s.closed.is_set()

    async def fine() -> str:
        return "ran"

    assert await s.run(fine) == "ran"
    s.submit(fine)
    assert s._worker is None


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.data = b""

    def write(self, data: Any) -> None:
        self.data += bytes(data)

    def is_closing(self) -> bool:
        return False

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Nothing is ever left unsent here."""

    def close(self) -> None:
        """Nothing to close."""


async def test_the_writer_task_exists_only_while_paced_lines_wait() -> None:
    bucket = TokenBucket(rate=50.0, burst=1)  # one line at once, then one per 20 ms
    wire = LineWire(lambda: None, lambda line, cut: None, lambda exc: None, bucket, 512)
    transport = _Transport()
    wire.connection_made(transport)
    early = wire.enqueue(b"A")  # before registration: held
    assert wire._writer is None
    wire.open_gate()
    assert wire._writer is not None
    futures = [early, *(wire.enqueue(line) for line in (b"B", b"C", b"D"))]
    await asyncio.gather(*futures)
    assert transport.data == b"A\r\nB\r\nC\r\nD\r\n"
    await asyncio.sleep(0)
    assert wire._writer is None
    await asyncio.sleep(0.05)  # a token again: the next line needs no task
    await wire.enqueue(b"E")
    assert transport.data.endswith(b"D\r\nE\r\n") and wire._writer is None
    wire.close()
