"""Signed webhook delivery (status callbacks and inbound messages), Twilio style.

The signature is computed by twilio-python's own ``RequestValidator`` over the *public*
URL (Twilio signs the URL it was configured with, not whatever a proxy forwards to),
so a gateway that validates against its configured public URL passes and one that
validates against ``request.url`` behind a proxy fails — exactly as in production.
Every attempt, failed or not, is recorded; nothing here raises into the caller.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from .state import StandInState, WebhookAttempt, frozen_form

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
USER_AGENT = "TwilioProxy/1.1"


def compute_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """``X-Twilio-Signature`` for a form POST of ``params`` to ``url``."""
    signed: MultiDict[str] = MultiDict(params)
    return str(RequestValidator(auth_token).compute_signature(url, signed))


def idempotency_token(*parts: str) -> str:
    """Stable per event, so a redelivery of the same event carries the same token."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(parts)))


@dataclass
class DeliveryPolicy:
    """Twilio-like connection settings: 5 s connect, 15 s total, one retry."""

    retries: int = 1
    retry_delay: float = 0.05
    connect_timeout: float = 5.0
    total_timeout: float = 15.0


class WebhookDispatcher:
    """Posts signed forms, retrying connection failures and 5xx answers."""

    def __init__(self, state: StandInState, policy: DeliveryPolicy) -> None:
        self._state = state
        self.policy = policy
        self.routes: list[tuple[str, str]] = []
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def actual_url(self, public_url: str) -> str:
        """Where a public URL is really reachable (see ``TwilioStandIn.route_url``)."""
        for public_prefix, local_prefix in self.routes:
            if public_url.startswith(public_prefix):
                return local_prefix + public_url[len(public_prefix) :]
        return public_url

    async def deliver(
        self,
        kind: str,
        url: str,
        params: Sequence[tuple[str, str]],
        auth_token: str,
        token: str,
        *,
        post_url: str | None = None,
        bad_signature: bool = False,
        retries: int | None = None,
    ) -> WebhookAttempt:
        """POST ``params`` signed for ``url``; returns the last attempt made."""
        signature = compute_signature(auth_token, url, params)
        if bad_signature:
            signature = compute_signature(auth_token + "-wrong", url, params)
        headers = {
            SIGNATURE_HEADER: signature,
            IDEMPOTENCY_HEADER: token,
            "User-Agent": USER_AGENT,
            "X-Home-Region": "us1",
            "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
            "Accept": "*/*",
        }
        target = post_url or self.actual_url(url)
        attempts = 1 + (self.policy.retries if retries is None else retries)
        last: WebhookAttempt | None = None
        for number in range(1, attempts + 1):
            last = await self._attempt(kind, url, target, params, headers, number)
            self._state.webhook_attempts.append(last)
            if last.ok or (last.status is not None and last.status < 500):
                break
            if number < attempts:
                await asyncio.sleep(self.policy.retry_delay)
        assert last is not None
        return last

    async def _attempt(
        self,
        kind: str,
        signed_url: str,
        target: str,
        params: Sequence[tuple[str, str]],
        headers: dict[str, str],
        number: int,
    ) -> WebhookAttempt:
        await self.open()
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(
            total=self.policy.total_timeout, sock_connect=self.policy.connect_timeout
        )
        status: int | None = None
        error: str | None = None
        body = ""
        try:
            async with self._session.post(
                target,
                data=list(params),
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as resp:
                status = resp.status
                body = await resp.text(errors="replace")
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.info("webhook %s to %s failed (attempt %d): %s", kind, target, number, error)
        return WebhookAttempt(
            kind=kind,
            url=target,
            signed_url=signed_url,
            params=frozen_form(list(params)),
            headers=dict(headers),
            attempt=number,
            status=status,
            error=error,
            body=body,
        )
