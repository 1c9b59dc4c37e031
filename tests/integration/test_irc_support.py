"""Shared pieces of the IRC integration tests: a gateway on Prosody + ngIRCd, IRC peers.

An IRC "peer" is a plain IRC client (the protocol layer's ``IrcConnection``) that records
what it receives, so tests assert on what really reached IRC. XMPP users are the core's
``TestClient``s; helpers join rooms and wait for the stanzas XEP-0045 promises.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from transport.backends.irc.protocol import (
    ConnectionOptions,
    Event,
    IrcConnection,
    IrcEvent,
)
from transport.testing.gateway import ComponentSpec, running_gateway
from transport.testing.xmpp_client import TestClient

GW = "irc.localhost"
SECRET = "irc-secret"
MUC = "http://jabber.org/protocol/muc"
MUC_USER = f"{MUC}#user"
HOST = "127.0.0.1"
FAST = ConnectionOptions(rate=0, welcome_grace=0.3)


def room(channel: str, host: str = HOST) -> str:
    return f"{channel}%{host}@{GW}"


def nick_jid(nick: str, host: str = HOST) -> str:
    return f"{nick.lower()}%{host}@{GW}"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def irc_options(server: Any, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "servers": {server.host: {"port": server.port, "tls": False}},
        "throttle_limit": -1,
        "reconnect_max_delay": 1.0,
        "queue_timeout": 30.0,
    }
    options.update(extra)
    return options


class Peer:
    """A plain IRC client on the test server."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        self.conn = IrcConnection(self._record, FAST)

    def _record(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def connect(self, server: Any, nick: str) -> Peer:
        await self.conn.connect(server.host, server.port, nick)
        return self

    @property
    def nick(self) -> str:
        return self.conn.nick

    async def send(self, line: str) -> None:
        await self.conn.send_line(line)

    async def join(self, channel: str) -> None:
        await self.send(f"JOIN {channel}")
        await self.wait(lambda e: e.command == "366" and e.param(1).lower() == channel.lower())

    async def wait(self, pred: Callable[[IrcEvent], bool], timeout: float = 10.0) -> IrcEvent:
        """The first recorded line (old or new) matching ``pred``."""
        seen = 0
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events[seen:]:
                    if isinstance(event, IrcEvent) and pred(event):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

    def lines(self, command: str, target: str | None = None) -> list[IrcEvent]:
        return [e for e in self.events if isinstance(e, IrcEvent) and e.command == command
                and (target is None or e.param(0).lower() == target.lower())]

    async def privmsgs(self, target: str, count: int, timeout: float = 15.0) -> list[str]:
        """Wait until ``count`` PRIVMSG texts to ``target`` arrived; return them in order."""
        async with asyncio.timeout(timeout):
            while len(self.lines("PRIVMSG", target)) < count:
                self._changed.clear()
                await self._changed.wait()
        return [e.param(1) for e in self.lines("PRIVMSG", target)]

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
async def peers() -> AsyncIterator[Callable[..., Any]]:
    made: list[Peer] = []

    async def make(server: Any, nick: str | None = None) -> Peer:
        peer = Peer()
        made.append(peer)
        return await peer.connect(server, nick or unique("p"))

    yield make
    for peer in made:
        peer.close()


@pytest.fixture
def irc_settings(gateway_settings: Callable[..., Any], ngircd: Any) -> Callable[..., Any]:
    def make(server: Any = None, irc_server: Any = None, **extra: Any) -> Any:
        spec = ComponentSpec("irc", GW, SECRET, irc_options(irc_server or ngircd, **extra))
        return gateway_settings(server, component=spec)

    return make


@pytest.fixture
async def irc_gateway(irc_settings: Callable[..., Any]) -> AsyncIterator[Any]:
    async with running_gateway(irc_settings()) as app:
        yield app


def join_presence(client: TestClient, room_jid: str, nick: str, password: str = "",
                  history: dict[str, str] | None = None) -> None:
    pres = client.make_presence(pto=f"{room_jid}/{nick}")
    x = ET.SubElement(pres.xml, f"{{{MUC}}}x")
    if password:
        ET.SubElement(x, f"{{{MUC}}}password").text = password
    if history is not None:
        ET.SubElement(x, f"{{{MUC}}}history", history)
    pres.send()


def codes(stanza: Any) -> set[str]:
    return {s.get("code") for s in stanza.xml.findall(f".//{{{MUC_USER}}}status")}


def item(stanza: Any) -> dict[str, str]:
    found = stanza.xml.find(f".//{{{MUC_USER}}}item")
    return dict(found.attrib) if found is not None else {}


def is_self_presence(room_jid: str) -> Callable[[Any], bool]:
    def pred(s: Any) -> bool:
        return (s.name == "presence" and s["from"].bare == room_jid and "110" in codes(s)
                and s["type"] != "unavailable")

    return pred


async def join(client: TestClient, room_jid: str, nick: str, **kwargs: Any) -> list[Any]:
    """Join and return every stanza of the join sequence up to and including the subject."""
    join_presence(client, room_jid, nick, **kwargs)
    got: list[Any] = []

    def collect(s: Any) -> bool:
        if s["from"].bare != room_jid:
            return False
        got.append(s)
        if s.name == "presence" and s["type"] == "error":
            return True
        return s.name == "message" and s.xml.find("{jabber:client}subject") is not None

    await client.expect(collect, timeout=15)
    return got


def groupchat(room_jid: str, body: str | None = None) -> Callable[[Any], bool]:
    def pred(s: Any) -> bool:
        return (s.name == "message" and s["type"] == "groupchat" and s["from"].bare == room_jid
                and (body is None or s["body"] == body))

    return pred
