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

from transport.backends.sms.admin import RegistrationCommands
from transport.backends.sms.commands import UnroutedCommands
from transport.backends.sms.inbound import BadWebhook, InboundHandler, parse_inbound
from transport.backends.sms.limits import Spending
from transport.backends.sms.media import MediaStore
from transport.backends.sms.metrics import twilio_requests, watch_usage
from transport.backends.sms.numbers import Numbers, kind_of
from transport.backends.sms.outbound import Sender
from transport.backends.sms.pacing import Pacer
from transport.backends.sms.registrations import PendingRepo, Registrar
from transport.backends.sms.settings import (
    SmsSettings,
    check_shared,
    media_dir,
    media_dir_problem,
)
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
    PendingRegistration,
    RegistrationSpec,
    SettingsError,
    SharedSettings,
)
from transport.core.errors import (
    AddressError,
    DeliveryRefused,
    RegistrationRefused,
    StartupError,
)
from transport.core.events import OutgoingMessage, Registration, SendOutcome
from transport.xmpp.namespaces import ADDRESS, RECEIPTS

log = logging.getLogger(__name__)

INSTRUCTIONS: Final = ("Enter the Twilio phone number that is yours on this gateway, "
                       "for example +12125550142.")
MODE_INSTRUCTIONS: Final = {
    "open": INSTRUCTIONS,
    "approval": INSTRUCTIONS + " An admin approves each request; you get a message here "
                               "once it is decided.",
    "admin": "Numbers on this gateway are assigned by its admins: ask one to assign you a "
             "number.",
}
PHONE_FIELD: Final = FormField("phone", "Phone number", desc="Your Twilio number (E.164)")
SENT_KEPT: Final = 14 * 86400.0  # status callbacks come within hours; keep SIDs two weeks
USAGE_KEPT_DAYS: Final = 31  # daily SMS counts stay a month for the admin to look at


class SmsBackend(Backend[SmsSettings]):
    """Each registered user owns one Twilio number; contacts are ``+E164@domain``."""

    name: ClassVar[str] = "sms"
    legacy_key_name: ClassVar[str] = "number"
    identities: ClassVar[tuple[Identity, ...]] = (Identity("gateway", "sms", "SMS (Twilio)"),)
    features: ClassVar[tuple[str, ...]] = (ADDRESS,)
    registration: RegistrationSpec | None = RegistrationSpec(INSTRUCTIONS, (PHONE_FIELD,))
    settings_type: ClassVar[type | None] = SmsSettings
    resend_unconfirmed: ClassVar[bool] = False

    def __init__(self, ctx: Any, settings: SmsSettings) -> None:
        super().__init__(ctx, settings)
        self.settings: SmsSettings = settings
        self.registration = RegistrationSpec(MODE_INSTRUCTIONS[settings.registration],
                                             (PHONE_FIELD,))
        public = settings.webhook.public_url
        self.numbers = Numbers(settings.default_region)
        self.repo = SmsRepo(ctx.store)
        self.api = TwilioApi(settings.twilio, twilio_requests(ctx.metrics))
        self.spending = Spending.for_store(settings.limits, ctx.store)
        watch_usage(ctx.metrics, self.spending.ledger)
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
        self.pending = PendingRepo(ctx.store)
        self.registrar = Registrar(ctx, settings.registration, self.pending, self.repo,
                                   self.media)
        self._registration_commands = RegistrationCommands(self.registrar,
                                                           self._number_registration)
        self._usage = UsageCommand(self.spending.ledger, settings.limits)
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def check_shared(
        cls, settings: SmsSettings, shared: SharedSettings
    ) -> Sequence[SettingsError]:
        return check_shared(settings, shared)

    @classmethod
    def migrations(cls) -> Sequence[str]:
        return MIGRATIONS

    def _media_dir(self) -> Path:
        return media_dir(self.settings.media, self.ctx.store.path)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        problem = media_dir_problem(self.media.directory, self.ctx.store.path)
        if problem:
            raise StartupError("sms.media.dir", problem)
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

    def addressing_help(self, component_jid: str) -> str:
        return (f"Text a phone number by adding it as a contact: +12125550142@{component_jid} "
                "(international format with +; pictures you send by HTTP upload go as MMS).")

    def gateway_prompt(self) -> tuple[str, str]:
        return ("Enter your contact's phone number", "Phone number")

    async def translate_prompt(self, prompt: str) -> str:
        return self.numbers.normalize(prompt)

    # -- registration -----------------------------------------------------------------------

    async def validate_registration(self, user: str, values: Mapping[str, str]) -> Registration:
        self.registrar.check_may_request(user)
        return await self._number_registration(values.get("phone", ""))

    async def hold_registration(
        self, user: str, registration: Registration
    ) -> PendingRegistration | None:
        return await self.registrar.hold(user, registration)

    async def withdraw_registration(self, user: str) -> bool:
        return await self.registrar.withdraw(user)

    async def on_unregistered(self, user: str, registration: Registration) -> None:
        await self.registrar.release(user, registration)

    async def _number_registration(self, typed: str) -> Registration:
        """A typed number as a registration, if it is one this gateway's users may have."""
        raw = typed.strip()
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
        return (*self._unrouted.commands(), *self._registration_commands.commands(),
                *self._usage.commands())

    async def stats(self) -> Mapping[str, str | int]:
        return {
            "sms messages sent to Twilio": self.sender.sent,
            "sms texts received": self.inbound.received,
            "sms texts held for unregistered numbers": await self.repo.count_unrouted(),
            "sms registration requests pending": await self.pending.count(),
            "sms media files hosted": await self.repo.count_media(),
            "sms webhook requests refused": self.webhook.refused,
            "sms sends waiting for their pace": self.sender.pacer.waiting,
        }
