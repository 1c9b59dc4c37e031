"""Shared constants and a recording webhook receiver for the stand-in tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator

ACCOUNT = "AC" + "a1" * 16
TOKEN = "account-token-aaaa"
OTHER_ACCOUNT = "AC" + "b2" * 16
OTHER_TOKEN = "account-token-bbbb"
API_KEY = "SK" + "c3" * 16
API_SECRET = "api-key-secret-cccc"
SERVICE = "MG" + "d4" * 16
NUMBER = "+15550001111"
NUMBER2 = "+15550001112"
OTHER_NUMBER = "+447700900123"
USER = "+15550002222"


@dataclass
class Hit:
    """One request the receiver got."""

    path: str
    url: str
    headers: dict[str, str]
    form: MultiDict[str]


@dataclass
class Receiver:
    """An aiohttp webhook receiver on 127.0.0.1 that records and answers as told."""

    base: str = ""
    hits: list[Hit] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def url(self, path: str) -> str:
        return self.base + path

    async def _handle(self, request: web.Request) -> web.Response:
        posted = await request.post()
        form: MultiDict[str] = MultiDict((k, str(v)) for k, v in posted.items())
        self.hits.append(Hit(request.path_qs, str(request.url), dict(request.headers), form))
        self.arrived.set()
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status, text="<Response></Response>", content_type="text/xml")

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Hit]:
        async with asyncio.timeout(timeout):
            while len(self.hits) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.hits


def valid(token: str, url: str, hit: Hit) -> bool:
    """Validate a received webhook exactly as a gateway would."""
    signature = hit.headers.get("X-Twilio-Signature", "")
    return bool(RequestValidator(token).validate(url, hit.form, signature))
