"""Moves a created message through its statuses and fires the status callbacks.

Twilio sends no callback for the initial ``queued``/``accepted``; then ``sent`` and a
terminal ``delivered``/``undelivered``, or ``failed`` straight away when the message
never left Twilio.  Each step waits the outcome's ``delay``; the message resource is
updated before its callback goes out, so a gateway that fetches on callback sees it.
"""

from __future__ import annotations

import asyncio
import logging

from .encoding import count_segments
from .errors import DEFAULT_DELIVERY_ERROR, DELIVERY_ERRORS
from .state import API_VERSION, Message, StandInState
from .webhooks import WebhookDispatcher, idempotency_token

log = logging.getLogger(__name__)


def status_steps(final_status: str) -> list[str]:
    """The callback statuses, in order, for a message ending in ``final_status``."""
    if final_status == "failed":
        return ["failed"]
    return ["sent", final_status]


def callback_params(msg: Message, status: str) -> list[tuple[str, str]]:
    """The form Twilio posts to ``StatusCallback`` for one status change."""
    params = [
        ("AccountSid", msg.account_sid),
        ("ApiVersion", API_VERSION),
        ("From", msg.from_ or ""),
        ("MessageSid", msg.sid),
        ("MessageStatus", status),
        ("SmsSid", msg.sid),
        ("SmsStatus", status),
        ("To", msg.to),
    ]
    if msg.messaging_service_sid:
        params.append(("MessagingServiceSid", msg.messaging_service_sid))
    if msg.error_code is not None and status in ("failed", "undelivered"):
        params.append(("ErrorCode", str(msg.error_code)))
        params.append(("ErrorMessage", msg.error_message or ""))
    return params


class StatusProgression:
    """Runs one background task per created message and can wait for all of them."""

    def __init__(self, state: StandInState, webhooks: WebhookDispatcher) -> None:
        self._state = state
        self._webhooks = webhooks
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, msg: Message) -> None:
        task = asyncio.create_task(self._run(msg), name=f"twilio-standin-{msg.sid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every scheduled status progression has finished."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, msg: Message) -> None:
        outcome = self._state.outcome_for(msg.to)
        for status in status_steps(outcome.final_status):
            await asyncio.sleep(outcome.delay)
            if msg.from_ is None:
                msg.from_ = self._sender_for(msg)
                msg.num_segments = count_segments(msg.body)
            if status in ("failed", "undelivered"):
                code = outcome.error_code or DEFAULT_DELIVERY_ERROR[status]
                msg.error_code = code
                msg.error_message = DELIVERY_ERRORS.get(code, "Unknown error")
            msg.set_status(status)
            if msg.status_callback:
                await self._callback(msg, status)

    def _sender_for(self, msg: Message) -> str | None:
        """A Messaging Service picks a sender from its pool when it sends."""
        numbers = self._state.account_numbers(msg.account_sid)
        return numbers[0].phone_number if numbers else None

    async def _callback(self, msg: Message, status: str) -> None:
        assert msg.status_callback is not None
        token = idempotency_token(msg.account_sid, msg.sid, "status", status)
        auth_token = self._state.accounts[msg.account_sid]
        try:
            await self._webhooks.deliver(
                "status", msg.status_callback, callback_params(msg, status), auth_token, token
            )
        except Exception:  # a broken receiver must never take the stand-in down
            log.exception("status callback for %s crashed", msg.sid)
