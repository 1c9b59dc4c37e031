"""Private messages while the IRC server drops the user's link: the gateway keeps answering,
and every message is sent after the reconnect or answered with an error — never a loop that
holds the process (real Prosody, a scripted IRC server that closes the link on cue)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from test_irc_scripted import ScriptedClient, ScriptedIrcServer
from test_irc_support import GW, SECRET, nick_jid

from transport.testing.gateway import ComponentSpec, running_gateway

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)
HOST = "127.0.0.1"


class LoopLag:
    """Measures how late the event loop runs a 10 ms timer, for as long as it runs."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _measure(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.monotonic() - before - 0.01)

    def __enter__(self) -> LoopLag:
        self._task = asyncio.ensure_future(self._measure())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def settings_for(gateway_settings: Callable[..., Any], port: int, **extra: Any) -> Any:
    options: dict[str, Any] = {
        "servers": {HOST: {"port": port, "tls": False}},
        "throttle_limit": 3,  # a burst of 3, then 1 line/s: later lines wait in the writer
        "reconnect_max_delay": 1.0,
        "queue_timeout": 30.0,
    }
    options.update(extra)
    return gateway_settings(component=ComponentSpec("irc", GW, SECRET, options))


def bodies(server: ScriptedIrcServer, client: ScriptedClient | None = None) -> list[str]:
    lines = client.received("PRIVMSG") if client else server.all_lines("PRIVMSG")
    return [line.partition(" :")[2] for line in lines]


@pytest.fixture
async def flood_then_close() -> AsyncIterator[ScriptedIrcServer]:
    """On the third PRIVMSG of the first connection the server sends a flood of private
    messages and closes the link while the gateway still has lines waiting to be written.
    With more events than the session handles in one batch, the end of the connection waits
    in its inbox for a while: the session still looks connected to a retrying writer."""

    async def hook(client: ScriptedClient, _line: str) -> None:
        if client is server.clients[0] and len(client.received("PRIVMSG")) == 3:
            client.send(*(f":bob!~b@h PRIVMSG {client.nick} :flood {n}" for n in range(1200)))
            await client.writer.drain()
            client.close()

    async with ScriptedIrcServer(hook) as server:
        yield server


# A regression here is a loop that never yields: only the thread method can end the test.
@pytest.mark.timeout(60, method="thread")
async def test_link_closed_while_private_messages_are_written(
        gateway_settings, users, flood_then_close):
    server = flood_then_close
    async with running_gateway(settings_for(gateway_settings, server.port)):
        alice = await users()
        wanted = [f"m{n}" for n in range(8)]
        with LoopLag() as lag:
            for body in wanted:
                alice.make_message(mto=nick_jid("target", HOST), mbody=body, mtype="chat").send()
            await server.wait(lambda: len(server.clients) > 1 and set(wanted) <= set(
                bodies(server)), timeout=30)
            info = await alice.query(alice.make_iq_get(queryxmlns=(
                "http://jabber.org/protocol/disco#info"), ito=GW), timeout=5)
            assert info["type"] == "result"
        # Handling the flood costs the loop about 0.1 s here; a retry that spins never yields.
        assert lag.worst < 0.5, f"the event loop stalled for {lag.worst:.3f} s"
        after = bodies(server, server.clients[1])
        assert after == sorted(after, key=wanted.index), "resent lines keep their order"


@pytest.mark.timeout(60, method="thread")
async def test_a_link_that_keeps_failing_ends_in_an_error(gateway_settings, users):
    """Every connection is closed right after registration, before a line gets out: after
    ``queue_timeout`` the user gets an error stanza instead of endless resending."""
    async with ScriptedIrcServer(drop_after_welcome=True) as server, running_gateway(
            settings_for(gateway_settings, server.port, queue_timeout=3.0)):
        alice = await users()
        msg = alice.make_message(mto=nick_jid("target", HOST), mbody="doomed", mtype="chat")
        msg["id"] = "doomed-1"
        started = time.monotonic()
        msg.send()
        error = await alice.expect(lambda s: s.name == "message" and s["type"] == "error"
                                   and s["id"] == "doomed-1", timeout=20)
        assert error["error"]["condition"] == "remote-server-timeout"
        assert time.monotonic() - started < 15
        assert len(server.clients) >= 2, "the gateway reconnected in between"
        assert not server.all_lines("PRIVMSG")
