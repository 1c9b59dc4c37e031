"""Pacing of new IRC connections per host: attempts in flight and new attempts per second,
and the config keys that set them (with a default under [irc] and one per server); which
failed connects are worth another attempt."""

from __future__ import annotations

import asyncio
import itertools
import ssl

import pytest

from transport.backends.irc.config.settings import (
    DEFAULT_CONNECTS_PER_SECOND,
    DEFAULT_MAX_CONNECTING,
    ServerConfig,
    parse_settings,
)
from transport.backends.irc.protocol import IrcConnectionError
from transport.backends.irc.session.connecting import worth_retrying
from transport.backends.irc.session.pacing import ConnectPacer, HostGate


async def _storm(gate: HostGate, attempts: int, hold: float) -> tuple[list[float], int]:
    """Start ``attempts`` at once, each holding its slot ``hold`` s; when each got its slot
    (seconds after the start), and the most that held one at the same time."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    starts: list[float] = []
    most = 0

    async def attempt() -> None:
        nonlocal most
        async with gate.slot():
            starts.append(loop.time() - start)
            most = max(most, gate.in_flight)
            await asyncio.sleep(hold)

    await asyncio.gather(*(attempt() for _ in range(attempts)))
    assert gate.in_flight == 0 and gate.users == 0
    return sorted(starts), most


async def test_new_connections_follow_the_rate_after_one_second_worth_at_once() -> None:
    starts, _ = await _storm(HostGate(rate=20.0, max_connecting=100), 40, 0.0)
    assert len([t for t in starts if t < 0.02]) == 20, "the bucket holds one second's worth"
    assert starts[-1] == pytest.approx(1.0, abs=0.1), "then 20 more in the next second"
    gaps = [b - a for a, b in itertools.pairwise(starts[20:])]
    assert min(gaps) > 0.03, "one every 1/rate s, not in clumps"


async def test_attempts_in_flight_never_exceed_the_limit() -> None:
    starts, most = await _storm(HostGate(rate=1000.0, max_connecting=3), 9, 0.1)
    assert most == 3
    assert starts[-1] == pytest.approx(0.2, abs=0.06), "three rounds of three"


async def test_a_slow_rate_spaces_even_the_second_attempt() -> None:
    starts, _ = await _storm(HostGate(rate=1.0, max_connecting=10), 2, 0.0)
    assert starts[0] < 0.02
    assert starts[1] == pytest.approx(1.0, abs=0.1)


async def test_one_gate_per_host_shared_by_all_its_users() -> None:
    pacer = ConnectPacer()
    gate = pacer.gate("irc.example.net", 5.0, 2)
    assert pacer.gate("irc.example.net", 5.0, 2) is gate
    assert pacer.gate("irc.other.net", 5.0, 2) is not gate


async def test_idle_gates_are_dropped_once_many_hosts_were_seen() -> None:
    pacer = ConnectPacer()
    busy = pacer.gate("busy.example.net", 1.0, 1)
    async with busy.slot():
        for index in range(300):
            pacer.gate(f"h{index}.example.net", 1.0, 1)
        assert pacer.gate("busy.example.net", 1.0, 1) is busy, "a gate in use is kept"
        assert len(pacer._gates) < 300


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    gate = HostGate(rate=1000.0, max_connecting=1)
    holder_in = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with gate.slot():
            holder_in.set()
            await release.wait()

    async def waiter() -> None:
        async with gate.slot():
            pass

    held = asyncio.ensure_future(holder())
    await holder_in.wait()
    waiting = asyncio.ensure_future(waiter())
    await asyncio.sleep(0.01)
    waiting.cancel()
    release.set()
    await held
    assert gate.users == 0 and gate.in_flight == 0
    async with asyncio.timeout(1):
        async with gate.slot():
            pass


def test_pacing_keys_default_under_irc_and_per_server() -> None:
    settings = parse_settings({"connects_per_second": 2.5, "max_connecting": 4, "servers": {
        "irc.slow.net": {"port": 6667, "tls": False, "connects_per_second": 0.5},
        "irc.wide.net": {"max_connecting": 40},
        "irc.plain.net": {}}})
    assert settings.pacing(settings.servers["irc.slow.net"]) == (0.5, 4)
    assert settings.pacing(settings.servers["irc.wide.net"]) == (2.5, 40)
    assert settings.pacing(settings.servers["irc.plain.net"]) == (2.5, 4)
    defaults = parse_settings({})
    assert defaults.pacing(ServerConfig()) == (DEFAULT_CONNECTS_PER_SECOND,
                                               DEFAULT_MAX_CONNECTING)


def test_pacing_keys_are_checked_with_their_paths() -> None:
    with pytest.raises(ExceptionGroup) as err:
        parse_settings({"connects_per_second": 0, "max_connecting": 0, "servers": {
            "irc.bad.net": {"connects_per_second": "fast", "max_connecting": 1.5}}})
    assert sorted(e.key for e in err.value.exceptions) == [
        "connects_per_second", "max_connecting", 'servers."irc.bad.net".connects_per_second',
        'servers."irc.bad.net".max_connecting']


def _failure(text: str, cause: BaseException | None) -> IrcConnectionError:
    error = IrcConnectionError(text)
    error.__cause__ = cause
    return error


def test_only_failures_another_attempt_may_fix_are_retried() -> None:
    assert worth_retrying(_failure("Connection refused", ConnectionRefusedError()))
    assert worth_retrying(_failure("connection closed by server", None))
    assert worth_retrying(_failure("registration timed out", TimeoutError()))
    assert worth_retrying(_failure("EOF in handshake", ssl.SSLEOFError()))
    assert not worth_retrying(_failure("certificate verify failed",
                                       ssl.SSLCertVerificationError()))
    assert not worth_retrying(_failure("certificate fingerprint mismatch (...)", None))
    assert not worth_retrying(_failure("nickname alice is in use", None))
