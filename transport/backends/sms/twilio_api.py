"""The Twilio REST calls the gateway makes, through twilio-python's async client.

Why a subclass of ``AsyncTwilioHttpClient``: it is twilio-python's documented extension
point, and it lets us (1) send every Twilio domain to ``api_base_url``, (2) bound each
request with real connect/total timeouts (the stock client passes none to aiohttp), and
(3) tell apart failures where nothing reached Twilio (safe to retry) from failures where
the request may have been processed (never retried: Twilio sends are not idempotent).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from transport.backends.sms.settings import DEFAULT_API, TwilioSettings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT: Final = 10.0
TOTAL_TIMEOUT: Final = 30.0
FORM_TYPE: Final = "application/x-www-form-urlencoded"
_PREFIX: Final = re.compile(r"^Unable to \w+ record: ")
# Client(environment=...) falls back to os.environ when given an empty mapping; a non-empty
# one keeps TWILIO_REGION / TWILIO_EDGE from rewriting the configured API host.
_ISOLATED_ENV: Final = {"XMPP_TRANSPORT": "1"}


#: Called with each answer's HTTP status (or "unreachable", "no answer") and Twilio error
#: code ('' when none): both bounded, fit for metric labels.
ResponseHook = Callable[[str, str], None]


class NotSent(Exception):
    """Nothing reached Twilio (connection refused, DNS failure, connect timeout)."""


class Uncertain(Exception):
    """The request may have reached Twilio, but no answer was read (timeout, reset)."""


class TwilioError(Exception):
    """Twilio answered with an error: HTTP ``status``, Twilio ``code`` and its text."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"HTTP {status}, Twilio error {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def basic_auth(username: str, password: str) -> str:
    """An ``Authorization`` header value (aiohttp's ``BasicAuth`` is deprecated)."""
    return str(aiohttp.encode_basic_auth(username, password))


def form_body(data: Mapping[str, object] | None) -> bytes | None:
    """twilio-python's form fields, urlencoded as aiohttp's ``FormData`` would encode them
    (UTF-8, a list value as repeated fields: ``MediaUrl=a&MediaUrl=b``), at a fraction of
    its cost (``FormData`` was a third of the client's time per send in a profile)."""
    return urlencode(data, doseq=True).encode("ascii") if data else None


class RoutedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """twilio-python's aiohttp client with routing, timeouts and failure classes."""

    def __init__(self, base_url: str, on_response: ResponseHook | None = None) -> None:
        super().__init__(pool_connections=True)
        self.base_url = base_url
        self.on_response = on_response
        self.client_timeout = aiohttp.ClientTimeout(
            total=TOTAL_TIMEOUT, sock_connect=CONNECT_TIMEOUT
        )

    def route(self, url: str) -> str:
        """Any ``https://*.twilio.com`` URL -> the same path under ``base_url``."""
        if self.base_url == DEFAULT_API:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        return self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        sent_headers = dict(headers or {})
        if auth is not None:
            sent_headers["Authorization"] = basic_auth(*auth)
        client_timeout = self.client_timeout
        if timeout is not None:
            client_timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=CONNECT_TIMEOUT)
        target = self.route(url)
        body = form_body(data)
        if body is not None:  # twilio-python sets it for POST and PUT; bytes need it said
            sent_headers.setdefault("Content-Type", FORM_TYPE)
        try:
            async with self.session.request(
                method.upper(), target, params=params, data=body,
                headers=sent_headers, timeout=client_timeout, allow_redirects=allow_redirects,
            ) as resp:
                text = await resp.text(errors="replace")
                self._answered(str(resp.status), _error_code(text) if resp.status >= 400 else "")
                return Response(resp.status, text, resp.headers)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            self._answered("unreachable", "")
            raise NotSent(f"cannot reach Twilio: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._answered("no answer", "")
            raise Uncertain(f"no answer from Twilio: {type(exc).__name__}") from exc

    def _answered(self, status: str, code: str) -> None:
        if self.on_response is not None:
            self.on_response(status, code)


class TwilioApi:
    """One Twilio account: send messages, check numbers, authenticate media downloads."""

    def __init__(self, settings: TwilioSettings, on_response: ResponseHook | None = None) -> None:
        self.settings = settings
        self._on_response = on_response
        self._http: RoutedHttpClient | None = None
        self._client: Any = None

    async def open(self) -> None:
        """Create the HTTP client; must run inside the event loop that will use it."""
        self._http = RoutedHttpClient(self.settings.api_base_url, self._on_response)
        self._client = Client(
            self.settings.account_sid, self.settings.auth_token,
            http_client=self._http, environment=dict(_ISOLATED_ENV),
        )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError("TwilioApi.open() was not awaited")
        return self._client

    def route(self, url: str) -> str:
        """Where a Twilio URL (a media URL, say) is really fetched from."""
        assert self._http is not None
        return self._http.route(url)

    def is_api_url(self, url: str) -> bool:
        """Whether ``url`` (after routing) is on the Twilio API's origin: only those get our
        credentials."""
        return _origin(self.route(url)) == _origin(self.settings.api_base_url)

    def auth_header(self) -> str:
        return basic_auth(self.settings.account_sid, self.settings.auth_token)

    async def create_message(
        self, *, to: str, from_: str, body: str, media_urls: list[str], status_callback: str
    ) -> str:
        """POST Messages.json; the new message's SID. Raises NotSent, Uncertain, TwilioError."""
        kwargs: dict[str, Any] = {"to": to, "from_": from_, "status_callback": status_callback}
        if body:
            kwargs["body"] = body
        if media_urls:
            kwargs["media_url"] = media_urls
        try:
            message = await self.client.messages.create_async(**kwargs)
        except TwilioException as exc:
            raise _twilio_error(exc) from exc
        except ValueError as exc:  # a 2xx whose JSON we could not read
            raise Uncertain(f"unreadable answer from Twilio: {exc}") from exc
        return str(message.sid)

    async def owns_number(self, e164: str) -> bool:
        """Whether ``e164`` is one of the account's IncomingPhoneNumbers."""
        try:
            found = await self.client.incoming_phone_numbers.list_async(
                phone_number=e164, limit=50
            )
        except TwilioException as exc:
            raise _twilio_error(exc) from exc
        except ValueError as exc:
            raise Uncertain(f"unreadable answer from Twilio: {exc}") from exc
        return any(getattr(n, "phone_number", None) == e164 for n in found)

    async def owned_numbers(self) -> set[str]:
        """Every IncomingPhoneNumber of the account (all pages)."""
        try:
            found = await self.client.incoming_phone_numbers.list_async()
        except TwilioException as exc:
            raise _twilio_error(exc) from exc
        except ValueError as exc:
            raise Uncertain(f"unreadable answer from Twilio: {exc}") from exc
        return {str(n.phone_number) for n in found if getattr(n, "phone_number", None)}


def _twilio_error(exc: TwilioException) -> TwilioError:
    """One error type for the shapes twilio-python raises (REST, RFC 9457, page fetch)."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    text = getattr(exc, "msg", None) or getattr(exc, "detail", None) \
        or getattr(exc, "title", None)
    response: Any = exc.args[1] if len(exc.args) > 1 else None
    if status is None and hasattr(response, "status_code"):
        # "Unable to fetch page": the raw response rides along as the second argument.
        status = response.status_code
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            doc = json.loads(response.text)
            code, text = doc.get("code"), doc.get("message")
    return TwilioError(int(status or 0), code if isinstance(code, int) else None,
                       _PREFIX.sub("", str(text or (exc.args[0] if exc.args else exc))))


def _error_code(text: str) -> str:
    """The Twilio error code of an error answer's JSON body ('' when it has none)."""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        code = json.loads(text).get("code")
        if isinstance(code, int):
            return str(code)
    return ""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port
