"""A user's stanzas reach the outbox in the order they arrived, whatever each one awaits."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from transport.core.events import OutgoingMessage, Registration
from transport.xmpp.component import GatewayComponent
from transport.xmpp.messages import MessageHandler


class Policy:
    def check_domain(self, user: str) -> None:
        """Every domain is allowed here."""


class Backend:
    registration = object()  # registration required
    features: frozenset[str] = frozenset()

    def normalize_contact(self, localpart: str) -> str:
        return localpart


@dataclass
class Outbox:
    submitted: list[str] = field(default_factory=list)

    async def submit(self, message: OutgoingMessage) -> bool:
        self.submitted.append(message.body)  # queued before the first suspension
        await asyncio.sleep(0)
        return True


@dataclass
class FakeGateway:
    xmpp: GatewayComponent
    outbox: Outbox = field(default_factory=Outbox)
    policy: Policy = field(default_factory=Policy)
    backend: Backend = field(default_factory=Backend)
    component_jid: str = "sms.localhost"
    lookups: int = 0

    async def registered_user(self, user: str) -> Registration | None:
        """The first lookup goes to the database (slow); the rest come from the cache."""
        self.lookups += 1
        if self.lookups == 1:
            await asyncio.sleep(0.05)
        return Registration(legacy_key="+15550000000", data={})


def message(xmpp: GatewayComponent, body: str, to: str = "+15551234567@sms.localhost") -> Any:
    return xmpp.make_message(mto=to, mfrom="alice@localhost/phone", mbody=body, mtype="chat")


async def test_slow_first_lookup_does_not_let_later_messages_overtake() -> None:
    xmpp = GatewayComponent("sms.localhost", "secret", "127.0.0.1", 1)
    gw = FakeGateway(xmpp)
    handler = MessageHandler(gw)  # type: ignore[arg-type]
    bodies = [f"m{i}" for i in range(10)]
    await asyncio.gather(*(handler._on_message(message(xmpp, b)) for b in bodies))
    assert gw.outbox.submitted == bodies
    for _ in range(3):  # the turns pass on in callbacks
        await asyncio.sleep(0)
    assert handler._turns._tails == {}


async def test_a_refused_message_keeps_the_turn_until_earlier_ones_are_queued() -> None:
    """A chat state (nothing to send) between two bodies must not let the second pass."""
    xmpp = GatewayComponent("sms.localhost", "secret", "127.0.0.1", 1)
    gw = FakeGateway(xmpp)
    handler = MessageHandler(gw)  # type: ignore[arg-type]
    first, empty, last = message(xmpp, "first"), message(xmpp, ""), message(xmpp, "last")
    await asyncio.gather(handler._on_message(first), handler._on_message(empty),
                         handler._on_message(last))
    assert gw.outbox.submitted == ["first", "last"]
    for _ in range(3):  # the turns pass on in callbacks
        await asyncio.sleep(0)
    assert handler._turns._tails == {}
