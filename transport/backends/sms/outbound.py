"""XMPP -> Twilio: one user's message becomes one or more Twilio messages.

A body over 1600 characters becomes ordered parts; an XEP-0066 attachment goes as
``MediaUrl`` with the caption as the first part's Body; an XEP-0033 group text goes as one
message per recipient (Twilio has no group MMS for ordinary numbers). Each Twilio call
waits for its sending number's pace. Before the first call the whole stanza is checked
against ``[sms.limits]`` and its cost reserved (``limits.py``): a stanza over a limit sends
nothing.

Retrying is decided here because Twilio sends are not idempotent: only a 429 (Twilio's
"never processed") or a connection that never opened is a ``TemporaryFailure``; a timeout
after the request went out or a 5xx is refused with an honest "may have been sent".
Parts already accepted are remembered per stanza, so a retry resumes after them instead of
sending them again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from transport.backends.sms.codes import stanza_error
from transport.backends.sms.ledger import Reservation
from transport.backends.sms.limits import Spending
from transport.backends.sms.numbers import Numbers
from transport.backends.sms.pacing import Pacer
from transport.backends.sms.segments import message_segments
from transport.backends.sms.splitting import split_body
from transport.backends.sms.store import SmsRepo
from transport.backends.sms.twilio_api import NotSent, TwilioApi, TwilioError, Uncertain
from transport.core.errors import DeliveryRefused, TemporaryFailure
from transport.core.events import OutgoingMessage, SendOutcome, StanzaErrorInfo

log = logging.getLogger(__name__)

UNCERTAIN_TEXT: Final = (
    "Twilio did not confirm this message ({why}); it may or may not have been sent, "
    "so the gateway did not send it again"
)


class _MaybeSent(DeliveryRefused):
    """Twilio did not confirm the message (a timeout, a 5xx): it may have been created, so
    it counts against the user's daily limits."""


@dataclass
class _Progress:
    """What was already done for one stanza: (recipient, part) -> SID, refusals, and the
    share of the user's daily limits still reserved for it."""

    done: dict[tuple[int, int], str] = field(default_factory=dict)
    refused: dict[int, StanzaErrorInfo] = field(default_factory=dict)
    reservation: Reservation | None = None

    def finish(self) -> None:
        """Release what Twilio never created for this stanza."""
        if self.reservation is not None:
            self.reservation.release()


def plan_parts(body: str, media_urls: list[str]) -> list[tuple[str, list[str]]]:
    """(Body, MediaUrl list) per Twilio message; the caption rides with the media."""
    caption = body.strip()
    for url in media_urls:  # clients often send "caption URL"; the URL travels as media
        if caption.endswith(url):
            caption = caption[: -len(url)].rstrip()
    parts = split_body(caption if media_urls else body)
    if not media_urls:
        return [(part, []) for part in parts]
    first = parts[0] if parts else ""
    return [(first, media_urls), *((part, []) for part in parts[1:])]


class Sender:
    """Sends through one Twilio account with per-number pacing."""

    def __init__(self, api: TwilioApi, pacer: Pacer, repo: SmsRepo, status_url: str,
                 spending: Spending) -> None:
        self.api = api
        self.pacer = pacer
        self.repo = repo
        self.status_url = status_url
        self.spending = spending
        self._progress: dict[tuple[str, str], _Progress] = {}
        self._in_flight: Counter[tuple[str, str]] = Counter()
        self._records: set[asyncio.Task[None]] = set()
        self.sent = 0

    def in_flight(self, from_: str, to: str) -> bool:
        return self._in_flight[(from_, to)] > 0

    def forget(self) -> None:
        """Drop progress of stanzas that will never be retried in this process."""
        for progress in self._progress.values():
            progress.finish()
        self._progress.clear()

    async def send(self, message: OutgoingMessage, from_number: str) -> SendOutcome:
        recipients = [message.contact, *message.extra_recipients]
        targets = [Numbers.destination(contact) for contact in recipients]
        unreachable = [c for c, t in zip(recipients, targets, strict=True) if t is None]
        if unreachable:
            raise DeliveryRefused(
                "Texts cannot be sent to an alphanumeric sender ID: "
                + ", ".join(Numbers.display_name(c) for c in unreachable), "not-allowed")
        plan = plan_parts(message.body, [a.url for a in message.attachments])
        if not plan:
            return SendOutcome()
        part_segments = [message_segments(body, bool(media)) for body, media in plan]
        key = (message.user, message.stanza_id)
        progress = self._progress.setdefault(key, _Progress())
        try:
            reservation = progress.reservation
            if reservation is None:  # the whole stanza, before its first Twilio request
                reservation = progress.reservation = await self.spending.reserve(
                    message.user, recipients, part_segments)
            for r_index, to in enumerate(targets):
                if to is not None and r_index not in progress.refused:
                    await self._send_to(progress, reservation, r_index, from_number, to, plan,
                                        part_segments, len(targets) > 1)
        except TemporaryFailure:
            raise  # progress is kept: the retry resumes where this attempt stopped
        except BaseException:
            del self._progress[key]
            progress.finish()
            raise
        del self._progress[key]
        progress.finish()
        return self._outcome(recipients, plan, progress)

    async def _send_to(
        self, progress: _Progress, reservation: Reservation, r_index: int, from_: str,
        to: str, plan: list[tuple[str, list[str]]], part_segments: list[int], group: bool,
    ) -> None:
        for p_index, (body, media) in enumerate(plan):
            if (r_index, p_index) in progress.done:
                continue
            try:
                sid = await self._create(from_, to, body, media)
            except DeliveryRefused as exc:
                if isinstance(exc, _MaybeSent):
                    reservation.created(part_segments[p_index])
                text = exc.text
                if p_index:
                    text += f" (parts 1 to {p_index} of {len(plan)} were sent)"
                if not group:
                    raise DeliveryRefused(text, exc.condition, exc.etype,
                                          exc.legacy_code) from exc
                progress.refused[r_index] = StanzaErrorInfo(
                    exc.condition, text, exc.etype, exc.legacy_code)
                return
            progress.done[(r_index, p_index)] = sid
            reservation.created(part_segments[p_index])
            log.info("SMS %s sent from %s to %s (part %d of %d)", sid, from_, to,
                     p_index + 1, len(plan))

    async def _create(self, from_: str, to: str, body: str, media: list[str]) -> str:
        await self.pacer.wait_turn(from_)
        pair = (from_, to)
        self._in_flight[pair] += 1
        try:
            try:
                sid = await self.api.create_message(
                    to=to, from_=from_, body=body, media_urls=media,
                    status_callback=self.status_url,
                )
            except BaseException:
                self._release(pair)
                raise
        except NotSent as exc:
            raise TemporaryFailure(str(exc)) from exc
        except Uncertain as exc:
            raise _MaybeSent(UNCERTAIN_TEXT.format(why=exc), "remote-server-timeout",
                                  "cancel") from exc
        except TwilioError as exc:
            raise _refusal(exc) from exc
        task = asyncio.ensure_future(self._record(sid, pair))
        self._records.add(task)
        task.add_done_callback(self._records.discard)
        self.sent += 1
        return sid

    async def _record(self, sid: str, pair: tuple[str, str]) -> None:
        """Make the SID durable off the conversation's path: its next text need not wait
        for this commit (a lane sends one text at a time, so each awaited commit was a
        pause between texts). Until the SID is committed the pair still counts as in
        flight, so a status callback racing the commit is accepted, as before."""
        try:
            await self.repo.record_sent(sid, time.time())
        except Exception:  # the text is out; losing its receipt beats reporting a failure
            log.exception("Could not record sent message %s", sid)
        finally:
            self._release(pair)

    def _release(self, pair: tuple[str, str]) -> None:
        self._in_flight[pair] -= 1
        if self._in_flight[pair] <= 0:
            del self._in_flight[pair]

    async def flush(self) -> None:
        """Wait until every SID and usage count recorded in the background is committed
        (or failed)."""
        while self._records:
            await asyncio.gather(*list(self._records), return_exceptions=True)
        await self.spending.ledger.flush()

    @staticmethod
    def _outcome(
        recipients: list[str], plan: list[tuple[str, list[str]]], progress: _Progress
    ) -> SendOutcome:
        if progress.refused:
            first = next(iter(progress.refused.values()))
            failed = [Numbers.display_name(recipients[i]) for i in progress.refused]
            reached = [Numbers.display_name(c) for i, c in enumerate(recipients)
                       if i not in progress.refused]
            text = f"Not sent to {', '.join(failed)}: {first.text}"
            if reached:
                text += f". It was sent to {', '.join(reached)}"
            raise DeliveryRefused(text, first.condition, first.etype, first.legacy_code)
        ids: list[str] = []
        contacts: list[str] = []
        for r_index, contact in enumerate(recipients):
            for p_index in range(len(plan)):
                ids.append(progress.done[(r_index, p_index)])
                contacts.append(contact)
        return SendOutcome(legacy_ids=tuple(ids), recipients=tuple(contacts))


def _refusal(exc: TwilioError) -> Exception:
    """A Twilio error as the core's retry-or-refuse decision."""
    if exc.status == 429 or exc.code == 20429:
        return TemporaryFailure(f"Twilio asked to slow down ({exc.code or 429})")
    if exc.status >= 500:
        return _MaybeSent(
            UNCERTAIN_TEXT.format(why=f"HTTP {exc.status}"), "internal-server-error", "cancel",
            legacy_code=str(exc.code) if exc.code else None)
    info = stanza_error(exc.code, exc.message, f"Twilio refused the message (HTTP {exc.status})")
    return DeliveryRefused(info.text, info.condition, info.etype, info.legacy_code)
