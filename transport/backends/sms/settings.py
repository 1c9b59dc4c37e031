"""``[sms]``, ``[sms.twilio]``, ``[sms.webhook]``, ``[sms.media]`` and ``[sms.limits]``,
declared once: ``parse_settings`` reads them and ``config.example.toml`` documents them.

Every problem is reported with a dotted key relative to ``[sms]``
(``twilio.auth_token: missing``). The auth token's value never appears in a message or a
repr.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit

import phonenumbers

from transport.backends.sms.numbers import parse_e164
from transport.core.backend import SharedSettings
from transport.core.settings import SettingsError, setting, settings_table, show
from transport.core.settings import parse_settings as parse_declared

DEFAULT_API = "https://api.twilio.com"
RegistrationMode = Literal["open", "approval", "admin"]
REGISTRATION_MODES: Final[tuple[RegistrationMode, ...]] = ("open", "approval", "admin")
DEFAULT_READ_TIMEOUT: Final = 10.0
_ACCOUNT_SID: Final = re.compile(r"AC[0-9a-fA-F]{32}")
_MiB: Final = 1024 * 1024
_MAX_DAILY: Final = 100_000_000
_MAX_RECIPIENTS: Final = 1000
_MAX_SEGMENTS: Final = 1000
_E164: Final = 'an E.164 number like "+12125550142"'


def _region(value: str) -> str | None:
    code = value.strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def _account_sid(value: str) -> str | None:
    return value if _ACCOUNT_SID.fullmatch(value) else None


def _url(value: str) -> str:
    """An http(s) URL without query, fragment or credentials; trailing slash dropped."""
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        valid = valid and (parts.port is None or parts.port > 0)
    except ValueError:  # a port that is not a number, a broken IPv6 literal
        valid = False
    if not valid:
        raise ValueError(f"expected an http:// or https:// URL, got {show(value)}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must not contain a query, a fragment or credentials")
    return value.rstrip("/")


def _public_url(value: str) -> str:
    url = _url(value)
    if "_" in (urlsplit(url).hostname or ""):
        raise ValueError("Twilio refuses callback URLs whose host has an underscore")
    return url


def _country(value: str) -> str | None:
    """ISO 3166 alpha-2 codes, upper case, as phonenumbers knows them."""
    code = value.strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


@settings_table
class TwilioSettings:
    """The Twilio account, the numbers users may register and the send pacing."""

    account_sid: str = setting(
        doc="""Required. The Account SID: "AC" and 32 hexadecimal digits (Twilio console,
        Account info).""",
        expected="AC followed by 32 hexadecimal digits", check=_account_sid,
        example="AC00000000000000000000000000000000")
    auth_token: str = setting(
        doc="""Required, here or in the environment. The account's Auth Token; it
        authenticates REST calls and is the key Twilio signs webhooks with.""",
        secret=True, env="TWILIO_AUTH_TOKEN", example="change-me")
    numbers: tuple[str, ...] = setting(
        default=(), check=parse_e164, expected=_E164,
        plural='E.164 numbers like "+12125550142"',
        doc="""The numbers (E.164) users may register, one each. [] means any SMS-capable
        number the account owns (checked against Twilio's IncomingPhoneNumbers when a user
        registers); e.g. ["+12125550100", "+12125550101"].""")
    api_base_url: str = setting(
        default=DEFAULT_API, check=_url,
        doc="""The REST API's base URL. Change it only to test against a local stand-in; it
        is used for every Twilio domain the gateway calls.""")
    messages_per_second: float = setting(
        default=1.0, allow_zero=True,
        doc="""Messages per second sent from each number; a burst is queued, not refused.
        US long codes send about 1 segment per second, toll-free 3, short codes 100+.
        0 turns pacing off.""")


@settings_table
class WebhookSettings:
    """Where the webhook server listens and the public URL Twilio signs."""

    public_url: str = setting(
        check=_public_url, example="https://gw.example.org",
        doc="""Required. The public http(s) URL Twilio reaches, without a trailing path of
        /twilio/... Webhook signatures are checked against this URL, never against the
        address a request arrived on. Configure in the Twilio console for each number:
          A message comes in:   POST {public_url}/twilio/sms
        Status callbacks go to {public_url}/twilio/status (set per message by the gateway),
        and inbound MMS media is served at {public_url}/media/...""")
    listen_host: str = setting(
        default="127.0.0.1",
        doc="""Where the gateway's HTTP server listens (put a TLS reverse proxy in front
        of it).""")
    listen_port: int = setting(
        default=8080, low=0, high=65535,
        doc="Its port, 0-65535; 0 picks a free port (tests only).")
    max_body_bytes: int = setting(
        default=64 * 1024, low=1024, high=16 * _MiB,
        doc="Largest webhook request body accepted, in bytes (1024 to 16777216).")
    read_timeout: float = setting(
        default=DEFAULT_READ_TIMEOUT,
        doc="""Seconds a client has to send a request's headers (from connecting, or from
        the previous answer), and again to send its body; a slow body is answered 408 and
        the connection closed.""")


@settings_table
class MediaSettings:
    """Inbound MMS media the gateway re-hosts; ``dir`` is relative to the database file."""

    dir: str = setting(
        default="sms-media",
        doc="""Directory for inbound MMS media the gateway serves; a relative path is
        resolved against the directory of the database file. It must not be that directory
        or contain it. Only files the gateway wrote (each has a row in the database) are
        ever deleted there.""")
    max_bytes: int = setting(
        default=5 * _MiB, low=1024, high=100 * _MiB,
        doc="""Largest media item accepted from Twilio, in bytes; larger ones are replaced
        by a notice.""")
    expire_after: float = setting(
        default=30 * 86400.0,
        doc="Seconds a media file stays available (default 30 days); then it is deleted.")


@settings_table
class LimitsSettings:
    """What one user may spend: per UTC day, per stanza and where to (``[sms.limits]``)."""

    messages_per_day: int = setting(
        default=200, low=1, high=_MAX_DAILY,
        doc="Twilio messages created per user and day (1 to 100000000).")
    segments_per_day: int = setting(
        default=1000, low=1, high=_MAX_DAILY,
        doc="""Billed segments per user and day (1 to 100000000): 160 GSM-7 characters, 153
        each when a text needs several; 70 UCS-2 characters (67) once one character is not
        GSM-7. An MMS counts as one segment.""")
    recipients_per_message: int = setting(
        default=10, low=1, high=_MAX_RECIPIENTS,
        doc="XEP-0033 recipients in one group text (1 to 1000).")
    max_segments: int = setting(
        default=10, low=1, high=_MAX_SEGMENTS,
        doc="""Segments one text may have, all its parts for one recipient (1 to 1000); a
        longer text is refused, never truncated.""")
    countries: frozenset[str] = setting(
        default=frozenset(), check=_country,
        expected='an ISO 3166 alpha-2 country code like "US"',
        plural='country codes like ["US", "CA"]',
        doc="""ISO 3166 alpha-2 countries texts may go to, e.g. ["US", "CA"]; [] = any
        country.""")


@settings_table
class SmsSettings:
    """The sms backend: SMS/MMS through Twilio, documented in docs/sms.md."""

    twilio: TwilioSettings = setting(doc="")
    webhook: WebhookSettings = setting(doc="")
    media: MediaSettings = setting(default_factory=MediaSettings, doc="")
    default_region: str = setting(
        default="US", check=_region, expected="a region code like US or GB",
        doc="""How numbers typed without "+" are read: a region code such as "US", "GB" or
        "DE".""")
    registration: RegistrationMode = setting(
        default="approval",
        doc="""Who may bind a number (see "Who may bind a number" in docs/admin.md):
          "open"      a user of an allowed domain binds any free pool number at once;
          "approval"  the request waits for an admin (ad-hoc command pending-registrations);
          "admin"     only admins bind numbers (ad-hoc command assign-number).
        With xmpp.allowed_domains = [] only "admin" is accepted.""")
    limits: LimitsSettings = setting(
        default_factory=LimitsSettings,
        doc="""What each user may make Twilio send, admins included; a day is the UTC day. A
        message over a limit is refused whole with a policy-violation error naming the
        limit: nothing of it reaches Twilio. Counts are kept in the database, so a restart
        does not reset them.""")


def parse_settings(section: Mapping[str, object]) -> SmsSettings:
    """Read the ``[sms]`` section (generic keys already removed) or raise every problem."""
    return parse_declared(SmsSettings, section)


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

