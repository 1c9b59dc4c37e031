"""Fixtures: a started stand-in, the real async twilio client, and a receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client
from twilio_standin_support import (
    ACCOUNT,
    API_KEY,
    API_SECRET,
    NUMBER,
    NUMBER2,
    OTHER_ACCOUNT,
    OTHER_NUMBER,
    OTHER_TOKEN,
    SERVICE,
    TOKEN,
    Receiver,
)

from transport.testing.twilio import TwilioStandIn


@pytest.fixture
async def standin(twilio_standin) -> TwilioStandIn:
    return await twilio_standin(
        {ACCOUNT: TOKEN, OTHER_ACCOUNT: OTHER_TOKEN},
        {ACCOUNT: [NUMBER, NUMBER2], OTHER_ACCOUNT: [OTHER_NUMBER]},
        api_keys={API_KEY: (ACCOUNT, API_SECRET)},
        messaging_services={SERVICE: ACCOUNT},
        callback_retry_delay=0.01,
    )


@pytest.fixture
async def make_client(standin: TwilioStandIn) -> AsyncIterator[object]:
    """Factory for real async clients pointed at the stand-in (closed afterwards)."""
    made: list[AsyncTwilioHttpClient] = []

    def make(username: str = ACCOUNT, password: str = TOKEN, account_sid: str | None = None):
        http = AsyncTwilioHttpClient(timeout=10)
        made.append(http)
        client = Client(
            username,
            password,
            account_sid=account_sid,
            http_client=http,
            environment={"TWILIO_STANDIN_TEST": "1"},
        )
        client.api.base_url = standin.url
        return client

    yield make
    for http in made:
        await http.close()


@pytest.fixture
async def client(make_client):
    return make_client()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()
