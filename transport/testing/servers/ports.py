"""Loopback port helpers for the real-server fixtures.

Ports come from the OS (bind to port 0, read the number, close) so that parallel test runs and
other engineers' servers on the same machine never fight over fixed numbers. There is a small
window in which someone else can take the port before our server binds it; the server classes
detect that (see :func:`listening_ports`) and start again on fresh ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"

_TCP_LISTEN = "0A"  # st column value for LISTEN in /proc/net/tcp


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on ``host`` that the OS considered free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Return ``count`` distinct free ports (all sockets are held until every port is known)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind((host, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def port_free(host: str, port: int) -> bool:
    """True if ``port`` on ``host`` can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if a TCP connection to ``host:port`` succeeds right now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Block until ``host:port`` accepts a TCP connection; ``TimeoutError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not port_accepts(host, port):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing accepted connections on {host}:{port} within {timeout}s")
        time.sleep(interval)


async def wait_for_port_async(
    host: str, port: int, timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Asynchronous :func:`wait_for_port`: polls without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 0.5)
        except (TimeoutError, OSError):
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"nothing accepted connections on {host}:{port} within {timeout}s"
                ) from None
            await asyncio.sleep(interval)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


def listening_ports(pid: int) -> set[int] | None:
    """TCP ports on which process ``pid`` itself has a listening socket, or None if unknowable.

    A port that accepts connections is not proof that *our* server is up: Prosody and InspIRCd
    log a bind failure and keep running, so a stranger holding the port would pass a plain
    connect test. Matching the socket inodes in ``/proc/PID/fd`` against ``/proc/net/tcp``
    tells whose socket it is. Returns None where /proc is missing or unreadable.
    """
    try:
        inodes: set[str] = set()
        for entry in os.scandir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(entry.path)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        ports: set[int] = set()
        for table in ("tcp", "tcp6"):
            path = Path(f"/proc/{pid}/net/{table}")
            if not path.exists():
                continue
            for line in path.read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == _TCP_LISTEN and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        return ports
    except OSError:
        return None
