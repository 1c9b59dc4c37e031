"""A real XMPP client for tests and benchmarks: logs in over plain TCP on loopback.

Everything it receives lands in one queue so a test can wait for the stanza it expects
(with a timeout) instead of sleeping; stanzas a wait passed over stay available to the next.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from slixmpp import ClientXMPP
from slixmpp.stanza import Iq, Message, Presence
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

Predicate = Callable[[Any], bool]


class TestClient(ClientXMPP):
    """A slixmpp client configured for a plain-TCP loopback server."""

    __test__ = False  # not a pytest test class

    def __init__(self, jid: str, password: str, host: str, port: int) -> None:
        super().__init__(
            jid,
            password,
            plugin_whitelist=[
                "xep_0004", "xep_0030", "xep_0050", "xep_0066", "xep_0077", "xep_0092",
                "xep_0184", "xep_0199", "xep_0203", "xep_0359", "xep_0334",
            ],
            plugin_config={"xep_0184": {"auto_ack": False, "auto_request": False}},
        )
        self.register_plugins()
        self.enable_direct_tls = False
        self.enable_starttls = False
        self.enable_plaintext = True
        self.plugin["feature_mechanisms"].unencrypted_scram = True
        self.server_address = (host, port)
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.backlog: list[Any] = []
        self.started = asyncio.Event()
        self.add_event_handler("session_start", self._on_start)
        # slixmpp's "message" event needs a <body/>; receipts and errors have none.
        self.register_handler(Callback("collect messages", StanzaPath("message"), self._collect))
        self.add_event_handler("presence", self._collect)

    def _on_start(self, _event: Any) -> None:
        self.send_presence()
        self.started.set()

    def _collect(self, stanza: Any) -> None:
        self.inbox.put_nowait(stanza)

    async def login(self, timeout: float = 10.0) -> None:
        """Connect and wait for the session (roster fetched, initial presence sent)."""
        self.started.clear()
        self.connect(*self.server_address)
        await asyncio.wait_for(self.started.wait(), timeout)
        await self.get_roster()

    async def logout(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.disconnect(wait=1), 3)

    async def expect(self, predicate: Predicate, timeout: float = 10.0) -> Any:
        """The oldest received stanza matching ``predicate``, which is consumed."""
        for index, stanza in enumerate(self.backlog):
            if predicate(stanza):
                return self.backlog.pop(index)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("no matching stanza arrived")
            try:
                stanza = await asyncio.wait_for(self.inbox.get(), remaining)
            except TimeoutError:
                raise TimeoutError("no matching stanza arrived") from None
            if predicate(stanza):
                return stanza
            self.backlog.append(stanza)

    async def expect_message(
        self, sender: str | None = None, body: str | None = None, timeout: float = 10.0,
        mtype: str | None = None,
    ) -> Message:
        def match(s: Any) -> bool:
            return (
                isinstance(s, Message)
                and (sender is None or s["from"].bare == sender or str(s["from"]) == sender)
                and (body is None or s["body"] == body)
                and (mtype is None or s["type"] == mtype)
            )

        result: Message = await self.expect(match, timeout)
        return result

    async def expect_presence(
        self, sender: str, ptype: str | None = None, timeout: float = 10.0
    ) -> Presence:
        def match(s: Any) -> bool:
            return (
                isinstance(s, Presence)
                and s["from"].bare == sender
                and (ptype is None or s["type"] == ptype)
            )

        result: Presence = await self.expect(match, timeout)
        return result

    def drain(self) -> list[Any]:
        """Everything received and not consumed so far, emptying the queue."""
        out, self.backlog = self.backlog, []
        while not self.inbox.empty():
            out.append(self.inbox.get_nowait())
        return out

    async def query(self, iq: Iq, timeout: float = 10.0) -> Iq:
        """Send an IQ and return the result; IqError is raised on an error reply."""
        result: Iq = await iq.send(timeout=timeout)
        return result
