"""Twilio status callbacks -> XEP-0184 receipts and error messages.

``delivered`` is the carrier's delivery report: the user's client ticks the message.
``undelivered``/``failed`` come back as an error carrying the original stanza id and
Twilio's code. Intermediate states (queued, sent...) change nothing. A callback for a SID
this gateway never created is refused; one for a message whose create call is still in
flight is accepted (the core holds it until the SID is mapped).
"""

from __future__ import annotations

import logging
from typing import Any, Final, Protocol

from transport.backends.sms.codes import stanza_error
from transport.backends.sms.store import SmsRepo

log = logging.getLogger(__name__)

FAILED: Final = ("undelivered", "failed")


class InFlight(Protocol):
    def in_flight(self, from_: str, to: str) -> bool:
        """A create call from ``from_`` to ``to`` has not returned yet."""


class StatusHandler:
    """Applies one status callback; ``handle`` says whether the SID is ours."""

    def __init__(self, ctx: Any, repo: SmsRepo, sender: InFlight) -> None:
        self.ctx = ctx
        self.repo = repo
        self.sender = sender

    async def handle(
        self, sid: str, status: str, from_: str, to: str, code: str, text: str
    ) -> bool:
        if not (self.sender.in_flight(from_, to) or await self.repo.was_sent(sid)):
            log.info("Status %s for unknown message %s refused", status, sid)
            return False
        if status == "delivered":
            await self.ctx.confirm_delivery(sid)
        elif status in FAILED:
            number = int(code) if code.isascii() and code.isdigit() else None
            log.info("Twilio reports %s %s (error %s)", sid, status, code or "none")
            await self.ctx.report_failure(
                sid, stanza_error(number, text, f"Twilio reports the message {status}")
            )
        return True
