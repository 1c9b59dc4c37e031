"""The hostile-input suite: a seeded barrage against a real Prosody, IRC servers and webhooks.

Each part prints its figures in the terminal summary (seed, IQs sent/answered, streams
closed, canary latency), so every run of ``scripts/test`` shows them; replay a failure with
``HOSTILE_SEED=<seed> scripts/test tests/hostile``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from transport.testing.twilio import TwilioStandIn

from .clients import LedgerClient
from .gateway import ACCOUNT, POOL, PUBLIC, TOKEN
from .report import FIGURES, seed


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.write_sep("=", f"hostile-input suite (HOSTILE_SEED={seed()})")
    for part, figures in FIGURES:
        terminalreporter.write_line(f"{part}:")
        for figure in figures:
            terminalreporter.write_line(f"    {figure}")


@pytest.fixture
async def standin() -> AsyncIterator[TwilioStandIn]:
    """The Twilio stand-in, with the pool's inbound webhooks pointing at the public URL."""
    s = TwilioStandIn({ACCOUNT: TOKEN}, {ACCOUNT: list(POOL)}, callback_retry_delay=0.01)
    await s.start()
    for number in POOL:
        s.set_sms_url(number, f"{PUBLIC}/twilio/sms")
    yield s
    await s.stop()


@pytest.fixture
async def users(prosody: Any) -> AsyncIterator[Callable[..., Any]]:
    """Factory: ``await users()`` -> a new user's logged-in ``LedgerClient``."""
    clients: list[LedgerClient] = []

    async def login(name: str | None = None) -> LedgerClient:
        name = name or f"h{uuid.uuid4().hex[:10]}"
        await prosody.aregister_user(name, "pw")
        client = LedgerClient(f"{name}@{prosody.domain}/hostile", "pw", "127.0.0.1",
                              prosody.c2s_port)
        await client.login()
        clients.append(client)
        return client

    yield login
    for client in clients:
        await client.logout()
