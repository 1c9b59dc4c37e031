"""A small scriptable (and, on request, misbehaving) IRC server for connection tests.

It registers clients like a minimal IRCv3 server (CAP LS 302, optional SASL PLAIN, 001-005,
MOTD), records every line it receives, and lets a test push arbitrary raw bytes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Callable


class FakeClient:
    def __init__(self, server: FakeIrcServer, reader, writer) -> None:
        self.server = server
        self.reader: asyncio.StreamReader = reader
        self.writer: asyncio.StreamWriter = writer
        self.lines: list[str] = []
        self.stamps: list[float] = []
        self.nick = "*"
        self.registered = False
        self.caps: set[str] = set()
        self.cap_negotiating = False
        self.reading = asyncio.Event()
        self.reading.set()
        self._changed = asyncio.Event()

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode() + b"\r\n"
        self.writer.write(data)

    def reply(self, line: str) -> None:
        if "server-time" in self.caps:
            line = "@time=2024-01-02T03:04:05.678Z " + line
        self.send(line)

    async def wait_for(self, pred: Callable[[str], bool], timeout: float = 5.0) -> str:
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if pred(line):
                        return line
                seen = len(self.lines)
                self._changed.clear()
                await self._changed.wait()

    def close(self) -> None:
        self.writer.close()

    async def run(self) -> None:
        try:
            while True:
                await self.reading.wait()
                raw = await self.reader.readline()
                if not raw:
                    return
                line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                self.lines.append(line)
                self.stamps.append(time.monotonic())
                self._changed.set()
                if self.server.auto:
                    self._auto(line)
                await self.writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._changed.set()

    def _auto(self, line: str) -> None:
        srv = self.server
        words = line.split(" ")
        cmd = words[0].upper()
        if cmd == "CAP" and len(words) > 1 and srv.caps is not None:
            sub = words[1].upper()
            if sub == "LS":
                self.cap_negotiating = True
                self.reply(f":fake.irc CAP * LS :{srv.caps}")
            elif sub == "REQ":
                wanted = line.split(":", 1)[1].split()
                offered = {c.split("=")[0] for c in srv.caps.split()}
                ok = all(c in offered for c in wanted)
                self.reply(
                    f":fake.irc CAP {self.nick} {'ACK' if ok else 'NAK'} :{' '.join(wanted)}"
                )
                if ok:
                    self.caps.update(wanted)
            elif sub == "END":
                self.cap_negotiating = False
                self._maybe_welcome()
        elif cmd == "CAP" and srv.caps is None:
            self.reply(f":fake.irc 421 {self.nick} CAP :Unknown command")
        elif cmd == "AUTHENTICATE":
            if words[1] == "PLAIN":
                self.reply("AUTHENTICATE +")
            else:
                creds = srv.sasl or {}
                parts = base64.b64decode(words[1]).split(b"\0")
                if len(parts) == 3 and creds.get(parts[1].decode()) == parts[2].decode():
                    self.reply(f":fake.irc 900 {self.nick} {self.nick}!u@h {parts[1].decode()} :ok")
                    self.reply(f":fake.irc 903 {self.nick} :SASL authentication successful")
                else:
                    self.reply(f":fake.irc 904 {self.nick} :SASL authentication failed")
        elif cmd == "NICK":
            nick = words[1].lstrip(":")
            if nick in srv.taken:
                self.reply(f":fake.irc 433 {self.nick} {nick} :Nickname is already in use")
            else:
                self.nick = nick
                self._maybe_welcome()
        elif cmd == "USER":
            self._maybe_welcome(user_seen=True)
        elif cmd == "PING" and srv.answer_pings:
            self.reply(f":fake.irc PONG fake.irc :{line.split(' ', 1)[1].lstrip(':')}")
        elif cmd == "QUIT":
            self.send(f"ERROR :Closing Link: {self.nick} ({line.partition(':')[2]})")
            self.close()
        elif cmd == "JOIN":
            self.reply(f":{self.nick}!~u@fake.host JOIN {words[1]}")

    def _maybe_welcome(self, user_seen: bool = False) -> None:
        if user_seen:
            self.user_seen = True
        if (
            self.registered
            or self.cap_negotiating
            or self.nick == "*"
            or not getattr(self, "user_seen", False)
            or not self.server.welcome
        ):
            return
        self.registered = True
        n = self.nick
        self.reply(f":fake.irc 001 {n} :Welcome to FakeNet {n}!~u@fake.host")
        self.reply(f":fake.irc 002 {n} :Your host is fake.irc")
        self.reply(f":fake.irc 003 {n} :created today")
        self.reply(f":fake.irc 004 {n} fake.irc fake-1 iow biklmnopstv")
        self.reply(f":fake.irc 005 {n} {self.server.isupport} :are supported by this server")
        self.reply(f":fake.irc 005 {n} NETWORK=FakeNet :are supported by this server")
        self.reply(f":fake.irc 375 {n} :- MOTD")
        self.reply(f":fake.irc 376 {n} :End of MOTD")


class FakeIrcServer:
    def __init__(
        self,
        *,
        caps: str | None = "multi-prefix server-time message-tags echo-message sasl=PLAIN",
        sasl: dict[str, str] | None = None,
        taken: set[str] | None = None,
        isupport: str = "CASEMAPPING=ascii CHANTYPES=# PREFIX=(ohv)@%+ NICKLEN=20",
        welcome: bool = True,
        auto: bool = True,
    ) -> None:
        self.caps = caps
        self.sasl = sasl
        self.taken = taken or set()
        self.isupport = isupport
        self.welcome = welcome
        self.auto = auto
        self.answer_pings = True
        self.clients: list[FakeClient] = []
        self._new_client = asyncio.Event()
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def __aenter__(self) -> FakeIrcServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        for client in self.clients:
            client.reading.set()
            client.close()
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 1)

    async def _handle(self, reader, writer) -> None:
        client = FakeClient(self, reader, writer)
        self.clients.append(client)
        self._new_client.set()
        await client.run()

    async def client(self, index: int = 0, timeout: float = 5.0) -> FakeClient:
        async with asyncio.timeout(timeout):
            while len(self.clients) <= index:
                self._new_client.clear()
                await self._new_client.wait()
        return self.clients[index]
