"""``[metrics]``: Prometheus figures that move by exactly what was relayed, ``/healthz`` that
follows the XMPP server, and the ``/status`` page."""

import asyncio
import dataclasses
import json
import shutil
import subprocess
import time

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from transport.config import MetricsSettings
from transport.testing.gateway import running_gateway
from transport.testing.xmpp_steps import register, send_chat

GW = "echo.localhost"
BOB = f"bob@{GW}"

pytestmark = pytest.mark.slow


def with_metrics(settings):
    return dataclasses.replace(settings, metrics=MetricsSettings("127.0.0.1", 0))


async def get(app, path):
    async with aiohttp.ClientSession() as http, http.get(app.ops.url + path) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def scrape(app) -> dict[tuple[str, tuple], float]:
    status, content_type, text = await get(app, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples, name, **labels):
    return samples.get((f"xmpp_transport_{name}", tuple(sorted(labels.items()))), 0.0)


async def wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def test_a_round_trip_moves_the_counters_by_exactly_what_was_sent(
        gateway_settings, users):
    async with running_gateway(with_metrics(gateway_settings())) as app:
        alice = await users()
        await register(alice, GW, username="alice")
        before = await scrape(app)
        for i in range(3):
            send_chat(alice, BOB, f"hello {i}")
        for i in range(3):
            await alice.expect_message(sender=BOB, body=f"hello {i}")

        async def confirmed():
            now = await scrape(app)
            return (value(now, "messages_total", backend="echo", direction="to_xmpp")
                    - value(before, "messages_total", backend="echo", direction="to_xmpp")) >= 3

        await wait_until(confirmed)
        after = await scrape(app)
        for direction in ("to_legacy", "to_xmpp"):
            assert value(after, "messages_total", backend="echo", direction=direction) - \
                value(before, "messages_total", backend="echo", direction=direction) == 3
        assert value(after, "xmpp_stream_up", backend="echo") == 1
        assert value(after, "queue_depth", backend="echo", queue="outbox") == 0
        assert value(after, "event_loop_lag_seconds") >= 0


async def test_healthz_follows_the_xmpp_server(fresh_prosody, gateway_settings):
    server = fresh_prosody()
    async with running_gateway(with_metrics(gateway_settings(server))) as app:
        status, content_type, body = await get(app, "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert content_type.startswith("application/json")
        server.stop()

        async def unhealthy():
            return (await get(app, "/healthz"))[0] == 503

        await wait_until(unhealthy)
        status, _, body = await get(app, "/healthz")
        reasons = json.loads(body)["reasons"]
        assert {"component": GW, "problem": "stream to the XMPP server is down"} in reasons
        server.start()

        async def healthy():
            return (await get(app, "/healthz"))[0] == 200

        await wait_until(healthy, timeout=30)
        after = await scrape(app)
        assert value(after, "xmpp_stream_reconnects_total", backend="echo") == 1


async def test_status_page_shows_the_components(gateway_settings):
    async with running_gateway(with_metrics(gateway_settings())) as app:
        status, content_type, page = await get(app, "/status")
        assert status == 200
        assert content_type.startswith("text/html")
        assert GW in page
        assert "healthy" in page


def chromium(*args: str) -> str:
    """Headless Chromium's output for ``args`` (the page's DOM, or a screenshot's log)."""
    binary = shutil.which("chromium")
    assert binary, "chromium is installed by scripts/bootstrap"
    result = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--user-data-dir=" + args[0], *args[1:]],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


async def test_status_page_in_a_browser_shows_what_was_relayed(gateway_settings, users,
                                                                tmp_path):
    async with running_gateway(with_metrics(gateway_settings())) as app:
        alice = await users()
        await register(alice, GW, username="alice")
        for i in range(4):
            send_chat(alice, BOB, f"browser {i}")
        for i in range(4):
            await alice.expect_message(sender=BOB, body=f"browser {i}")

        async def confirmed():
            now = await scrape(app)
            return value(now, "messages_total", backend="echo", direction="to_xmpp") >= 4

        await wait_until(confirmed)
        dom = await asyncio.to_thread(chromium, str(tmp_path / "profile"), "--dump-dom",
                                      app.ops.url + "/status")
        assert "Gateway <span class=\"ok\">healthy</span>" in dom
        row = dom[dom.index("<td>echo.localhost</td>"):]
        row = row[:row.index("</tr>")]
        cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
        # component, stream, to XMPP, to legacy, ...
        assert cells[:4] == ["echo.localhost", '<span class="ok">up</span>', "4", "4"]


async def test_status_details_count_users_online_and_messages_queued(gateway_settings, users):
    async with running_gateway(gateway_settings()) as app:
        assert await app.status_details() == "0 users online; 0 messages queued"
        alice = await users()
        # After registering, the gateway asks for the user's presence (XEP-0100): the client
        # approves on receipt, and the server sends the user's presence to the gateway
        # (RFC 6121 3.1.5). Approved after the directed unavailable below, that makes the
        # user available to the gateway again, and rightly counted online: wait for the
        # request first. The client does not subscribe back: the gateway's answer to that
        # may ask again, and the server answers a repeated request with the presence too.
        alice.auto_subscribe = False
        await register(alice, GW, username="alice")
        await alice.expect_presence(GW, "subscribe")
        alice.send_presence(pto=GW)

        async def online():
            return await app.status_details() == "1 users online; 0 messages queued"

        await wait_until(online)
        alice.send_presence(pto=GW, ptype="unavailable")

        async def gone():
            return await app.status_details() == "0 users online; 0 messages queued"

        await wait_until(gone)
