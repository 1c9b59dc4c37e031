"""A minimal asyncio IRC client for the benchmark: floods, counts and timestamps lines.

Deliberately independent of the gateway's own IRC code, so that the measuring side does not
change when the code under test does. It reads in large chunks and parses only PRIVMSG,
PING and the numerics it waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

PrivmsgHandler = Callable[[str, str, str, float], None]
"""(sender nick, target, text, monotonic receive time)."""


class IrcPeer:
    """One IRC connection: NICK/USER, JOIN, send, and a callback for every PRIVMSG."""

    def __init__(self, nick: str) -> None:
        self.nick = nick
        self.on_privmsg: PrivmsgHandler | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiters: list[tuple[Callable[[str, list[str]], bool], asyncio.Future[None]]] = []
        self.joined: set[str] = set()
        self.closed = asyncio.Event()

    async def connect(self, host: str, port: int, timeout: float = 15.0) -> IrcPeer:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, limit=1 << 20), timeout)
        self._task = asyncio.create_task(self._read_loop())
        welcome = self._wait_for(lambda cmd, _p: cmd == "001")
        self.write(f"NICK {self.nick}", f"USER {self.nick} 0 * :bench {self.nick}")
        await asyncio.wait_for(welcome, timeout)
        return self

    async def join(self, channel: str, timeout: float = 15.0) -> None:
        folded = channel.lower()
        done = self._wait_for(lambda cmd, p: cmd == "366" and len(p) > 1
                              and p[1].lower() == folded)
        self.write(f"JOIN {channel}")
        await asyncio.wait_for(done, timeout)
        self.joined.add(folded)

    def write(self, *lines: str) -> None:
        assert self._writer is not None
        self._writer.write("".join(f"{line}\r\n" for line in lines).encode())

    async def drain(self) -> None:
        assert self._writer is not None
        await self._writer.drain()

    async def flood(self, lines: list[str], chunk: int = 500) -> None:
        """Write ``lines`` as fast as the socket takes them."""
        for start in range(0, len(lines), chunk):
            self.write(*lines[start:start + chunk])
            await self.drain()

    def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.write(b"QUIT :bench done\r\n")
            self._writer.close()
        if self._task is not None:
            self._task.cancel()

    # ----------------------------------------------------------------- internals

    def _wait_for(self, pred: Callable[[str, list[str]], bool]) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        return fut

    async def _read_loop(self) -> None:
        assert self._reader is not None
        buf = b""
        try:
            while True:
                data = await self._reader.read(1 << 16)
                if not data:
                    break
                now = time.monotonic()
                buf += data
                *lines, buf = buf.split(b"\r\n")
                for raw in lines:
                    self._handle(raw.decode("utf-8", "replace"), now)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.closed.set()

    def _handle(self, line: str, now: float) -> None:
        prefix = ""
        if line.startswith(":"):
            prefix, _, line = line.partition(" ")
        command, _, rest = line.partition(" ")
        if command == "PRIVMSG":
            target, _, text = rest.partition(" ")
            if self.on_privmsg is not None:
                self.on_privmsg(prefix[1:].split("!", 1)[0], target, text[1:], now)
            return
        if command == "PING":
            self.write(f"PONG {rest}")
            return
        if not self._waiters:
            return
        head, _, trailing = rest.partition(" :")
        params = head.split()
        if trailing:
            params.append(trailing)
        for pred, fut in list(self._waiters):
            if not fut.done() and pred(command, params):
                fut.set_result(None)
        self._waiters = [(p, f) for p, f in self._waiters if not f.done()]
