"""In-memory Twilio account state plus everything a test wants to look at afterwards.

Kept free of HTTP so routes, the status progression and the control API share one
source of truth.  Tokens live only in ``accounts``/``api_keys`` and are never copied
into logs or records.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from multidict import MultiDict, MultiDictProxy

API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two-letter prefix + 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC)


def friendly_name(e164: str) -> str:
    """Twilio's default friendly name: ``(415) 555-0100`` for NANP, else the number."""
    digits = e164[2:]
    if e164.startswith("+1") and len(digits) == 10 and digits.isdigit():
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return e164


@dataclass
class PhoneNumber:
    """An IncomingPhoneNumber; ``sms_url`` is where inbound texts are posted."""

    sid: str
    account_sid: str
    phone_number: str
    friendly_name: str
    sms_url: str = ""
    sms_method: str = "POST"
    status_callback: str = ""
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)


@dataclass
class Media:
    """One stored media item of an (inbound) message."""

    sid: str
    account_sid: str
    message_sid: str
    content_type: str
    data: bytes
    date_created: datetime = field(default_factory=utcnow)


@dataclass
class Message:
    """A Message resource, outbound (API-created) or inbound (``send_inbound``)."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    direction: str
    status: str
    num_segments: int
    media_urls: list[str] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    date_sent: datetime | None = None

    @property
    def num_media(self) -> int:
        return len(self.media) if self.media else len(self.media_urls)

    def set_status(self, status: str) -> None:
        self.status = status
        self.date_updated = utcnow()
        if status in ("sent", "delivered", "received") and self.date_sent is None:
            self.date_sent = self.date_updated


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the stand-in answered (Authorization redacted)."""

    method: str
    path: str
    query: MultiDictProxy[str]
    headers: Mapping[str, str]
    form: MultiDictProxy[str]
    auth_user: str | None
    status: int


@dataclass(frozen=True)
class CreateRequest:
    """A ``POST Messages.json`` as received: raw form (repeated keys kept) + outcome."""

    account_sid: str
    form: MultiDictProxy[str]
    sid: str | None
    status: int
    error_code: int | None = None

    @property
    def to(self) -> str | None:
        return self.form.get("To")

    @property
    def from_(self) -> str | None:
        return self.form.get("From")

    @property
    def body(self) -> str | None:
        return self.form.get("Body")

    @property
    def media_urls(self) -> list[str]:
        return self.form.getall("MediaUrl", [])

    @property
    def status_callback(self) -> str | None:
        return self.form.get("StatusCallback")


@dataclass
class InjectedError:
    """A queued failure for ``Messages.json`` creates (consumed ``times`` times)."""

    status: int
    code: int
    message: str
    times: int
    match_to: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How a created message ends: its terminal status, error and step delay."""

    final_status: str = "delivered"
    error_code: int | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class WebhookAttempt:
    """One delivery attempt of a status callback or inbound webhook."""

    kind: str
    url: str
    signed_url: str
    params: MultiDictProxy[str]
    headers: Mapping[str, str]
    attempt: int
    status: int | None
    error: str | None
    body: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class StandInState:
    """Accounts, numbers, messages and the logs the control API exposes."""

    accounts: dict[str, str]
    api_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    messaging_services: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, PhoneNumber] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    create_attempts: list[CreateRequest] = field(default_factory=list)
    webhook_attempts: list[WebhookAttempt] = field(default_factory=list)
    injected: list[InjectedError] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    opt_outs: set[tuple[str, str]] = field(default_factory=set)

    def add_number(self, account_sid: str, e164: str, sms_url: str = "") -> PhoneNumber:
        num = PhoneNumber(new_sid("PN"), account_sid, e164, friendly_name(e164), sms_url)
        self.numbers[num.sid] = num
        return num

    def add_numbers(self, numbers: Mapping[str, Sequence[str]]) -> None:
        for account_sid, e164s in numbers.items():
            for e164 in e164s:
                self.add_number(account_sid, e164)

    def account_numbers(self, account_sid: str) -> list[PhoneNumber]:
        return [n for n in self.numbers.values() if n.account_sid == account_sid]

    def number_by_e164(self, e164: str) -> PhoneNumber | None:
        return next((n for n in self.numbers.values() if n.phone_number == e164), None)

    def token_for(self, username: str) -> tuple[str, str] | None:
        """(account_sid, secret) for an Account SID or API key SID, else None."""
        if username in self.accounts:
            return username, self.accounts[username]
        return self.api_keys.get(username)

    def take_injected(self, to: str | None) -> InjectedError | None:
        """Consume one use of the first matching injected error."""
        for inj in self.injected:
            if inj.match_to is None or inj.match_to == to:
                inj.times -= 1
                if inj.times <= 0:
                    self.injected.remove(inj)
                return inj
        return None

    def outcome_for(self, to: str) -> Outcome:
        return self.outcomes.get(to) or self.outcomes.get("*") or Outcome()

    def account_messages(self, account_sid: str) -> list[Message]:
        """Newest first, as Twilio lists them."""
        found = [m for m in self.messages.values() if m.account_sid == account_sid]
        return found[::-1]


def frozen_form(pairs: Sequence[tuple[str, str]] | MultiDict[str]) -> MultiDictProxy[str]:
    """An immutable multi-valued copy, order and repeated keys preserved."""
    return MultiDictProxy(MultiDict(pairs))
