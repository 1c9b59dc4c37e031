"""User lifecycle hooks through a real Prosody: online and offline per user, not per
resource; across a restart of the gateway; and on unregistration."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from transport.backends.echo import EchoBackend
from transport.core.events import Registration
from transport.testing.gateway import ComponentSpec, running_gateway
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register, unregister

pytestmark = pytest.mark.timeout(60)

GW = "echo.localhost"
Call = tuple[str, ...]


@pytest.fixture
def recorded(gateway_settings):
    """(settings for an echo gateway that records its lifecycle hooks, the calls)."""
    calls: list[Call] = []

    class RecordingEcho(EchoBackend):
        async def on_registered(self, user: str, registration: Registration,
                                previous: Registration | None) -> None:
            calls.append(("registered", user))
            await super().on_registered(user, registration, previous)

        async def on_user_online(self, user: str) -> None:
            calls.append(("online", user))
            await super().on_user_online(user)

        async def on_user_offline(self, user: str) -> None:
            calls.append(("offline", user))
            await super().on_user_offline(user)

        async def on_unregistered(self, user: str, registration: Registration) -> None:
            calls.append(("unregistered", user))
            await super().on_unregistered(user, registration)

    settings = gateway_settings(component=ComponentSpec(RecordingEcho, GW, "echo-secret"))
    return settings, calls


async def wait_for(calls: list[Call], expected: list[Call], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while calls != expected:
        if time.monotonic() > deadline or len(calls) > len(expected):
            raise AssertionError(f"hooks called: {calls}, expected {expected}")
        await asyncio.sleep(0.02)


async def quiet(app) -> None:
    """Return once the server routed what it had for us and every hook call ran."""
    runtime = app.runtimes[0]
    await runtime.xmpp.barrier("localhost")
    await runtime.gateway.lifecycle.settled()


async def second_resource(client: TestClient, prosody, resource: str) -> TestClient:
    other = TestClient(f"{client.boundjid.bare}/{resource}", "pw", "127.0.0.1",
                       prosody.c2s_port)
    await other.login()
    return other


async def test_two_resources_give_one_online_and_one_offline(recorded, users, prosody):
    settings, calls = recorded
    async with running_gateway(settings) as app:
        alice = await users(resource="phone")
        user = str(alice.boundjid.bare)
        await register(alice, GW, username="alice")
        await wait_for(calls, [("registered", user), ("online", user)])
        laptop = await second_resource(alice, prosody, "laptop")
        await asyncio.sleep(0.3)
        await quiet(app)
        assert set(app.runtimes[0].presence.online[user]) == {"phone", "laptop"}
        await alice.logout()
        await asyncio.sleep(0.3)
        await quiet(app)
        assert calls == [("registered", user), ("online", user)], "the laptop is still on"
        await laptop.logout()
        await wait_for(calls, [("registered", user), ("online", user), ("offline", user)])
        assert await app.store.online_users.list(GW) == []


async def test_a_user_online_through_a_restart_is_not_announced_twice(recorded, users):
    settings, calls = recorded
    async with running_gateway(settings):
        alice = await users()
        user = str(alice.boundjid.bare)
        await register(alice, GW, username="alice")
        await wait_for(calls, [("registered", user), ("online", user)])
    assert calls == [("registered", user), ("online", user)], "a stop logs nobody out"
    async with running_gateway(settings) as app:
        await quiet(app)
        assert calls == [("registered", user), ("online", user)]
        assert user in app.runtimes[0].presence.online
        await alice.logout()
        await wait_for(calls, [("registered", user), ("online", user), ("offline", user)])


async def test_a_user_who_left_during_a_restart_is_offline_after_the_start(recorded, users):
    settings, calls = recorded
    async with running_gateway(settings):
        alice, bob = await users(), await users()
        gone, stays = str(alice.boundjid.bare), str(bob.boundjid.bare)
        await register(alice, GW, username="alice")
        await wait_for(calls, [("registered", gone), ("online", gone)])
        await register(bob, GW, username="bob")
        await wait_for(calls, [("registered", gone), ("online", gone), ("registered", stays),
                               ("online", stays)])
    await alice.logout()
    async with running_gateway(settings) as app:
        await quiet(app)
        assert calls[4:] == [("offline", gone)]
        assert await app.store.online_users.list(GW) == [stays]


async def test_a_user_who_came_during_a_restart_is_online_after_the_start(recorded, users):
    settings, calls = recorded
    async with running_gateway(settings):
        alice = await users()
        user = str(alice.boundjid.bare)
        await register(alice, GW, username="alice")
        await wait_for(calls, [("registered", user), ("online", user)])
        await alice.logout()
        await wait_for(calls, [("registered", user), ("online", user), ("offline", user)])
    await alice.login()
    async with running_gateway(settings):
        await wait_for(calls, [("registered", user), ("online", user), ("offline", user),
                               ("online", user)])


async def test_unregistering_an_online_user_ends_with_offline_then_unregistered(
        recorded, users):
    settings, calls = recorded
    async with running_gateway(settings) as app:
        alice = await users()
        user = str(alice.boundjid.bare)
        await register(alice, GW, username="alice")
        await wait_for(calls, [("registered", user), ("online", user)])
        await unregister(alice, GW)
        assert calls == [("registered", user), ("online", user), ("offline", user),
                         ("unregistered", user)], "both ran before the answer"
        await asyncio.sleep(0.3)
        await quiet(app)
        assert len(calls) == 4, "the server's goodbye presences change nothing"
        assert await app.store.online_users.list(GW) == []


async def test_a_re_registration_that_changes_nothing_calls_nothing(recorded, users):
    settings, calls = recorded
    async with running_gateway(settings) as app:
        alice = await users()
        user = str(alice.boundjid.bare)
        await register(alice, GW, username="alice")
        await wait_for(calls, [("registered", user), ("online", user)])
        await register(alice, GW, username="alice")
        await quiet(app)
        assert calls == [("registered", user), ("online", user)]
        await register(alice, GW, username="Alice")
        await wait_for(calls, [("registered", user), ("online", user), ("registered", user)])


async def test_the_echo_backend_logs_its_users_coming_and_going(gateway, users, caplog):
    with caplog.at_level(logging.INFO, logger="transport.backends.echo"):
        alice = await users()
        user = str(alice.boundjid.bare)
        await register(alice, GW, username="alice")
        await wait_for_log(caplog, f"{user} came online")
        await alice.logout()
        await wait_for_log(caplog, f"{user} went offline")
    lines = [r.getMessage() for r in caplog.records if r.name == "transport.backends.echo"]
    assert [line.split(":")[0] for line in lines] == [
        f"{user} registered as alice", f"{user} came online", f"{user} went offline"]


async def wait_for_log(caplog, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in r.getMessage() for r in caplog.records):
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line with {text!r}")
        await asyncio.sleep(0.02)


async def test_a_reconnect_of_the_stream_finds_who_left_while_it_was_down(recorded, users):
    settings, calls = recorded
    async with running_gateway(settings) as app:
        alice, bob = await users(), await users()
        gone, stays = str(alice.boundjid.bare), str(bob.boundjid.bare)
        await register(alice, GW, username="alice")
        await wait_for(calls, [("registered", gone), ("online", gone)])
        await register(bob, GW, username="bob")
        before = [("registered", gone), ("online", gone), ("registered", stays),
                  ("online", stays)]
        await wait_for(calls, before)
        xmpp = app.runtimes[0].xmpp
        await xmpp.stop()
        await alice.logout()
        xmpp.start()
        await asyncio.wait_for(xmpp.online.wait(), 10)
        await quiet(app)
        assert calls == [*before, ("offline", gone)]
        assert set(app.runtimes[0].presence.online) == {stays}


async def test_after_a_restart_the_backend_reads_who_stayed_online(
        gateway_settings, users, caplog):
    calls: list[Call] = []

    class RestoringEcho(EchoBackend):
        async def start(self) -> None:
            calls.append(("start", *await self.ctx.online_users()))
            await super().start()

        async def on_user_online(self, user: str) -> None:
            calls.append(("online", user))
            await super().on_user_online(user)

    settings = gateway_settings(component=ComponentSpec(RestoringEcho, GW, "echo-secret"))
    async with running_gateway(settings):
        alice = await users()
        user = str(alice.boundjid.bare)
        await register(alice, GW, username="alice")
        await wait_for(calls, [("start",), ("online", user)])
    with caplog.at_level(logging.INFO, logger="transport.backends.echo"):
        async with running_gateway(settings) as app:
            await quiet(app)
            assert calls == [("start",), ("online", user), ("start", user)], \
                "seen as online at start, and not announced a second time"
            assert user in app.runtimes[0].presence.online
    assert any(r.getMessage().startswith(f"{user} stayed online through a restart")
               for r in caplog.records if r.name == "transport.backends.echo")
