"""The attacking and the canary sides: an XMPP client that counts IQ answers, an IRC peer.

The XMPP client writes raw XML (``send_raw``), so it can send what slixmpp would refuse to
build, and records every IQ result or error it gets back by id: an IQ get/set must be
answered exactly once, whoever answers it (the gateway, or the server on its behalf).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from slixmpp.jid import InvalidJID
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

from transport.testing.xmpp_client import TestClient


def sender(stanza: Any) -> str:
    """The raw ``from`` (the barrage makes the server bounce stanzas from invalid JIDs, and
    slixmpp raises on reading those as JIDs)."""
    return str(stanza.xml.get("from", ""))


def bare_sender(stanza: Any) -> str:
    return sender(stanza).partition("/")[0]


def is_message(stanza: Any, sent_by: str, body: str | None = None) -> bool:
    """A message from ``sent_by`` (bare) carrying ``body``; read from the raw XML."""
    found = stanza.xml.find("{jabber:client}body")
    return (stanza.xml.tag == "{jabber:client}message" and bare_sender(stanza) == sent_by
            and (body is None or (found is not None and found.text == body)))


def _condition(xml: Any) -> str:
    """The defined condition of an error stanza (its element's local name)."""
    error = xml.find("{jabber:client}error")
    for child in error if error is not None else ():
        if child.tag.startswith("{urn:ietf:params:xml:ns:xmpp-stanzas}") and \
                not child.tag.endswith("}text"):
            return str(child.tag.partition("}")[2])
    return "(none)"


class LedgerClient(TestClient):
    """A test client that counts the IQ results/errors it receives, by id.

    It also keeps each error's condition and which errors carried anything besides the
    ``<error/>`` (a copy of the hostile payload)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: Counter[str] = Counter()
        self.conditions: dict[str, str] = {}
        self.echoed: set[str] = set()
        self.stream_ended = asyncio.Event()
        self.answered = asyncio.Event()
        self.waiting_for: set[str] = set()
        for kind in ("result", "error"):
            self.register_handler(Callback(
                f"ledger {kind}", StanzaPath(f"iq@type={kind}"), self._answer))
        self.add_event_handler("disconnected", lambda _e: self.stream_ended.set())

    def _handle_presence(self, presence: Any) -> None:
        """Bounces of presences sent to invalid JIDs come from those JIDs: slixmpp would log
        a traceback for each; they are expected here, so they are only kept."""
        try:
            presence["from"]
        except InvalidJID:
            self.inbox.put_nowait(presence)
            return
        super()._handle_presence(presence)

    def _answer(self, iq: Any) -> None:
        iq_id = iq["id"]
        self.answers[iq_id] += 1
        if iq.xml.get("type") == "error":
            self.conditions[iq_id] = _condition(iq.xml)
            if any(child.tag != "{jabber:client}error" for child in iq.xml):
                self.echoed.add(iq_id)
        self.waiting_for.discard(iq_id)
        if not self.waiting_for:
            self.answered.set()

    async def wait_answers(self, ids: set[str], timeout: float) -> set[str]:
        """Wait until every id in ``ids`` was answered; returns those that were not."""
        self.waiting_for = {i for i in ids if i not in self.answers}
        if self.waiting_for:
            self.answered.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.answered.wait(), timeout)
        return {i for i in ids if i not in self.answers}


class IrcPeer:
    """A plain IRC client on raw sockets, for the canary on a real server."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def connect(self, host: str, port: int, nick: str) -> IrcPeer:
        self.reader, self.writer = await asyncio.open_connection(host, port)
        self._task = asyncio.ensure_future(self._read())
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :canary")
        await self.wait(lambda words: words[1:2] == ["001"])
        return self

    def send(self, line: str) -> None:
        assert self.writer is not None
        self.writer.write(line.encode() + b"\r\n")

    async def join(self, channel: str) -> None:
        self.send(f"JOIN {channel}")
        await self.wait(lambda words: words[1:2] == ["366"])

    async def _read(self) -> None:
        assert self.reader is not None
        while raw := await self.reader.readline():
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("PING"):
                self.send("PONG" + line[4:])
            self.lines.append(line)
            self._changed.set()

    async def wait(self, pred: Callable[[list[str]], bool], timeout: float = 10.0) -> str:
        seen = 0
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines[seen:]:
                    if pred(line.split(" ")):
                        return line
                seen = len(self.lines)
                self._changed.clear()
                await self._changed.wait()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.writer is not None:
            self.writer.close()


async def timed(awaitable: Any) -> float:
    """Seconds an awaitable took."""
    started = time.monotonic()
    await awaitable
    return time.monotonic() - started
