"""The delivery pump's barriers, against a real SQLite store and a recording stream."""

from __future__ import annotations

import asyncio
from typing import Any

from slixmpp import JID

from transport.core.events import XmppMessage
from transport.store import Store
from transport.xmpp.delivery import DeliveryPump

COMPONENT = "test.localhost"




class RecordingStream:
    """What the pump uses of a GatewayComponent: ``send``, ``barrier``, ``online``."""

    def __init__(self) -> None:
        self.boundjid = JID(COMPONENT)
        self.online = asyncio.Event()
        self.online.set()
        self.log: list[str] = []

    def add_event_handler(self, _name: str, _handler: Any) -> None:
        pass

    def send(self, text: str, use_filters: bool = True) -> None:
        self.log.extend(f"message {part.split('<body>')[1].split('<')[0]}"
                        for part in text.split("</message>") if "<body>" in part)

    async def barrier(self, domain: str) -> bool:
        self.log.append(f"ping {domain}")
        return True


async def _queue(store: Store, pump: DeliveryPump, *bodies: str, to: str = "a@example.org"):
    await store.xmpp_queue.enqueue(COMPONENT, [
        XmppMessage(to=to, sender=f"x@{COMPONENT}", body=b) for b in bodies])
    pump.wake()


async def _until(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.005)


async def test_one_ping_covers_the_batches_sent_while_it_lingers(store: Store) -> None:
    stream = RecordingStream()
    pump = DeliveryPump(stream, store, linger=0.2)  # type: ignore[arg-type]
    pump.start()
    try:
        await _queue(store, pump, "1")
        await _until(lambda: "message 1" in stream.log)
        await _queue(store, pump, "2")
        await _queue(store, pump, "3", to="b@other.org")
        await _until(lambda: pump.delivered == 3)
        assert stream.log[:3] == ["message 1", "message 2", "message 3"]
        assert sorted(stream.log[3:]) == ["ping example.org", "ping other.org"]
        assert await store.xmpp_queue.count(COMPONENT) == 0
        # After the answer, the next batch needs a ping of its own, sent after it.
        await _queue(store, pump, "4")
        await _until(lambda: pump.delivered == 4)
        assert stream.log[5:] == ["message 4", "ping example.org"]
    finally:
        await pump.stop()


async def test_many_batches_are_not_held_back_by_lingering_pings(store: Store) -> None:
    stream = RecordingStream()
    pump = DeliveryPump(stream, store, batch_size=1, max_in_flight=2,  # type: ignore[arg-type]
                        linger=0.05)
    pump.start()
    try:
        await _queue(store, pump, *(str(i) for i in range(40)))
        await _until(lambda: pump.delivered == 40)
        sent = [entry for entry in stream.log if entry.startswith("message")]
        assert sent == [f"message {i}" for i in range(40)]
        # 40 one-message batches, far fewer pings: each covers what was sent before it.
        assert stream.log.count("ping example.org") <= 4
    finally:
        await pump.stop()
