"""Join storms: many users of a real Prosody join one channel of a real ngIRCd at once.

Each user is its own account and IRC connection. New connections to the server are paced
(``connects_per_second``, ``max_connecting``), so with the default pacing every join
completes; and when the server refuses some connections during registration (here its
per-IP limit, as real networks throttle per IP), those joins end in an error presence the
client can show. No join is left pending.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from test_irc_support import GW, codes, join, join_presence, room, unique

from transport.testing.gateway import running_gateway
from transport.testing.servers import NgircdServer
from transport.testing.xmpp_client import TestClient

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(120)

USERS = 60
#: ngIRCd's refusal of a connection over its per-IP limit ("ERROR :Connection refused, too
#: many connections from your IP address") comes before 001, like a network's throttle.
PER_IP_LIMIT = 40


async def _ngircd(**limits: str) -> NgircdServer:
    server = NgircdServer(extra={"Limits": limits})
    await server.astart()
    return server


@pytest.fixture
async def throttling_ngircd() -> AsyncIterator[NgircdServer]:
    server = await _ngircd(MaxConnectionsIP=str(PER_IP_LIMIT))
    yield server
    await server.aclose()


@pytest.fixture
async def one_per_ip_ngircd() -> AsyncIterator[NgircdServer]:
    server = await _ngircd(MaxConnectionsIP="1")
    yield server
    await server.aclose()


@pytest.fixture
async def plain_ngircd() -> AsyncIterator[NgircdServer]:
    server = await _ngircd()
    yield server
    await server.aclose()


@pytest.fixture
async def crowd(prosody) -> AsyncIterator[Callable[[int], Any]]:
    """Factory: ``await crowd(n)`` -> n logged-in TestClients, each its own account
    (made a few at a time: one login timing out on a busy machine would fail the test)."""
    clients: list[TestClient] = []

    async def one() -> TestClient:
        name = f"s{uuid.uuid4().hex[:10]}"
        await prosody.aregister_user(name, "pw")
        client = TestClient(f"{name}@{prosody.domain}/storm", "pw", "127.0.0.1",
                            prosody.c2s_port)
        clients.append(client)
        await client.login(timeout=30.0)
        return client

    async def make(count: int) -> list[TestClient]:
        made: list[TestClient] = []
        for start in range(0, count, 10):
            made += await asyncio.gather(*(one() for _ in range(min(10, count - start))))
        return made

    yield make
    await asyncio.gather(*(client.logout() for client in clients), return_exceptions=True)


def _outcome(room_jid: str) -> Callable[[Any], bool]:
    """The end of one join: the self-presence (110) or an error presence from the room."""
    def pred(s: Any) -> bool:
        if s.name != "presence" or s["from"].bare != room_jid:
            return False
        return s["type"] == "error" or ("110" in codes(s) and s["type"] != "unavailable")

    return pred


async def _storm(clients: list[TestClient], room_jid: str, bound: float) -> list[Any]:
    """Every client joins at once; each one's outcome (None: still pending at ``bound``)."""
    for index, client in enumerate(clients):
        join_presence(client, room_jid, f"st{index}")

    async def outcome(client: TestClient) -> Any:
        try:
            return await client.expect(_outcome(room_jid), timeout=bound)
        except TimeoutError:
            return None

    return list(await asyncio.gather(*(outcome(c) for c in clients)))


async def test_with_the_default_pacing_every_join_of_a_storm_completes(
        irc_settings, crowd, plain_ngircd):
    channel = unique("#storm")
    async with running_gateway(irc_settings(irc_server=plain_ngircd, queue_timeout=25.0)):
        clients = await crowd(USERS)
        started = time.monotonic()
        results = await _storm(clients, room(channel, plain_ngircd.host), 25.0)
        elapsed = time.monotonic() - started
        pending = sum(r is None for r in results)
        errors = [r["error"]["condition"] for r in results if r is not None
                  and r["type"] == "error"]
        assert (pending, errors) == (0, []), f"{pending} pending, errors {errors}"
        # 60 at 10 new connections per second: the pacing shows, and it is all it costs.
        assert 4.0 < elapsed < 20.0, f"took {elapsed:.1f} s"


async def test_a_storm_against_a_throttling_server_ends_every_join(
        irc_settings, crowd, throttling_ngircd):
    channel = unique("#throttled")
    settings = irc_settings(irc_server=throttling_ngircd, queue_timeout=12.0,
                            connects_per_second=30.0, max_connecting=10)
    async with running_gateway(settings):
        clients = await crowd(USERS)
        started = time.monotonic()
        results = await _storm(clients, room(channel, throttling_ngircd.host), 25.0)
        elapsed = time.monotonic() - started
        assert sum(r is None for r in results) == 0, "no join is left pending"
        joined = [r for r in results if r["type"] != "error"]
        refused = [r for r in results if r["type"] == "error"]
        assert len(joined) == PER_IP_LIMIT
        conditions = {r["error"]["condition"] for r in refused}
        assert conditions <= {"service-unavailable", "remote-server-timeout"}, conditions
        assert all(r["error"]["text"] for r in refused), "each error says why"
        assert elapsed < 20.0, f"took {elapsed:.1f} s"


async def test_a_connect_the_server_closes_before_welcome_is_retried_until_it_joins(
        irc_settings, users, peers, one_per_ip_ngircd):
    """The server drops the gateway's connection during registration (its per-IP limit is
    taken): the first connection of a session is retried with backoff, and the join
    completes once the server lets it in."""
    server = one_per_ip_ngircd
    blocker = await peers(server)
    async with running_gateway(irc_settings(irc_server=server, queue_timeout=20.0)):
        alice = await users()
        rjid = room(unique("#retry"), server.host)
        join_presence(alice, rjid, "aliceretry")
        await alice.expect(lambda s: s.name == "message" and s["from"].bare.endswith(GW)
                           and "Reconnecting in" in (s["body"] or ""), timeout=10)
        blocker.close()
        got = await alice.expect(_outcome(rjid), timeout=15)
        assert got["type"] != "error", got


async def test_a_join_waiting_on_a_link_that_stays_down_ends_in_an_error(
        irc_settings, users, plain_ngircd):
    """The server went away; the session keeps reconnecting. A new join must not wait for
    it forever: after ``queue_timeout`` it gets an error presence with a text."""
    async with running_gateway(irc_settings(irc_server=plain_ngircd, queue_timeout=3.0)):
        alice = await users()
        first = room(unique("#up"), plain_ngircd.host)
        await join(alice, first, "alicedown")
        await plain_ngircd.astop()
        await alice.expect(lambda s: s.name == "message" and "Connection lost" in (
            s["body"] or ""), timeout=10)
        second = room(unique("#later"), plain_ngircd.host)
        started = time.monotonic()
        join_presence(alice, second, "alicedown")
        got = await alice.expect(_outcome(second), timeout=10)
        assert got["type"] == "error"
        assert got["error"]["condition"] == "remote-server-timeout"
        assert got["error"]["text"]
        assert 2.5 < time.monotonic() - started < 6.0
