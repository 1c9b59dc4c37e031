"""Reconnects, outages and shutdowns, each against its own Prosody."""

import asyncio
import os
import signal
import time

import pytest

from transport.core.events import XmppMessage
from transport.testing.gateway import ComponentSpec, GatewayProcess, running_gateway, write_config
from transport.testing.xmpp_steps import register, send_chat

GW = "echo.localhost"
BOB = f"bob@{GW}"

pytestmark = pytest.mark.slow


async def wait_until(predicate, timeout=15.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(step)
    raise AssertionError("condition not reached in time")


async def test_reconnects_after_prosody_restart(fresh_prosody, gateway_settings, users):
    server = fresh_prosody()
    async with running_gateway(gateway_settings(server)) as app:
        xmpp = app.runtimes[0].xmpp
        server.restart()
        await wait_until(lambda: not xmpp.online.is_set(), timeout=10)
        started = time.monotonic()
        await wait_until(xmpp.online.is_set, timeout=15)
        assert time.monotonic() - started < 8, "reconnect must take seconds, not minutes"
        alice = await users(server=server)
        await register(alice, GW, username="alice")
        send_chat(alice, BOB, "after restart")
        await alice.expect_message(sender=BOB, body="after restart")


async def test_messages_queued_while_prosody_is_down_are_delivered(
    fresh_prosody, gateway_settings, users
):
    server = fresh_prosody()
    async with running_gateway(gateway_settings(server)) as app:
        gw = app.runtimes[0].gateway
        alice = await users(server=server)
        await register(alice, GW, username="alice")
        jid = alice.boundjid.bare
        await alice.logout()
        server.kill()
        await wait_until(lambda: not gw.xmpp.online.is_set(), timeout=10)
        await gw.deliver_many([
            XmppMessage(to=jid, sender=BOB, body=f"queued {i}") for i in range(5)
        ])
        assert await gw.store.xmpp_queue.count(GW) == 5
        server.start()
        await wait_until(gw.xmpp.online.is_set, timeout=15)
        await wait_until(lambda: gw.pump.delivered >= 5, timeout=10)
        assert await gw.store.xmpp_queue.count(GW) == 0
        alice = await users(server=server, name=jid.split("@")[0])
        bodies = []
        for _ in range(5):
            bodies.append((await alice.expect_message(sender=BOB))["body"])
        assert bodies == [f"queued {i}" for i in range(5)]


async def test_stanzas_lost_with_a_killed_server_are_sent_again(
    fresh_prosody, gateway_settings, users
):
    """A batch written to the socket but never confirmed by the server is resent."""
    server = fresh_prosody()
    async with running_gateway(gateway_settings(server, ping_timeout=2.0)) as app:
        gw = app.runtimes[0].gateway
        alice = await users(server=server)
        await register(alice, GW, username="alice")
        jid = alice.boundjid.bare
        await alice.logout()
        os.kill(server.pid, signal.SIGSTOP)
        await gw.deliver(XmppMessage(to=jid, sender=BOB, body="in flight"))
        await asyncio.sleep(0.5)
        assert await gw.store.xmpp_queue.count(GW) == 1, "not done before the server answered"
        server.kill()
        server.start()
        await wait_until(lambda: gw.pump.delivered >= 1, timeout=20)
        alice = await users(server=server, name=jid.split("@")[0])
        msg = await alice.expect_message(sender=BOB, body="in flight")
        assert msg["origin_id"]["id"] == msg["id"]


async def test_clean_shutdown_on_sigterm(fresh_prosody, users, tmp_path):
    server = fresh_prosody()
    config = write_config(
        tmp_path / "gw.toml", "127.0.0.1", server.component_port, tmp_path / "gw.sqlite3",
        [ComponentSpec("echo", GW, "echo-secret")],
    )
    proc = GatewayProcess(config, tmp_path / "gw.log")
    proc.start()
    try:
        alice = await users(server=server)
        for _ in range(100):
            try:
                await register(alice, GW, username="alice")
                break
            except Exception:
                await asyncio.sleep(0.1)
        await alice.expect_presence(GW, None)
        send_chat(alice, BOB, "before shutdown")
        await alice.expect_message(sender=BOB, body="before shutdown")
        code = await asyncio.get_running_loop().run_in_executor(None, proc.terminate)
        assert code == 0, proc.log_text()[-2000:]
        await alice.expect_presence(GW, "unavailable")
        assert "Traceback" not in proc.log_text()
    finally:
        proc.kill()


async def test_keepalive_drops_a_half_open_link(fresh_prosody, gateway_settings):
    """A server that stops answering (no FIN, no RST) is noticed by the ping keepalive."""
    server = fresh_prosody()
    settings = gateway_settings(server, keepalive_interval=0.5, ping_timeout=1.0)
    async with running_gateway(settings) as app:
        xmpp = app.runtimes[0].xmpp
        os.kill(server.pid, signal.SIGSTOP)
        try:
            await wait_until(lambda: not xmpp.online.is_set(), timeout=10)
        finally:
            os.kill(server.pid, signal.SIGCONT)
        await wait_until(xmpp.online.is_set, timeout=15)


async def test_gateway_started_before_the_server_connects_when_it_comes_up(
    fresh_prosody, gateway_settings, users
):
    server = fresh_prosody()
    server.stop()
    settings = gateway_settings(server)
    from transport.app import Application

    app = Application(settings)
    await app.start()
    try:
        await asyncio.sleep(1.5)
        assert not app.runtimes[0].xmpp.online.is_set()
        server.start()
        await app.runtimes[0].wait_online(15)
        alice = await users(server=server)
        await register(alice, GW, username="alice")
        send_chat(alice, BOB, "late start")
        await alice.expect_message(sender=BOB, body="late start")
    finally:
        await app.stop()


async def test_wrong_secret_is_retried_and_logged(fresh_prosody, gateway_settings, caplog):
    server = fresh_prosody()
    settings = gateway_settings(server, component=ComponentSpec("echo", GW, "not-the-secret"))
    from transport.app import Application

    app = Application(settings)
    await app.start()
    try:
        await wait_until(lambda: "closed the stream" in caplog.text, timeout=10)
        await wait_until(lambda: caplog.text.count("closed the stream") >= 2, timeout=10)
        assert not app.runtimes[0].xmpp.online.is_set()
    finally:
        await app.stop()
