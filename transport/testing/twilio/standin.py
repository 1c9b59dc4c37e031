"""``TwilioStandIn``: a real HTTP server on 127.0.0.1 that speaks the v2010 API.

Point the real twilio-python client at it (``client.api.base_url = standin.url``) and
drive it from tests through the Python control API below: inspect what was sent,
queue API errors, choose delivery outcomes, and "text" the gateway.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import TracebackType

from aiohttp import web

from .app import build_app
from .context import StandInContext
from .errors import DELIVERY_ERRORS, TwilioApiError
from .inbound import InboundResult, send_inbound
from .progression import StatusProgression
from .state import (
    CreateRequest,
    InjectedError,
    Message,
    Outcome,
    PhoneNumber,
    RecordedRequest,
    StandInState,
    WebhookAttempt,
)
from .webhooks import DeliveryPolicy, WebhookDispatcher

log = logging.getLogger(__name__)
FINAL_STATUSES = ("delivered", "undelivered", "failed")


class TwilioStandIn:
    """A local Twilio Programmable Messaging API; see the package docstring."""

    def __init__(
        self,
        accounts: Mapping[str, str],
        numbers: Mapping[str, Sequence[str]] | None = None,
        *,
        api_keys: Mapping[str, tuple[str, str]] | None = None,
        messaging_services: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_retries: int = 1,
        callback_retry_delay: float = 0.05,
        media_redirect: bool = False,
        max_media: int = 10,
    ) -> None:
        """``api_keys``: ``{SK sid: (account sid, secret)}``;
        ``messaging_services``: ``{MG sid: account sid}``."""
        self.state = StandInState(
            accounts=dict(accounts),
            api_keys=dict(api_keys or {}),
            messaging_services=dict(messaging_services or {}),
        )
        self.state.add_numbers(numbers or {})
        policy = DeliveryPolicy(retries=callback_retries, retry_delay=callback_retry_delay)
        webhooks = WebhookDispatcher(self.state, policy)
        self._ctx = StandInContext(
            state=self.state,
            webhooks=webhooks,
            progression=StatusProgression(self.state, webhooks),
            media_redirect=media_redirect,
            max_media=max_media,
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = web.AppRunner(build_app(self._ctx), access_log=None)
        await self._runner.setup()
        await self._listen()
        await self._ctx.webhooks.open()
        log.info("Twilio stand-in listening on %s", self.url)

    async def stop(self) -> None:
        await self._ctx.progression.cancel_all()
        await self._ctx.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None

    async def __aenter__(self) -> TwilioStandIn:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, self._host, self._port)
        await self._site.start()
        self._port = int(self._runner.addresses[0][1])
        self._ctx.base_url = f"http://{self._host}:{self._port}"

    async def pause_connections(self) -> None:
        """Refuse connections (listening socket closed, open ones dropped) until resumed."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        if self._runner is not None and self._runner.server is not None:
            for handler in list(self._runner.server.connections):
                handler.force_close()
                if handler.transport is not None:
                    handler.transport.close()

    async def resume_connections(self) -> None:
        """Listen again on the same port."""
        if self._site is None:
            await self._listen()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` — use as ``client.api.base_url``."""
        if not self._ctx.base_url:
            raise RuntimeError("TwilioStandIn.start() has not been awaited")
        return self._ctx.base_url

    # -- inspection ------------------------------------------------------------------

    @property
    def sent_messages(self) -> list[CreateRequest]:
        """Accepted ``POST Messages.json`` requests (raw form + returned ``sid``)."""
        return [c for c in self.state.create_attempts if c.sid is not None]

    @property
    def create_attempts(self) -> list[CreateRequest]:
        """Every create request, rejected ones too (``sid`` None, ``error_code`` set)."""
        return list(self.state.create_attempts)

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self.state.requests)

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        """Every status-callback / inbound delivery attempt, including failures."""
        return list(self.state.webhook_attempts)

    @property
    def callback_failures(self) -> list[WebhookAttempt]:
        return [a for a in self.state.webhook_attempts if not a.ok]

    def status_callbacks(self, message_sid: str | None = None) -> list[WebhookAttempt]:
        return [
            a
            for a in self.state.webhook_attempts
            if a.kind == "status" and message_sid in (None, a.params.get("MessageSid"))
        ]

    def message(self, sid: str) -> Message:
        return self.state.messages[sid]

    def numbers(self, account_sid: str) -> list[PhoneNumber]:
        return self.state.account_numbers(account_sid)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for every pending status progression and its callbacks."""
        await self._ctx.progression.drain(timeout)

    # -- control ---------------------------------------------------------------------

    def inject_error(
        self, status: int, code: int, message: str, times: int = 1, match_to: str | None = None
    ) -> None:
        """Fail the next ``times`` creates (to ``match_to`` if given) with this error."""
        self.state.injected.append(InjectedError(status, code, message, times, match_to))

    def set_outcome(
        self,
        to_or_any: str,
        final_status: str = "delivered",
        error_code: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """How messages to ``to_or_any`` ("*" for any) end; ``delay`` precedes each step."""
        if final_status not in FINAL_STATUSES:
            raise ValueError(f"final_status must be one of {FINAL_STATUSES}")
        if error_code is not None and final_status == "delivered":
            raise ValueError("a delivered message carries no error code")
        self.state.outcomes[to_or_any] = Outcome(final_status, error_code, delay)

    def opt_out(self, recipient: str, sender: str = "*") -> None:
        """Make sends to ``recipient`` (from ``sender``, "*" any) fail with 21610."""
        self.state.opt_outs.add((sender, recipient))

    def add_number(self, account_sid: str, e164: str, sms_url: str = "") -> PhoneNumber:
        return self.state.add_number(account_sid, e164, sms_url)

    def set_sms_url(self, e164: str, sms_url: str) -> None:
        """Configure a number's inbound webhook, as in the Twilio console."""
        number = self.state.number_by_e164(e164)
        if number is None:
            raise KeyError(e164)
        number.sms_url = sms_url

    def route_url(self, public_prefix: str, actual_prefix: str) -> None:
        """Deliver webhooks for URLs under ``public_prefix`` to ``actual_prefix``
        while still signing the public URL (a TLS-terminating proxy in front)."""
        self._ctx.webhooks.routes.append((public_prefix, actual_prefix))

    async def send_inbound(
        self,
        to: str,
        from_: str,
        body: str = "",
        media: Sequence[tuple[bytes, str]] = (),
        webhook_url: str | None = None,
        sign_url: str | None = None,
        message_sid: str | None = None,
        bad_signature: bool = False,
    ) -> InboundResult:
        """Text ``to`` from ``from_``; posts the signed webhook and returns its answer.

        ``webhook_url`` defaults to the number's ``sms_url``; ``sign_url`` is the public
        URL to sign (default ``webhook_url``); ``media`` is ``(bytes, content_type)``.
        """
        return await send_inbound(
            self._ctx, to, from_, body, media, webhook_url, sign_url, message_sid, bad_signature
        )


__all__ = ["DELIVERY_ERRORS", "InboundResult", "TwilioApiError", "TwilioStandIn"]
