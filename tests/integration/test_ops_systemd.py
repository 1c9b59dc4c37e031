"""systemd's notify protocol and the loop watchdog, against a real Prosody.

The test plays systemd: it binds the unix datagram socket named in ``NOTIFY_SOCKET`` and
records what the gateway sends, with the time each datagram arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from transport.app import serve
from transport.testing.gateway import ComponentSpec, GatewayProcess, write_config
from transport.testing.xmpp_steps import register, send_chat

GW = "echo.localhost"
BOB = f"bob@{GW}"

pytestmark = pytest.mark.slow


class FakeSystemd:
    """The receiving end of ``NOTIFY_SOCKET``: every datagram with its arrival time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.received: list[tuple[float, str]] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.received.append((time.monotonic(), self._sock.recv(4096).decode()))

    def times(self, assignment: str) -> list[float]:
        return [t for t, text in list(self.received) if assignment in text.split("\n")]

    async def wait_for(self, assignment: str, timeout: float = 15.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := self.times(assignment):
                return found[0]
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {assignment} in {self.received}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


@pytest.fixture
def systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSystemd]:
    fake = FakeSystemd(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(fake.path))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield fake
    fake.close()


async def test_the_run_command_reports_ready_heartbeats_and_stopping(
    systemd, prosody, users, tmp_path
):
    config = write_config(tmp_path / "gw.toml", "127.0.0.1", prosody.component_port,
                          tmp_path / "gw.sqlite3", [ComponentSpec("echo", GW, "echo-secret")])
    proc = GatewayProcess(config, tmp_path / "gw.log", log_level="INFO")
    proc.start()
    try:
        await systemd.wait_for("READY=1")
        assert f"Component {GW} connected" in proc.log_text()
        ready = [text for _, text in systemd.received if "READY=1" in text]
        assert ready == ["READY=1\nSTATUS=1/1 components connected; 0 users online; "
                         "0 messages queued"]
        alice = await users()
        await register(alice, GW, username="alice")  # at once: no retry needed after READY
        send_chat(alice, BOB, "ready")
        await alice.expect_message(sender=BOB, body="ready")
        await asyncio.sleep(1.0)
        beats = systemd.times("WATCHDOG=1")
        assert len(beats) >= 5, systemd.received
        assert max(b - a for a, b in itertools.pairwise(beats[-5:])) < 0.6
        code = await asyncio.get_running_loop().run_in_executor(None, proc.terminate)
        assert code == 0, proc.log_text()[-2000:]
        assert systemd.times("STOPPING=1")
    finally:
        proc.kill()


def hold_the_loop(seconds: float) -> None:
    """What a blocking call in a handler does: nothing else runs meanwhile."""
    time.sleep(seconds)


async def test_a_stuck_loop_stops_heartbeats_and_is_logged_with_what_ran(
    systemd, monkeypatch, gateway_settings, users, caplog
):
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    task = asyncio.ensure_future(serve(gateway_settings(), stop))
    try:
        ready_at = await systemd.wait_for("READY=1")
        alice = await users()
        await register(alice, GW, username="alice")
        await asyncio.sleep(0.5)
        blocked_at = time.monotonic()
        hold_the_loop(1.6)
        await asyncio.sleep(0.6)
        send_chat(alice, BOB, "after the stall")
        await alice.expect_message(sender=BOB, body="after the stall")
        stopping_at = time.monotonic()
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    beats = [t for t in systemd.times("WATCHDOG=1") if ready_at <= t <= stopping_at]
    gaps = [(a, b - a) for a, b in itertools.pairwise(beats)]
    longest_start, longest = max(gaps, key=lambda gap: gap[1])
    assert longest >= 1.4 and blocked_at - 0.6 <= longest_start <= blocked_at + 0.1
    assert [gap for _, gap in gaps if gap > 1.0] == [longest], "heartbeats resume after it"
    stuck = [r for r in caplog.records if "Event loop stuck" in r.getMessage()]
    assert len(stuck) == 1 and stuck[0].levelno == logging.WARNING
    assert "in hold_the_loop" in stuck[0].getMessage()
    assert "time.sleep(seconds)" in stuck[0].getMessage()
    assert "responsive again after" in caplog.text
    assert systemd.times("STOPPING=1")
