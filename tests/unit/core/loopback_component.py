"""A loopback peer for the component: just enough XEP-0114 to start a session.

It accepts one ``GatewayComponent``, answers the handshake, writes whatever stanzas a test
gives it and parses everything the component writes with a strict XML parser, as the
server would (a character XML cannot carry fails the parse).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from xml.etree import ElementTree as ET

from transport.xmpp.component import GatewayComponent

NS = "jabber:component:accept"
DOMAIN = "irc.localhost"


class LoopbackServer:
    """Accepts one component, completes the handshake and collects what it writes."""

    def __init__(self) -> None:
        self.received: list[ET.Element] = []
        self.raw = bytearray()
        self.changed = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.port = 0
        self._parser = ET.XMLPullParser(["start", "end"])
        self._parser.feed(f"<s xmlns='{NS}'>")
        self._depth = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        buffer = b""
        while b"<stream:stream" not in buffer or not buffer.rstrip().endswith(b">"):
            buffer += await reader.read(4096)
        writer.write(b"<stream:stream xmlns='jabber:component:accept' xmlns:stream="
                     b"'http://etherx.jabber.org/streams' from='%s' id='s1'>" % DOMAIN.encode())
        buffer = b""
        while b"</handshake>" not in buffer:
            buffer += await reader.read(4096)
        writer.write(b"<handshake/>")
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                self._collect(data)
                if b"</stream:stream>" in data:
                    writer.write(b"</stream:stream>")
                    break
        writer.close()

    def _collect(self, data: bytes) -> None:
        self.raw += data
        self._parser.feed(data.replace(b"</stream:stream>", b""))  # raises if not well-formed
        for event, element in self._parser.read_events():
            if event == "start":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth == 1:  # inside the stand-in root: a stanza
                    self.received.append(element)
        self.changed.set()

    def send(self, xml: str) -> None:
        """Write a stanza to the component, as the server would route it."""
        assert self.writer is not None
        self.writer.write(xml.encode())

    async def stanzas(self, count: int, timeout: float = 5.0) -> list[ET.Element]:
        """Wait until the component wrote ``count`` stanzas after the handshake."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.received[:count]

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@contextlib.asynccontextmanager
async def connected_component(
    **kwargs: float,
) -> AsyncIterator[tuple[GatewayComponent, LoopbackServer]]:
    """A ``GatewayComponent`` with its session started against a ``LoopbackServer``."""
    server = LoopbackServer()
    await server.start()
    xmpp = GatewayComponent(DOMAIN, "secret", "127.0.0.1", server.port,
                            keepalive_interval=3600, **kwargs)
    xmpp.start()
    try:
        await asyncio.wait_for(xmpp.online.wait(), 5)
        yield xmpp, server
    finally:
        await xmpp.stop(timeout=0.5)
        await server.close()
