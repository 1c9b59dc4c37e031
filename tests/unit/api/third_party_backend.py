"""A backend written as a third party would, from docs/backends.md: checked by mypy --strict.

Not imported by the tests: ``test_public_typing`` copies it out of the tree and runs mypy on
it. ``assert_type`` fails the check if any part of the public surface were ``Any``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, assert_type

from transport.core.backend import (
    Backend,
    BackendContext,
    BackendStorage,
    Command,
    CommandRequest,
    CommandResult,
    FormField,
    FormValues,
    Identity,
    RegistrationSpec,
    SettingsError,
    Transaction,
)
from transport.core.errors import (
    AddressError,
    DeliveryRefused,
    RegistrationRefused,
    TemporaryFailure,
)
from transport.core.events import OutgoingMessage, Registration, SendOutcome, XmppMessage


@dataclass(frozen=True, slots=True)
class MyNetSettings:
    greeting: str = "hello"
    max_length: int = 160


class MyNetBackend(Backend[MyNetSettings]):
    """Greets back, remembering whom it has seen in a table of its own."""

    name: ClassVar[str] = "mynet"
    identities: ClassVar[tuple[Identity, ...]] = (Identity("gateway", "mynet", "MyNet"),)
    registration: RegistrationSpec | None = RegistrationSpec(
        instructions="Your MyNet handle",
        fields=(FormField("username", "Handle"),),
    )

    def __init__(self, ctx: BackendContext, settings: MyNetSettings) -> None:
        super().__init__(ctx, settings)
        assert_type(self.settings, MyNetSettings)
        assert_type(self.ctx.store, BackendStorage)
        self.greeting = settings.greeting
        self.restored: frozenset[str] = frozenset()

    @classmethod
    def parse_settings(cls, section: Mapping[str, object]) -> MyNetSettings:
        greeting = section.get("greeting", "hello")
        if not isinstance(greeting, str):
            raise ExceptionGroup("mynet", [SettingsError("greeting", "expected a string")])
        return MyNetSettings(greeting=greeting)

    @classmethod
    def migrations(cls) -> Sequence[str]:
        return ("CREATE TABLE mynet_seen (user TEXT PRIMARY KEY, times INTEGER NOT NULL);",)

    async def start(self) -> None:
        online = await self.ctx.online_users()
        assert_type(online, Sequence[str])
        self.restored = frozenset(online)

    def normalize_contact(self, localpart: str) -> str:
        if not localpart.isalnum():
            raise AddressError(f"{localpart!r} is not a MyNet handle")
        return localpart.lower()

    async def validate_registration(self, user: str, values: Mapping[str, str]) -> Registration:
        handle = values.get("username", "").strip()
        if not handle:
            raise RegistrationRefused("A handle is required")
        return Registration(legacy_key=handle, data={"username": handle})

    def commands(self) -> Sequence[Command]:
        return (Command("mynet-seen", "Times seen", self._seen, needs_registration=True,
                        targets=lambda target: target == ""),)

    async def _seen(self, request: CommandRequest, values: FormValues | None) -> CommandResult:
        if values is None:
            return CommandResult(form=(FormField("who", "Whom?"),))
        who = values.get("who")
        if not isinstance(who, str):
            return CommandResult(note="Whom?", note_type="error")
        row = await self.ctx.store.read_one("SELECT times FROM mynet_seen WHERE user = ?",
                                            (who,))
        assert_type(row, sqlite3.Row | None)
        times = 0 if row is None else int(row["times"])
        return CommandResult(note=f"{who} was seen {times} times")

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        if len(message.body) > self.settings.max_length:
            raise DeliveryRefused("too long", "not-acceptable", legacy_code="LEN")
        if message.body == "busy":
            raise TemporaryFailure("try later", retry_after=1.0)

        def count(tx: Transaction) -> int:
            tx.execute("INSERT INTO mynet_seen VALUES (?, 1) ON CONFLICT (user) DO UPDATE "
                       "SET times = times + 1", (message.user,))
            found = tx.execute("SELECT times FROM mynet_seen WHERE user = ?",
                               (message.user,)).fetchone()
            return 0 if found is None else int(found[0])

        seen = await self.ctx.store.transaction(count)
        assert_type(seen, int)
        reply = XmppMessage(to=message.user, sender=f"{message.contact}@{self.ctx.component_jid}",
                            body=f"{self.greeting} ({seen})")
        queued = await self.ctx.deliver(reply, dedupe_key=message.stanza_id)
        assert_type(queued, bool)
        return SendOutcome(legacy_ids=(message.stanza_id,), confirmed=True)

    async def stats(self) -> Mapping[str, str | int]:
        rows = await self.ctx.store.read("SELECT count(*) FROM mynet_seen")
        return {"seen": int(rows[0][0])}
