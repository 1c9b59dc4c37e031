"""sd_notify over a real unix datagram socket, as systemd binds it."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from transport.service_status import ServiceStatus
from transport.systemd_notify import SystemdNotifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(5)
    yield path, sock
    sock.close()


def received(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_path_socket_and_watchdog_interval(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    notifier = SystemdNotifier.from_environment(
        {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000", "WATCHDOG_PID": str(os.getpid())})
    assert notifier is not None and notifier.watchdog_interval == pytest.approx(0.2)
    assert notifier.notify("READY=1", "STATUS=1/1 components connected")
    assert received(sock) == "READY=1\nSTATUS=1/1 components connected"
    notifier.close()


def test_abstract_socket() -> None:
    name = f"xmpp-transport-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        notifier = SystemdNotifier.from_environment({"NOTIFY_SOCKET": "@" + name})
        assert notifier is not None and notifier.watchdog_interval is None
        notifier.notify("WATCHDOG=1")
        assert received(sock) == "WATCHDOG=1"
        notifier.close()


def test_outside_systemd_or_for_another_pid_nothing_is_asked() -> None:
    assert SystemdNotifier.from_environment({}) is None
    assert SystemdNotifier.from_environment({"NOTIFY_SOCKET": "relative/path"}) is None
    other = SystemdNotifier.from_environment(
        {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"})
    assert other is not None and other.watchdog_interval is None
    other.close()


def test_a_vanished_socket_is_reported_not_raised(tmp_path: Path) -> None:
    notifier = SystemdNotifier(str(tmp_path / "gone"))
    assert not notifier.notify("WATCHDOG=1")
    assert not notifier.notify("WATCHDOG=1")
    notifier.close()


async def test_ready_once_every_stream_came_up_once_then_status_changes(
    listener: tuple[str, socket.socket],
) -> None:
    path, sock = listener
    sock.setblocking(False)
    sms, irc = asyncio.Event(), asyncio.Event()
    notifier = SystemdNotifier(path)
    status = ServiceStatus(notifier, [("sms.example.org", sms), ("irc.example.org", irc)])
    task = asyncio.ensure_future(status.run())
    loop = asyncio.get_running_loop()

    async def next_message() -> str:
        return (await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)).decode()

    try:
        assert await next_message() == (
            "STATUS=0/2 components connected; waiting for: sms.example.org, irc.example.org")
        sms.set()
        assert await next_message() == (
            "STATUS=1/2 components connected; waiting for: irc.example.org")
        sms.clear()
        irc.set()
        assert await next_message() == "READY=1\nSTATUS=1/2 components connected; connecting: "\
            "sms.example.org"
        sms.set()
        assert await next_message() == "STATUS=2/2 components connected"
    finally:
        task.cancel()
    status.stopping()
    assert await next_message() == "STOPPING=1\nSTATUS=stopping"
    notifier.close()


async def test_the_status_line_carries_the_details(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    sock.setblocking(False)
    up = asyncio.Event()
    up.set()

    async def details() -> str:
        return "2 users online; 5 messages queued"

    notifier = SystemdNotifier(path)
    status = ServiceStatus(notifier, [("sms.example.org", up)], details)
    task = asyncio.ensure_future(status.run())
    try:
        message = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 4096), 5)
        assert message.decode() == ("READY=1\nSTATUS=1/1 components connected; "
                                    "2 users online; 5 messages queued")
    finally:
        task.cancel()
        notifier.close()
