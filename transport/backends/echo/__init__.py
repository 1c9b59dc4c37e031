"""The echo backend: the example for backend writers and the core's test backend.

Every message sent to ``anything@echo.example.org`` comes back from that JID. Two body
prefixes exercise the core's error paths end to end: ``fail:CONDITION text`` is refused
with that stanza error, and ``flaky:N text`` fails temporarily N times before it echoes.
Its lifecycle hooks only log what a real network's backend would act on (log in when a
user comes online, log in again at start for those who stayed online through a restart,
log out when they go, drop their account when they unregister).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from transport.core.backend import (
    Backend,
    BackendContext,
    ContactInfo,
    FormField,
    Identity,
    RegistrationSpec,
    setting,
    settings_table,
)
from transport.core.errors import (
    AddressError,
    DeliveryRefused,
    RegistrationRefused,
    TemporaryFailure,
)
from transport.core.events import OutgoingMessage, Registration, SendOutcome, XmppMessage
from transport.xmpp.namespaces import RECEIPTS

_LOCALPART = re.compile(r"^[^\s@/\"&'<>:]{1,64}$")
_FLAKY = re.compile(r"^flaky:(\d+)\b")
_FAIL = re.compile(r"^fail:([a-z-]+)\s*(.*)$", re.S)


@settings_table
class EchoSettings:
    """The echo backend: a test and demonstration component that sends every message back."""

    require_registration: bool = setting(
        default=True,
        doc="""true: users must register (XEP-0077, field "username") before using it;
        false: no registration step.""")


class EchoBackend(Backend[EchoSettings]):
    """Echoes messages back from the contact they were sent to."""

    name: ClassVar[str] = "echo"
    identities: ClassVar[tuple[Identity, ...]] = (Identity("gateway", "echo", "Echo gateway"),)
    features: ClassVar[tuple[str, ...]] = (RECEIPTS,)
    settings_type: ClassVar[type | None] = EchoSettings
    registration: RegistrationSpec | None = RegistrationSpec(
        instructions="Choose a user name; it is yours alone on this gateway.",
        fields=(FormField("username", "User name"),),
    )

    def __init__(self, ctx: BackendContext, settings: EchoSettings) -> None:
        super().__init__(ctx, settings)
        if not settings.require_registration:
            self.registration = None
        self._flaky_attempts: dict[str, int] = {}

    def normalize_contact(self, localpart: str) -> str:
        if not _LOCALPART.match(localpart):
            raise AddressError(f"{localpart!r} is not an echo address")
        return localpart.lower()

    def contact_info(self, localpart: str) -> ContactInfo:
        return ContactInfo(
            identities=(Identity("client", "bot"),),
            features=(RECEIPTS,),
            name=f"Echo {localpart}",
        )

    def addressing_help(self, component_jid: str) -> str:
        return f"Chat with anything@{component_jid}: every message comes back."

    def gateway_prompt(self) -> tuple[str, str]:
        return ("Enter any name to get an echo contact", "Name")

    async def translate_prompt(self, prompt: str) -> str:
        return self.normalize_contact(prompt.strip().replace(" ", "-"))

    async def validate_registration(self, user: str, values: Mapping[str, str]) -> Registration:
        username = values.get("username", "").strip()
        if not username or len(username) > 64:
            raise RegistrationRefused("The user name must have 1 to 64 characters")
        return Registration(legacy_key=username.lower(), data={"username": username})

    async def on_registered(
        self, user: str, registration: Registration, previous: Registration | None
    ) -> None:
        if previous is None:
            self.ctx.log.info("%s registered as %s", user, registration.legacy_key)
        else:
            self.ctx.log.info("%s is now %s (was %s)", user, registration.legacy_key,
                              previous.legacy_key)

    async def start(self) -> None:
        for user in await self.ctx.online_users():
            self.ctx.log.info("%s stayed online through a restart: a network backend would "
                              "log in for them again now", user)

    async def on_user_online(self, user: str) -> None:
        self.ctx.log.info("%s came online: a network backend would log in for them now", user)

    async def on_user_offline(self, user: str) -> None:
        self.ctx.log.info("%s went offline: a network backend would log out for them now",
                          user)

    async def on_unregistered(self, user: str, registration: Registration) -> None:
        self.ctx.log.info("%s unregistered; %s is free again", user, registration.legacy_key)

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        flaky = _FLAKY.match(message.body)
        if flaky:
            seen = self._flaky_attempts.get(message.stanza_id, 0)
            if seen < int(flaky.group(1)):
                self._flaky_attempts[message.stanza_id] = seen + 1
                raise TemporaryFailure("echo is flaky on purpose", retry_after=0.2)
            self._flaky_attempts.pop(message.stanza_id, None)
        failing = _FAIL.match(message.body)
        if failing:
            raise DeliveryRefused(failing.group(2) or "refused", failing.group(1),
                                  legacy_code="ECHO")
        sender = f"{message.contact}@{self.ctx.component_jid}"
        replies = [XmppMessage(to=message.user, sender=sender, body=message.body)] \
            if message.body else []
        replies += [
            XmppMessage(to=message.user, sender=sender, body=a.url, oob_url=a.url)
            for a in message.attachments
        ]
        await self.ctx.deliver_many(replies)
        return SendOutcome(legacy_ids=(message.stanza_id,), confirmed=True)
