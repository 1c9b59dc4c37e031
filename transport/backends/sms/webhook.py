"""The HTTP side: Twilio's webhooks in, hosted media out.

``POST /twilio/sms`` and ``POST /twilio/status`` accept only what Twilio sends: a form
(``application/x-www-form-urlencoded``, UTF-8, at most ``max_body_bytes``) whose
``X-Twilio-Signature`` matches the configured ``public_url`` plus the request path and
query. The URL the request arrived on is never used for the check: behind a TLS proxy it
is not the URL Twilio signed. Anything else is answered with a 4xx before any work is done.
The inbound handler returns only once the message is committed, so a 200 means durable.

A slow client cannot hold a connection: one that has not sent a request's headers
``read_timeout`` seconds after connecting (or after its previous answer) is closed, and a
body not read within ``read_timeout`` of the headers is answered 408 and the connection
closed.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import parse_qsl, urlparse

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator, add_port, remove_port

from transport.backends.sms.settings import WebhookSettings
from transport.core.errors import StartupError
from transport.store import DatabaseClosed

log = logging.getLogger(__name__)

SMS_PATH: Final = "/twilio/sms"
STATUS_PATH: Final = "/twilio/status"
MEDIA_PATH: Final = "/media/{name}"
FORM_TYPE: Final = "application/x-www-form-urlencoded"
EMPTY_TWIML: Final = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
SIGNATURE_HEADER: Final = "X-Twilio-Signature"
MAX_FIELDS: Final = 200
LINGER: Final = 1.0  # seconds to read what a client still sends after an early answer

Form = MultiDict[str]
FormHandler = Callable[[Form], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebhookServer:
    """An aiohttp server for the three routes; ``port`` is the bound port once started."""

    def __init__(
        self,
        settings: WebhookSettings,
        auth_token: str,
        account_sid: str,
        on_sms: FormHandler,
        on_status: FormHandler,
        serve_media: Handler,
    ) -> None:
        self.settings = settings
        self.account_sid = account_sid
        self._validator = RequestValidator(auth_token)
        self._on_sms = on_sms
        self._on_status = on_status
        self._serve_media = serve_media
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.refused = 0

    @property
    def local_url(self) -> str:
        """Where the server really listens (tests route the public URL here)."""
        host = self.settings.listen_host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=self.settings.max_body_bytes,
                              middlewares=[self._guard])
        app.router.add_post(SMS_PATH, self._signed(self._on_sms))
        app.router.add_post(STATUS_PATH, self._signed(self._on_status))
        app.router.add_get(MEDIA_PATH, self._serve_media)
        timeout = self.settings.read_timeout
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                    shutdown_timeout=5.0, keepalive_timeout=timeout,
                                    lingering_time=min(LINGER, timeout))
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.listen_host, self.settings.listen_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise self._startup_error(exc) from exc
        self.port = int(self._runner.addresses[0][1])
        log.info("Twilio webhooks on %s (public URL %s)", self.local_url, self.settings.public_url)

    def _startup_error(self, exc: OSError) -> StartupError:
        """What the admin must fix when the listening socket cannot be had."""
        host, port = self.settings.listen_host, self.settings.listen_port
        where = f"{f'[{host}]' if ':' in host else host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            return StartupError("sms.webhook.listen_port", f"{where} is already in use")
        if exc.errno == errno.EACCES:
            return StartupError("sms.webhook.listen_port", f"{where}: permission denied")
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
            return StartupError("sms.webhook.listen_host",
                                f"{host} is not an address of this machine")
        return StartupError("sms.webhook.listen_host", f"cannot listen on {where}: "
                                                       f"{exc.strerror or exc}")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refusals are logged and counted; no request can take the server down."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status >= 400:
                self.refused += 1
                log.info("Refused %s %s: %d %s", request.method, request.path, exc.status,
                         exc.text or exc.reason)
            raise
        except DatabaseClosed:
            log.warning("Webhook %s arrived while the gateway is stopping", request.path)
            raise web.HTTPServiceUnavailable() from None
        except Exception:
            log.exception("Webhook %s failed", request.path)
            raise web.HTTPInternalServerError() from None

    def _signed(self, handler: FormHandler) -> Handler:
        async def route(request: web.Request) -> web.StreamResponse:
            form = await self._read_form(request)
            self._check_signature(request, form)
            if form.get("AccountSid") != self.account_sid:
                raise web.HTTPForbidden(text="not this gateway's Twilio account")
            return await handler(form)

        return route

    async def _read_form(self, request: web.Request) -> Form:
        if request.content_type != FORM_TYPE:
            raise web.HTTPUnsupportedMediaType(text=f"expected {FORM_TYPE}")
        if (request.charset or "utf-8").lower() not in ("utf-8", "utf8"):
            raise web.HTTPUnsupportedMediaType(text="expected UTF-8")
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise web.HTTPRequestEntityTooLarge(limit, request.content_length)
        try:
            async with asyncio.timeout(self.settings.read_timeout):
                raw = await request.read()  # bounded by client_max_size: 413 beyond it
        except TimeoutError:
            timed_out = web.HTTPRequestTimeout(text="the body took too long")
            timed_out.force_close()  # the connection ends with this answer
            raise timed_out from None
        except ConnectionError:
            raise web.HTTPBadRequest(text="the client went away mid-body") from None
        try:
            pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8",
                              errors="strict", max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError):
            raise web.HTTPBadRequest(text="not a UTF-8 form") from None
        return MultiDict(pairs)

    def _check_signature(self, request: web.Request, form: Form) -> None:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        url = self.settings.public_url + request.raw_path
        if not signature or not self.signature_valid(url, form, signature):
            raise web.HTTPForbidden(text="bad or missing X-Twilio-Signature")

    def signature_valid(self, url: str, form: Form, signature: str) -> bool:
        """``RequestValidator.validate`` for a form post (HMAC-SHA1 of the URL and the
        sorted fields, the URL taken with and without its default port), stopping at the
        first URL form that matches: ``validate`` always computes both, and signature
        checking was a fifth of the webhook's time in a profile."""
        given = signature.encode("utf-8", "replace")
        return any(
            hmac.compare_digest(self._validator.compute_signature(candidate, form).encode(),
                                given)
            for candidate in signed_urls(url)
        )


@functools.lru_cache(maxsize=64)
def signed_urls(url: str) -> tuple[str, ...]:
    """The forms of ``url`` a Twilio signature may be computed over, the usual one first:
    without the default port, then with it (as ``RequestValidator.validate`` tries them).
    Cached: the webhook URLs are a handful; the bound caps what odd query strings add."""
    parsed = urlparse(url)
    return tuple(dict.fromkeys((remove_port(parsed), add_port(parsed))))


def twiml_ok() -> web.Response:
    """The empty TwiML answer: received, no reply."""
    return web.Response(text=EMPTY_TWIML, content_type="text/xml", charset="utf-8")
