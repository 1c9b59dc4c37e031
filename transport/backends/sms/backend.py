"""``SmsBackend``: SMS and MMS through Twilio, phone numbers as XMPP contacts.

This module only wires the parts together and answers the core's questions; each job
lives in its own module (numbers, outbound, inbound, status, media, webhook, store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

from aiohttp import web

from transport.backends.sms.commands import UnroutedCommands
from transport.backends.sms.inbound import BadWebhook, InboundHandler, parse_inbound
from transport.backends.sms.limits import Spending
from transport.backends.sms.media import MediaStore
from transport.backends.sms.numbers import Numbers, kind_of
from transport.backends.sms.outbound import Sender
from transport.backends.sms.pacing import Pacer
from transport.backends.sms.settings import SmsSettings, parse_settings
from transport.backends.sms.status import StatusHandler
from transport.backends.sms.store import MIGRATIONS, SmsRepo
from transport.backends.sms.twilio_api import NotSent, TwilioApi, TwilioError, Uncertain
from transport.backends.sms.usage import UsageCommand
from transport.backends.sms.webhook import STATUS_PATH, WebhookServer, twiml_ok
from transport.core.backend import (
    Backend,
    Command,
    ContactInfo,
    FormField,
    Identity,
    RegistrationSpec,
)
from transport.core.errors import AddressError, DeliveryRefused, RegistrationRefused
from transport.core.events import OutgoingMessage, Registration, SendOutcome

log = logging.getLogger(__name__)

RECEIPTS: Final = "urn:xmpp:receipts"
SENT_KEPT: Final = 14 * 86400.0  # status callbacks come within hours; keep SIDs two weeks
USAGE_KEPT_DAYS: Final = 31  # daily SMS counts stay a month for the admin to look at
EXAMPLE: Final = """\
default_region = "US"
[sms.twilio]
account_sid = "AC00000000000000000000000000000000"
auth_token = "change-me"
numbers = []
api_base_url = "https://api.twilio.com"
messages_per_second = 1.0
[sms.webhook]
listen_host = "127.0.0.1"
listen_port = 8080
public_url = "https://gw.example.org"
max_body_bytes = 65536
[sms.media]
dir = "sms-media"
max_bytes = 5242880
expire_after = 2592000
[sms.limits]
messages_per_day = 200
segments_per_day = 1000
recipients_per_message = 10
max_segments = 10
countries = []
"""


class SmsBackend(Backend):
    """Each registered user owns one Twilio number; contacts are ``+E164@domain``."""

    name: ClassVar[str] = "sms"
    identities: ClassVar[tuple[Identity, ...]] = (Identity("gateway", "sms", "SMS (Twilio)"),)
    features: ClassVar[tuple[str, ...]] = ("http://jabber.org/protocol/address",)
    registration: RegistrationSpec | None = RegistrationSpec(
        instructions="Enter the Twilio phone number that is yours on this gateway, "
                     "for example +12125550142.",
        fields=(FormField("phone", "Phone number", desc="Your Twilio number (E.164)"),),
    )
    secret_env: ClassVar[Mapping[str, str]] = {"twilio.auth_token": "TWILIO_AUTH_TOKEN"}
    resend_unconfirmed: ClassVar[bool] = False

    def __init__(self, ctx: Any, settings: SmsSettings) -> None:
        super().__init__(ctx, settings)
        self.settings: SmsSettings = settings
        public = settings.webhook.public_url
        self.numbers = Numbers(settings.default_region)
        self.repo = SmsRepo(ctx.store.db)
        self.api = TwilioApi(settings.twilio)
        self.spending = Spending.for_store(settings.limits, ctx.store.db)
        self.sender = Sender(self.api, Pacer(settings.twilio.messages_per_second), self.repo,
                             public + STATUS_PATH, self.spending)
        self.media = MediaStore(self.repo, self._media_dir(), settings.media, public, self.api)
        self.inbound = InboundHandler(ctx, self.numbers, self.repo, self.media)
        self.status = StatusHandler(ctx, self.repo, self.sender)
        self.webhook = WebhookServer(
            settings.webhook, settings.twilio.auth_token, settings.twilio.account_sid,
            self._on_sms, self._on_status, self.media.serve,
        )
        self._unrouted = UnroutedCommands(self.repo)
        self._usage = UsageCommand(self.spending.ledger, settings.limits)
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def parse_settings(cls, section: Mapping[str, Any]) -> SmsSettings:
        return parse_settings(section)

    @classmethod
    def example_settings(cls) -> str:
        return EXAMPLE

    @classmethod
    def migrations(cls) -> Sequence[str]:
        return MIGRATIONS

    def _media_dir(self) -> Path:
        """``media.dir``, relative to the database file's directory unless absolute."""
        path = Path(self.settings.media.dir).expanduser()
        return path if path.is_absolute() else Path(self.ctx.store.db.path).parent / path

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        await self.api.open()
        try:
            await self.media.open()
            await self.webhook.start()
        except BaseException:
            await self.media.close()
            await self.api.close()
            raise
        self._tasks = [asyncio.ensure_future(self._cleanup_loop()),
                       asyncio.ensure_future(self._check_pool())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.webhook.stop()
        await self.sender.flush()
        await self.media.close()
        await self.api.close()
        self.sender.forget()

    async def _cleanup_loop(self) -> None:
        interval = min(3600.0, max(0.5, self.settings.media.expire_after / 4))
        while True:
            try:
                await self.media.cleanup()
                await self.repo.prune_sent(time.time() - SENT_KEPT)
                await self.spending.ledger.prune(USAGE_KEPT_DAYS)
            except Exception:
                log.exception("SMS media cleanup failed; trying again later")
            await asyncio.sleep(interval)

    async def _check_pool(self) -> None:
        """Warn the admin about pool numbers the account does not own (never fatal)."""
        if not self.settings.twilio.numbers:
            return
        try:
            owned = await self.api.owned_numbers()
        except (NotSent, Uncertain, TwilioError) as exc:
            log.warning("Could not check the number pool with Twilio: %s", exc)
            return
        for number in self.settings.twilio.numbers:
            if number not in owned:
                log.warning("%s is in sms.twilio.numbers but not a number of the Twilio "
                            "account; users registered with it cannot send", number)

    # -- addresses ------------------------------------------------------------------------

    def normalize_contact(self, localpart: str) -> str:
        return self.numbers.normalize(localpart)

    def contact_from_uri(self, uri: str) -> str:
        return self.numbers.from_uri(uri)

    def contact_info(self, localpart: str) -> ContactInfo:
        textable = kind_of(localpart) != "alpha"
        return ContactInfo(identities=(Identity("client", "sms"),),
                           features=(RECEIPTS,) if textable else (),
                           name=Numbers.display_name(localpart))

    def gateway_prompt(self) -> tuple[str, str]:
        return ("Enter your contact's phone number", "Phone number")

    async def translate_prompt(self, prompt: str) -> str:
        return self.numbers.normalize(prompt)

    # -- registration -----------------------------------------------------------------------

    async def validate_registration(self, user: str, values: Mapping[str, str]) -> Registration:
        raw = values.get("phone", "").strip()
        try:
            number = self.numbers.normalize(raw)
        except AddressError:
            raise RegistrationRefused(f"{raw!r} is not a possible phone number") from None
        if kind_of(number) != "number":
            raise RegistrationRefused("Register a full phone number, not a short code")
        pool = self.settings.twilio.numbers
        if pool and number not in pool:
            raise RegistrationRefused(f"{number} is not one of this gateway's numbers")
        if not pool:
            await self._check_owned(number)
        return Registration(legacy_key=number, data={"phone": number})

    async def _check_owned(self, number: str) -> None:
        try:
            owned = await self.api.owns_number(number)
        except (NotSent, Uncertain) as exc:
            raise RegistrationRefused(f"Twilio could not be reached to check {number} ({exc}); "
                                      "try again later", "remote-server-timeout", "wait") from exc
        except TwilioError as exc:
            if exc.status in (401, 403):
                raise RegistrationRefused(
                    "The gateway's Twilio credentials were refused; tell the gateway's admin",
                    "internal-server-error", "cancel", str(exc.code)) from exc
            raise RegistrationRefused(f"Twilio could not check {number}: {exc.message}",
                                      "service-unavailable", "wait", str(exc.code)) from exc
        if not owned:
            raise RegistrationRefused(f"{number} is not a number of this gateway's Twilio "
                                      "account")

    # -- messages -------------------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        registration = await self.ctx.registered_user(message.user)
        if registration is None or not registration.legacy_key:
            raise DeliveryRefused("You must register with this gateway first",
                                  "registration-required", "auth")
        return await self.sender.send(message, registration.legacy_key)

    def lane(self, message: OutgoingMessage) -> str:
        """One conversation (or group) per lane: its texts stay in order, while pacing
        is shared by everything sent from the same number."""
        return "\n".join((message.user, message.contact, *message.extra_recipients))

    async def _on_sms(self, form: Any) -> web.StreamResponse:
        try:
            text = parse_inbound(form)
        except BadWebhook as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        await self.inbound.handle(text)
        return twiml_ok()

    async def _on_status(self, form: Any) -> web.StreamResponse:
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not sid or not status:
            raise web.HTTPBadRequest(text="MessageSid and MessageStatus are required")
        known = await self.status.handle(
            sid, status, form.get("From", ""), form.get("To", ""),
            form.get("ErrorCode", ""), form.get("ErrorMessage", ""),
        )
        if not known:
            raise web.HTTPNotFound(text="no such message")
        return web.Response(status=204)

    # -- admin ----------------------------------------------------------------------------

    def commands(self) -> Sequence[Command]:
        return (*self._unrouted.commands(), *self._usage.commands())

    async def stats(self) -> Mapping[str, str | int]:
        return {
            "sms messages sent to Twilio": self.sender.sent,
            "sms texts received": self.inbound.received,
            "sms texts held for unregistered numbers": await self.repo.count_unrouted(),
            "sms media files hosted": await self.repo.count_media(),
            "sms webhook requests refused": self.webhook.refused,
            "sms sends waiting for their pace": self.sender.pacer.waiting,
        }
