"""Metrics through each backend: one gateway with its echo, SMS and IRC components, a round
trip through each, and the figures on ``/metrics`` moved by exactly what was sent. The
Grafana dashboard in ``contrib/`` uses only metric names the gateway exposes."""

import asyncio
import dataclasses
import json
import re
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_irc_support import SECRET as IRC_SECRET
from test_irc_support import irc_options, join, room, unique
from test_sms_support import CONTACT, POOL, PUBLIC, sms_options
from test_sms_support import SECRET as SMS_SECRET

from transport.config import MetricsSettings
from transport.testing.gateway import ComponentSpec, build_settings, running_gateway
from transport.testing.xmpp_steps import register, send_chat

pytest_plugins = ("test_sms_support", "test_irc_support")
pytestmark = pytest.mark.slow

DASHBOARD = Path(__file__).resolve().parents[2] / "contrib" / "grafana" / "xmpp-transport.json"
SMS, IRC, ECHO = "sms.localhost", "irc.localhost", "echo.localhost"


async def scrape(app) -> dict[tuple[str, tuple], float]:
    async with aiohttp.ClientSession() as http, http.get(app.ops.url + "/metrics") as resp:
        text = await resp.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples, name, **labels):
    return samples.get((f"xmpp_transport_{name}", tuple(sorted(labels.items()))), 0.0)


def moved(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


async def until(predicate, timeout=15.0):
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.1)


@pytest.fixture
def three_components(prosody, ngircd, standin, tmp_path):
    specs = [ComponentSpec("echo", ECHO, "echo-secret"),
             ComponentSpec("sms", SMS, SMS_SECRET, sms_options(standin)),
             ComponentSpec("irc", IRC, IRC_SECRET, irc_options(ngircd))]
    settings = build_settings("127.0.0.1", prosody.component_port, tmp_path / "gw.sqlite3",
                              specs, admins=["admin@localhost"])
    return dataclasses.replace(settings, metrics=MetricsSettings("127.0.0.1", 0))


async def test_each_backend_moves_its_figures_by_exactly_what_was_sent(
        three_components, users, standin, peers, ngircd):
    async with running_gateway(three_components) as app:
        sms = next(r for r in app.runtimes if r.backend_name == "sms").gateway
        standin.route_url(PUBLIC, sms.backend.webhook.local_url)
        alice = await users()
        await register(alice, SMS, phone=POOL[0])
        await alice.expect_presence(SMS, "subscribe")
        before = await scrape(app)

        send_chat(alice, f"{CONTACT}@{SMS}", "two texts", receipt=False)
        send_chat(alice, f"{CONTACT}@{SMS}", "of one segment each", receipt=False)
        result = await standin.send_inbound(POOL[0], CONTACT, "a reply")
        assert result.status == 200
        await alice.expect_message(sender=f"{CONTACT}@{SMS}", body="a reply")

        channel = unique("#metrics")
        bob = await peers(ngircd)
        await bob.join(channel)
        await join(alice, room(channel), "alicem")
        alice.send_message(mto=room(channel), mbody="to irc", mtype="groupchat")
        await bob.wait(lambda e: e.command == "PRIVMSG" and e.param(1) == "to irc")
        await bob.send(f"PRIVMSG {channel} :from irc")
        await alice.expect_message(body="from irc")

        async def settled():
            now = await scrape(app)
            return (moved(before, now, "messages_total", backend="sms", direction="to_legacy")
                    == 2 and moved(before, now, "messages_total", backend="sms",
                                   direction="to_xmpp") >= 1
                    and moved(before, now, "messages_total", backend="irc",
                              direction="to_xmpp") >= 2)

        await until(settled)
        after = await scrape(app)
        assert moved(before, after, "messages_total", backend="sms", direction="to_legacy") == 2
        assert moved(before, after, "messages_total", backend="sms", direction="to_xmpp") == 1
        assert moved(before, after, "delivery_seconds_count", backend="sms",
                     direction="to_legacy") == 2
        assert moved(before, after, "sms_twilio_requests_total", status="201", code="") == 2
        assert moved(before, after, "sms_messages_today") == 2
        assert moved(before, after, "sms_segments_today") == 2
        assert moved(before, after, "messages_total", backend="irc", direction="to_legacy") == 1
        assert moved(before, after, "irc_joins_total") == 1
        assert value(after, "irc_connections") == 1
        assert value(after, "xmpp_stream_up", backend="irc") == 1
        assert moved(before, after, "store_commit_seconds_count") > 0
        assert value(after, "queue_depth", backend="sms", queue="outbox") == 0

        admin = await users(name="admin")
        stats = (await admin.plugin["xep_0050"].send_command(SMS, "stats"))["command"]
        note = stats["notes"][0][1]
        sent = int(value(after, "messages_total", backend="sms", direction="to_legacy"))
        assert f"messages sent to the legacy network: {sent}" in note, "the same source"
        requests = int(value(after, "sms_twilio_requests_total", status="201", code=""))
        assert f"sms twilio requests total (code -, status 201): {requests}" in note


async def test_the_dashboard_uses_only_names_the_gateway_exposes(three_components):
    async with running_gateway(three_components) as app:
        exposed = {name for name, _ in await scrape(app)}
    dashboard = json.loads(DASHBOARD.read_text())
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"xmpp_transport_[a-z_]+", target["expr"]))
    assert used, "the dashboard has queries"
    missing = sorted(n for n in used if n not in exposed
                     and not any(e.startswith(n + "_") for e in exposed))
    assert not missing, f"dashboard metrics the gateway does not expose: {missing}"
