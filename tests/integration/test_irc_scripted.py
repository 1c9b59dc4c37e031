"""A scripted IRC server for integration tests that need the server to misbehave on cue.

It registers every client (001, 005, end of MOTD), answers PING and JOIN (with NAMES and
no topic), records every line with the time it arrived, and hands each PRIVMSG to
``on_privmsg``, which may answer, flood or close the link; ``drop_after_welcome`` closes
every link right after registering it (a server that keeps failing). Clients are kept in order of
connection, so a test sees its reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

SERVER = "scripted.irc"
ISUPPORT = "CASEMAPPING=ascii CHANTYPES=# PREFIX=(ov)@+ NICKLEN=30"


class ScriptedClient:
    """One connection to the scripted server."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.nick = "*"
        self.lines: list[tuple[float, str]] = []
        self.closed = False
        self.registered = False

    def send(self, *lines: str) -> None:
        if not self.closed:
            self.writer.write("".join(f"{line}\r\n" for line in lines).encode())

    def close(self) -> None:
        self.closed = True
        self.writer.close()

    def received(self, command: str) -> list[str]:
        return [line for _, line in self.lines if line.split(" ", 1)[0] == command]


PrivmsgHook = Callable[[ScriptedClient, str], Awaitable[None]]


class ScriptedIrcServer:
    """``async with ScriptedIrcServer(on_privmsg) as server``: ``server.port`` to connect to."""

    def __init__(self, on_privmsg: PrivmsgHook | None = None, *,
                 drop_after_welcome: bool = False) -> None:
        self.on_privmsg = on_privmsg
        self.drop_after_welcome = drop_after_welcome
        self.clients: list[ScriptedClient] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> ScriptedIrcServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients:
            client.close()
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 1)

    async def wait(self, ready: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not ready():
                self._changed.clear()
                await self._changed.wait()

    def all_lines(self, command: str) -> list[str]:
        return [line for client in self.clients for line in client.received(command)]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = ScriptedClient(writer)
        self.clients.append(client)
        user_seen = False
        try:
            while not client.closed:
                raw = await reader.readline()
                if not raw:
                    return
                line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                client.lines.append((time.monotonic(), line))
                self._changed.set()
                words = line.split(" ")
                command = words[0].upper()
                if command == "NICK":
                    client.nick = words[1].lstrip(":")
                elif command == "USER":
                    user_seen = True
                if (command in ("NICK", "USER") and user_seen and client.nick != "*"
                        and not client.registered):
                    client.registered = True
                    self._welcome(client)
                    if self.drop_after_welcome:
                        await writer.drain()
                        client.close()
                elif command == "PING":
                    client.send(f":{SERVER} PONG {SERVER} :{line.partition(' ')[2].lstrip(':')}")
                elif command == "JOIN":
                    channel = words[1]
                    client.send(f":{client.nick}!~u@h JOIN {channel}",
                                f":{SERVER} 353 {client.nick} = {channel} :{client.nick}",
                                f":{SERVER} 366 {client.nick} {channel} :End of NAMES list")
                elif command == "PRIVMSG" and self.on_privmsg is not None:
                    await self.on_privmsg(client, line)
                await writer.drain()
        except ConnectionError:
            return
        finally:
            client.closed = True
            self._changed.set()

    @staticmethod
    def _welcome(client: ScriptedClient) -> None:
        nick = client.nick
        client.send(f":{SERVER} 001 {nick} :Welcome {nick}",
                    f":{SERVER} 005 {nick} {ISUPPORT} :are supported by this server",
                    f":{SERVER} 376 {nick} :End of MOTD")
