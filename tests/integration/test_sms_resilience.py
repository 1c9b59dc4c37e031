"""Crashes and outages while Twilio keeps calling: every text answered 200 is delivered."""

import asyncio
import contextlib
import itertools

import pytest
from test_sms_support import (
    CONTACT,
    GW,
    POOL,
    PUBLIC,
    SECRET,
    contact_jid,
    sms_options,
    sms_toml,
)

from transport.testing.gateway import ComponentSpec, GatewayProcess, write_config
from transport.testing.servers.ports import free_port, wait_for_port_async
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register

pytest_plugins = ("test_sms_support",)
pytestmark = pytest.mark.slow
BODY = "confidential"


class Texter:
    """Texts the gateway from several concurrent "phones" until told to stop."""

    def __init__(self, standin, lanes: int = 4, online=None) -> None:
        self.standin = standin
        self.lanes = lanes
        self.online = online
        self.accepted_offline = 0
        self.accepted: list[str] = []
        self.refused: list[str] = []
        self._counter = itertools.count()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.ensure_future(self._lane()) for _ in range(self.lanes)]

    async def _lane(self) -> None:
        while not self._stop.is_set():
            body = f"{BODY} {next(self._counter)}"
            result = await self.standin.send_inbound(POOL[0], CONTACT, body)
            (self.accepted if result.status == 200 else self.refused).append(body)
            if result.status == 200 and self.online is not None and not self.online():
                self.accepted_offline += 1
            if result.status != 200:
                await asyncio.sleep(0.02)

    async def until_accepted(self, count: int, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.accepted) < count:
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


async def collect(client: TestClient, wanted: set[str], timeout: float = 30.0) -> set[str]:
    """Bodies from the contact until every wanted one arrived (duplicates allowed)."""
    seen: set[str] = set()
    async with asyncio.timeout(timeout):
        while not wanted <= seen:
            msg = await client.expect_message(sender=contact_jid(CONTACT), timeout=timeout)
            seen.add(msg["body"])
    return seen


async def login(server, name: str) -> TestClient:
    client = TestClient(f"{name}@{server.domain}/again", "pw", "127.0.0.1", server.c2s_port)
    await client.login()
    return client


async def test_sigkill_while_webhooks_arrive_loses_nothing_answered_200(
    prosody, standin, users, tmp_path
):
    port = free_port()
    options = sms_options(standin, webhook={"listen_port": port})
    top, tables = sms_toml(options)
    config = write_config(tmp_path / "gw.toml", "127.0.0.1", prosody.component_port,
                          tmp_path / "gw.sqlite3", [ComponentSpec("sms", GW, SECRET, top)],
                          allowed_domains=[prosody.domain], extra=tables)
    standin.route_url(PUBLIC, f"http://127.0.0.1:{port}")
    first = GatewayProcess(config, tmp_path / "gw1.log", log_level="INFO")
    second = GatewayProcess(config, tmp_path / "gw2.log", log_level="INFO")
    first.start()
    texter = Texter(standin)
    try:
        alice = await users()
        for _ in range(200):
            with contextlib.suppress(Exception):
                await register(alice, GW, phone=POOL[0])
                break
            await asyncio.sleep(0.05)
        texter.start()
        await texter.until_accepted(40)
        first.kill()
        accepted_before_kill = len(texter.accepted)
        await asyncio.sleep(0.3)
        second.start()
        await wait_for_port_async("127.0.0.1", port, timeout=20)
        await texter.until_accepted(accepted_before_kill + 40)
        await texter.stop()
        assert texter.refused, "some webhooks must have hit the dead gateway"
        seen = await collect(alice, set(texter.accepted))
        assert set(texter.accepted) <= seen
        for log in (first.log_text(), second.log_text()):
            assert BODY not in log, "bodies are never logged at INFO"
    finally:
        with contextlib.suppress(Exception):
            await texter.stop()
        first.kill()
        second.kill()
    assert "Traceback" not in second.log_text()


async def test_prosody_restart_while_webhooks_arrive(fresh_prosody, sms_gateway, users):
    server = fresh_prosody({GW: SECRET})
    async with sms_gateway(server) as gw:
        alice = await users(server=server)
        await register(alice, GW, phone=POOL[0])
        name = alice.boundjid.user
        await alice.logout()
        xmpp = gw.app.runtimes[0].xmpp
        sessions: list[object] = []
        xmpp.add_event_handler("session_start", sessions.append)
        texter = Texter(gw.standin, online=xmpp.online.is_set)
        texter.start()
        await texter.until_accepted(20)
        await server.arestart()
        await texter.until_accepted(len(texter.accepted) + 20)
        async with asyncio.timeout(20):
            while not sessions:
                await asyncio.sleep(0.02)
        await texter.until_accepted(len(texter.accepted) + 20)
        await texter.stop()
        assert not texter.refused, "the webhook side never depends on the XMPP server"
        assert texter.accepted_offline > 0, "some texts arrived while the component was down"
        again = await login(server, name)
        try:
            assert set(texter.accepted) <= await collect(again, set(texter.accepted))
        finally:
            await again.logout()
