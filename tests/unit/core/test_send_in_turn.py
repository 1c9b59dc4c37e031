"""``DeliveryPump.send_in_turn``: a stanza that is not queued still leaves behind the
messages queued before it, against a real SQLite store and a recording stream."""

from __future__ import annotations

import asyncio
from typing import Any

from slixmpp import JID

from transport.core.events import XmppMessage
from transport.store import Store
from transport.xmpp.delivery import DeliveryPump

COMPONENT = "test.localhost"
USER = "a@example.org"


class RecordingStream:
    """What the pump uses of a GatewayComponent, logging messages and presences in order."""

    def __init__(self) -> None:
        self.boundjid = JID(COMPONENT)
        self.online = asyncio.Event()
        self.online.set()
        self.log: list[str] = []
        self.session_start: Any = None

    def add_event_handler(self, name: str, handler: Any) -> None:
        if name == "session_start":
            self.session_start = handler

    def send(self, text: str, use_filters: bool = True) -> None:
        for part in text.replace("<presence", "\0<presence").replace(
                "<message", "\0<message").split("\0"):
            if part.startswith("<message"):
                self.log.append(part.split("<body>")[1].split("<")[0])
            elif part.startswith("<presence"):
                self.log.append(part.split('name="')[1].split('"')[0])

    async def barrier(self, domain: str) -> bool:
        return True


def presence(name: str) -> str:
    return f'<presence to="{USER}" name="{name}"/>'


async def _queue(store: Store, pump: DeliveryPump, *bodies: str) -> None:
    await store.xmpp_queue.enqueue(COMPONENT, [
        XmppMessage(to=USER, sender=f"x@{COMPONENT}", body=b) for b in bodies])
    pump.wake()


async def _until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.005)


async def test_a_stanza_waits_for_the_messages_queued_before_it(store: Store) -> None:
    stream = RecordingStream()
    pump = DeliveryPump(stream, store, batch_size=7)  # type: ignore[arg-type]
    pump.start()
    try:
        await _until(lambda: pump._written_upto >= 0)  # the first look at the queue
        await _queue(store, pump, *(f"m{i}" for i in range(50)))
        pump.send_in_turn(presence("p1"))
        await _queue(store, pump, "m50")
        pump.send_in_turn(presence("p2"))
        await _until(lambda: "p2" in stream.log)
        assert stream.log == [*(f"m{i}" for i in range(50)), "p1", "m50", "p2"]
        # Once everything queued is written, a stanza leaves at once, without the pump.
        await _until(lambda: pump.delivered == 51)
        pump.send_in_turn(presence("p3"))
        assert stream.log[-1] == "p3"
    finally:
        await pump.stop()


async def test_a_new_stream_holds_stanzas_until_the_resend_is_written(store: Store) -> None:
    stream = RecordingStream()
    stream.online.clear()
    pump = DeliveryPump(stream, store)  # type: ignore[arg-type]
    pump.start()
    try:
        await _queue(store, pump, "m0", "m1")
        pump.send_in_turn(presence("p0"))  # the stream is down: it waits with the rows
        await asyncio.sleep(0.05)
        assert stream.log == []
        stream.online.set()
        stream.session_start(None)
        await _until(lambda: "p0" in stream.log)
        assert stream.log == ["m0", "m1", "p0"]
    finally:
        await pump.stop()


async def test_rows_deleted_before_they_were_sent_hold_nothing_back(store: Store) -> None:
    stream = RecordingStream()
    stream.online.clear()
    pump = DeliveryPump(stream, store)  # type: ignore[arg-type]
    pump.start()
    try:
        await _queue(store, pump, "m0")
        pump.send_in_turn(presence("p0"))
        await store.db.execute("DELETE FROM xmpp_queue", ())
        store.xmpp_queue.dropped_recipient(COMPONENT, USER)
        stream.online.set()
        stream.session_start(None)
        await _until(lambda: "p0" in stream.log)
        assert stream.log == ["p0"]
        assert await pump.drain(1.0)
    finally:
        await pump.stop()
