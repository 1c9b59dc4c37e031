"""Shared pieces of the SMS integration tests: a Twilio stand-in and a running gateway.

The gateway is configured with a public URL that does not resolve (as behind a TLS proxy);
the stand-in delivers webhooks for it to the gateway's real listening address while
signing the public URL, so every test also checks that signatures are validated against
``public_url`` and never against the URL the request arrived on.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from multidict import MultiDict

from transport.app import Application
from transport.backends.sms import SmsBackend
from transport.testing.gateway import ComponentSpec, running_gateway
from transport.testing.twilio import TwilioStandIn, compute_signature
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register

ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "5e1f0c0ffee0ddba11ab5e11ca7500d5"
POOL = ("+12125550100", "+12125550101", "+12125550102")
OWNED_OUTSIDE_POOL = "+12125550109"
CONTACT = "+12125550142"
CONTACT2 = "+12125550143"
PUBLIC = "https://sms-gw.example.test"
GW = "sms.localhost"
SECRET = "sms-secret"
FORM = "application/x-www-form-urlencoded"


def contact_jid(number: str) -> str:
    return f"{number}@{GW}"


def sms_options(standin: TwilioStandIn, **overrides: Any) -> dict[str, Any]:
    """Nested [sms] options; ``twilio``/``webhook``/``media`` overrides are merged."""
    options: dict[str, Any] = {
        "default_region": "US",
        "registration": "open",
        "twilio": {
            "account_sid": ACCOUNT, "auth_token": TOKEN, "numbers": list(POOL),
            "api_base_url": standin.url, "messages_per_second": 0,
        },
        "webhook": {"listen_host": "127.0.0.1", "listen_port": 0, "public_url": PUBLIC},
        "media": {"dir": "media"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict):
            options[key] = {**options.get(key, {}), **value}
        else:
            options[key] = value
    return options


def sms_toml(options: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(top-level options, extra TOML tables) for ``write_config``."""
    top = {k: v for k, v in options.items() if not isinstance(v, dict)}
    lines: list[str] = []
    for name, table in options.items():
        if isinstance(table, dict):
            lines.append(f"[sms.{name}]")
            for key, value in table.items():
                rendered = repr(value).replace("'", '"') if not isinstance(value, bool) \
                    else str(value).lower()
                lines.append(f"{key} = {rendered}")
    return top, "\n".join(lines) + "\n"


@dataclass
class SmsGateway:
    """A running gateway with the sms backend, wired to the stand-in."""

    app: Application
    standin: TwilioStandIn

    @property
    def backend(self) -> SmsBackend:
        backend = self.app.runtimes[0].gateway.backend
        assert isinstance(backend, SmsBackend)
        return backend

    @property
    def store(self) -> Any:
        return self.app.store

    def local(self, public_url: str) -> str:
        """Where a public URL of the gateway is really served."""
        return public_url.replace(PUBLIC, self.backend.webhook.local_url, 1)

    async def text(self, to: str, from_: str = CONTACT, body: str = "", **kwargs: Any) -> Any:
        result = await self.standin.send_inbound(to, from_, body, **kwargs)
        assert result.status == 200, result
        return result


@pytest.fixture
async def standin(request: pytest.FixtureRequest, twilio_standin: Any) -> TwilioStandIn:
    """The stand-in; ``indirect`` parametrization passes extra constructor arguments."""
    s: TwilioStandIn = await twilio_standin(
        {ACCOUNT: TOKEN}, {ACCOUNT: [*POOL, OWNED_OUTSIDE_POOL]}, callback_retry_delay=0.01,
        **getattr(request, "param", {}))
    for number in (*POOL, OWNED_OUTSIDE_POOL):
        s.set_sms_url(number, f"{PUBLIC}/twilio/sms")
    return s


@pytest.fixture
def sms_gateway(gateway_settings, standin) -> Callable[..., Any]:
    """``async with sms_gateway(server=None, **option_overrides) as gw``."""

    @contextlib.asynccontextmanager
    async def start(server: Any = None, **overrides: Any) -> AsyncIterator[SmsGateway]:
        spec = ComponentSpec("sms", GW, SECRET, sms_options(standin, **overrides))
        async with running_gateway(gateway_settings(server, component=spec)) as app:
            gw = SmsGateway(app, standin)
            standin.route_url(PUBLIC, gw.backend.webhook.local_url)
            yield gw

    return start


async def registered(users: Callable[..., Any], number: str = POOL[0], **kwargs: Any) -> TestClient:
    """A logged-in user registered with ``number``, gateway presence consumed."""
    client: TestClient = await users(**kwargs)
    await register(client, GW, phone=number)
    await client.expect_presence(GW, "subscribe")
    return client


def signed_post(
    params: list[tuple[str, str]], path: str = "/twilio/sms", token: str = TOKEN
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Headers and form for a webhook signed as Twilio signs it (for the public URL)."""
    signature = compute_signature(token, PUBLIC + path, MultiDict(params))
    return {"X-Twilio-Signature": signature, "Content-Type": FORM}, params


def inbound_params(sid: str, to: str = POOL[0], from_: str = CONTACT, body: str = "hi",
                   **extra: str) -> list[tuple[str, str]]:
    params = [("MessageSid", sid), ("AccountSid", ACCOUNT), ("From", from_), ("To", to),
              ("Body", body), ("NumMedia", "0")]
    return params + list(extra.items())


async def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Poll a cheap condition that has no event to await (a file, a counter)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def http(method: str, url: str, **kwargs: Any) -> tuple[int, bytes, Any]:
    async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as r:
        return r.status, await r.read(), r.headers


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)
