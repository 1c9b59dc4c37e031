"""Helpers for the tests of where the IRC backend may connect: a listener that counts who
reaches it (standing for any service on the gateway's network), and the server form."""

from __future__ import annotations

import asyncio
from typing import Any

from test_irc_support import GW

from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import run_command


class CountingListener:
    """A TCP service on a loopback address that only counts the connections it accepts."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self, host: str = "127.0.0.1") -> CountingListener:
        self._server = await asyncio.start_server(self._accept, host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"220 mail.internal ESMTP ready\r\n")
        writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def configure_server(client: TestClient, host: str, values: dict[str, Any]) -> Any:
    """Run the server ``configure`` command with ``values``; returns the final result."""
    return await run_command(client, f"{host}@{GW}", "configure", values)


async def form_fields(client: TestClient, host: str) -> set[str]:
    """The vars the server ``configure`` form offers for ``host``."""
    first = await client.plugin["xep_0050"].send_command(f"{host}@{GW}", "configure")
    return {f.get("var", "") for f in first.xml.iter("{jabber:x:data}field")}


def error_text(stanzas: list[Any]) -> str:
    """The text of the error presence ending a join (AssertionError if it succeeded)."""
    last = stanzas[-1]
    assert last.name == "presence" and last["type"] == "error", last
    return str(last["error"]["text"])
