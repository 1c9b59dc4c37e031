"""A backend's retry hint of zero (or less) must not turn the outbox into a busy loop."""

import asyncio

from transport.core.backend import Backend, Identity
from transport.core.errors import TemporaryFailure
from transport.core.events import OutgoingMessage, SendOutcome, StanzaErrorInfo
from transport.core.outbox import OutboxDispatcher
from transport.store import Store


class AlwaysBusy(Backend):
    """Every send fails before reaching the network, asking to be retried "now"."""

    name = "busy"
    identities = (Identity("gateway", "test"),)

    def __init__(self, hint: float) -> None:
        super().__init__(ctx=None, settings=None)  # type: ignore[arg-type]
        self.hint = hint
        self.calls = 0

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        self.calls += 1
        raise TemporaryFailure("busy", retry_after=self.hint)


async def _no_error(message: OutgoingMessage, error: StanzaErrorInfo) -> None:
    raise AssertionError(f"unexpected error {error}")


async def _no_receipt(message: OutgoingMessage) -> None:
    raise AssertionError("unexpected receipt")


async def test_a_zero_or_negative_retry_hint_still_backs_off(store: Store) -> None:
    for hint in (0.0, -1.0):
        backend = AlwaysBusy(hint)
        outbox = OutboxDispatcher("busy.localhost", backend, store, _no_error, _no_receipt,
                                  base_delay=0.05, max_delay=0.2)
        await outbox.submit(OutgoingMessage(
            user="alice@localhost", sender_full_jid="alice@localhost/phone", contact="bob",
            stanza_id=f"hint{hint}", body="hello"))
        await asyncio.sleep(0.5)
        await outbox.stop(grace=0)
        # Backoff 0.05, 0.1, 0.2, 0.2...: a handful of tries in half a second, not hundreds.
        assert 2 <= backend.calls <= 8, f"{backend.calls} sends with retry_after={hint}"
