"""``[sms]``, ``[sms.twilio]``, ``[sms.webhook]``, ``[sms.media]`` and ``[sms.limits]`` ->
typed settings.

Every problem is collected (not just the first) and reported as ``SettingsError`` with a
dotted key relative to ``[sms]`` (``twilio.auth_token: missing``), so ``check-config`` lists
them all at once. The auth token's value never appears in a message or a repr.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast
from urllib.parse import urlsplit

import phonenumbers

from transport.backends.sms.numbers import parse_e164
from transport.core.backend import SettingsError, SharedSettings

DEFAULT_API = "https://api.twilio.com"
RegistrationMode = Literal["open", "approval", "admin"]
REGISTRATION_MODES: Final[tuple[RegistrationMode, ...]] = ("open", "approval", "admin")
DEFAULT_READ_TIMEOUT: Final = 10.0
_ACCOUNT_SID: Final = re.compile(r"AC[0-9a-fA-F]{32}")
_MiB: Final = 1024 * 1024
_MAX_DAILY: Final = 100_000_000
_MAX_RECIPIENTS: Final = 1000
_MAX_SEGMENTS: Final = 1000


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    """The Twilio account, the numbers users may register and the send pacing."""

    account_sid: str
    auth_token: str = field(repr=False)
    numbers: tuple[str, ...] = ()
    api_base_url: str = DEFAULT_API
    messages_per_second: float = 1.0


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """Where the webhook server listens and the public URL Twilio signs."""

    public_url: str
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    max_body_bytes: int = 64 * 1024
    read_timeout: float = DEFAULT_READ_TIMEOUT


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """Inbound MMS media the gateway re-hosts; ``dir`` is relative to the database file."""

    dir: str = "sms-media"
    max_bytes: int = 5 * _MiB
    expire_after: float = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class LimitsSettings:
    """What one user may spend: per UTC day, per stanza and where to (``[sms.limits]``)."""

    messages_per_day: int = 200
    segments_per_day: int = 1000
    recipients_per_message: int = 10
    max_segments: int = 10
    countries: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SmsSettings:
    """Everything the sms backend reads from its config section."""

    twilio: TwilioSettings
    webhook: WebhookSettings
    media: MediaSettings = field(default_factory=MediaSettings)
    default_region: str = "US"
    registration: RegistrationMode = "approval"
    limits: LimitsSettings = field(default_factory=LimitsSettings)


class _Table:
    """One table of the section; problems go to a shared list, unread keys are unknown."""

    def __init__(
        self, data: Mapping[str, Any], path: str, problems: list[SettingsError]
    ) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def bad(self, name: str, problem: str) -> None:
        self.problems.append(SettingsError(self.key(name), problem))

    def get(self, name: str) -> Any:
        self.used.add(name)
        return self.data.get(name)

    def table(self, name: str) -> _Table:
        value = self.get(name)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.bad(name, "expected a table")
            value = {}
        return _Table(value, self.key(name), self.problems)

    def text(self, name: str, default: str | None = None, *, secret: bool = False) -> str:
        value = self.get(name)
        if value is None:
            if default is None:
                self.bad(name, "missing")
            return default or ""
        if not isinstance(value, str):
            self.bad(name, "expected a string" if secret else f"expected a string, got {value!r}")
            return ""
        if not value.strip():
            self.bad(name, "must not be empty")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(name, f"expected an integer from {low} to {high}, got {value!r}")
            return default
        return value

    def number(self, name: str, default: float, *, allow_zero: bool) -> float:
        value = self.get(name)
        if value is None:
            return default
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or value < 0 or (value == 0 and not allow_zero):
            least = "0 or more" if allow_zero else "greater than 0"
            self.bad(name, f"expected a number {least}, got {value!r}")
            return default
        return float(value)

    def finish(self) -> None:
        for name in self.data:
            if name not in self.used:
                self.bad(name, "unknown key")


def parse_settings(section: Mapping[str, Any]) -> SmsSettings:
    """Read the ``[sms]`` section (generic keys already removed) or raise every problem."""
    problems: list[SettingsError] = []
    root = _Table(section, "", problems)
    region = root.text("default_region", "US").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        root.bad("default_region", f"expected a region code like US or GB, got {region!r}")
        region = "US"
    twilio = _twilio(root.table("twilio"))
    webhook = _webhook(root.table("webhook"))
    media = _media(root.table("media"))
    registration = _registration(root)
    limits = _limits(root.table("limits"))
    root.finish()
    if problems:
        raise ExceptionGroup("sms settings", problems)
    return SmsSettings(twilio=twilio, webhook=webhook, media=media, default_region=region,
                       registration=registration, limits=limits)


def _registration(root: _Table) -> RegistrationMode:
    """Who may bind a number: ``open``, ``approval`` (the default) or ``admin``."""
    value = root.get("registration")
    if value is None:
        return "approval"
    if value not in REGISTRATION_MODES:
        root.bad("registration", f'expected "open", "approval" or "admin", got {value!r}')
        return "approval"
    return cast(RegistrationMode, value)


def check_shared(settings: SmsSettings, shared: SharedSettings) -> list[SettingsError]:
    """Problems that show only next to ``[xmpp]`` and ``[database]``."""
    problems: list[SettingsError] = []
    if not shared.allowed_domains and settings.registration != "admin":
        problems.append(SettingsError(
            "registration", 'must be "admin" while xmpp.allowed_domains is [] (otherwise '
                            "anyone the XMPP server routes to the gateway could claim a number)"))
    problem = media_dir_problem(media_dir(settings.media, shared.database_path),
                                shared.database_path)
    if problem:
        problems.append(SettingsError("media.dir", problem))
    return problems


def media_dir(media: MediaSettings, database_path: Path) -> Path:
    """``media.dir``, relative to the database file's directory unless absolute."""
    path = Path(media.dir).expanduser()
    return path if path.is_absolute() else Path(database_path).parent / path


def media_dir_problem(directory: Path, database_path: Path) -> str | None:
    """Why ``directory`` cannot hold media, or None: it must not be the database's directory
    or contain it (expired media are deleted there; the database must never be in reach)."""
    media = Path(os.path.realpath(directory))
    database_dir = Path(os.path.realpath(Path(database_path).parent))
    if database_dir == media or database_dir.is_relative_to(media):
        return (f"{str(directory)!r} is or contains the database's directory "
                f"{str(database_dir)!r}; use a directory of its own")
    return None


def _twilio(t: _Table) -> TwilioSettings:
    sid = t.text("account_sid")
    if sid and not _ACCOUNT_SID.fullmatch(sid):
        t.bad("account_sid", "expected AC followed by 32 hexadecimal digits")
    token = t.text("auth_token", secret=True)
    numbers: list[str] = []
    raw = t.get("numbers")
    if raw is not None and not isinstance(raw, list):
        t.bad("numbers", "expected a list of E.164 numbers like \"+12125550142\"")
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        e164 = parse_e164(item) if isinstance(item, str) else None
        if e164 is None:
            t.bad(f"numbers[{index}]", f"expected an E.164 number like \"+12125550142\", "
                                       f"got {item!r}")
        elif e164 not in numbers:
            numbers.append(e164)
    base = _url(t, "api_base_url", DEFAULT_API)
    rate = t.number("messages_per_second", 1.0, allow_zero=True)
    t.finish()
    return TwilioSettings(sid, token, tuple(numbers), base, rate)


def _webhook(t: _Table) -> WebhookSettings:
    public = _url(t, "public_url", None)
    if "_" in (urlsplit(public).hostname or ""):
        t.bad("public_url", "Twilio refuses callback URLs whose host has an underscore")
    settings = WebhookSettings(
        public_url=public,
        listen_host=t.text("listen_host", "127.0.0.1"),
        listen_port=t.integer("listen_port", 8080, 0, 65535),
        max_body_bytes=t.integer("max_body_bytes", 64 * 1024, 1024, 16 * _MiB),
        read_timeout=_read_timeout(t),
    )
    t.finish()
    return settings


def _read_timeout(t: _Table) -> float:
    """Seconds a client has for a request's headers, and again for its body."""
    return t.number("read_timeout", DEFAULT_READ_TIMEOUT, allow_zero=False)


def _media(t: _Table) -> MediaSettings:
    settings = MediaSettings(
        dir=t.text("dir", "sms-media"),
        max_bytes=t.integer("max_bytes", 5 * _MiB, 1024, 100 * _MiB),
        expire_after=t.number("expire_after", 30 * 86400.0, allow_zero=False),
    )
    t.finish()
    return settings


def _limits(t: _Table) -> LimitsSettings:
    defaults = LimitsSettings()
    settings = LimitsSettings(
        messages_per_day=t.integer("messages_per_day", defaults.messages_per_day, 1, _MAX_DAILY),
        segments_per_day=t.integer("segments_per_day", defaults.segments_per_day, 1, _MAX_DAILY),
        recipients_per_message=t.integer(
            "recipients_per_message", defaults.recipients_per_message, 1, _MAX_RECIPIENTS),
        max_segments=t.integer("max_segments", defaults.max_segments, 1, _MAX_SEGMENTS),
        countries=_countries(t),
    )
    t.finish()
    return settings


def _countries(t: _Table) -> frozenset[str]:
    """ISO 3166 alpha-2 codes, upper case, as phonenumbers knows them; [] = any country."""
    raw = t.get("countries")
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        t.bad("countries", f"expected a list of country codes like [\"US\", \"CA\"], "
                           f"got {raw!r}")
        return frozenset()
    codes: set[str] = set()
    for index, item in enumerate(raw):
        code = item.strip().upper() if isinstance(item, str) else ""
        if code not in phonenumbers.SUPPORTED_REGIONS:
            t.bad(f"countries[{index}]", f"expected an ISO 3166 alpha-2 country code like "
                                         f"\"US\", got {item!r}")
        else:
            codes.add(code)
    return frozenset(codes)


def _url(t: _Table, name: str, default: str | None) -> str:
    """An http(s) URL without query, fragment or credentials; trailing slash dropped."""
    value = t.text(name, default)
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        valid = valid and (parts.port is None or parts.port > 0)
    except ValueError:  # a port that is not a number, a broken IPv6 literal
        valid = False
    if not valid:
        t.bad(name, f"expected an http:// or https:// URL, got {value!r}")
        return ""
    if parts.query or parts.fragment or parts.username or parts.password:
        t.bad(name, "must not contain a query, a fragment or credentials")
        return ""
    return value.rstrip("/")
