"""Prompt TCP acknowledgements on the component socket, whatever the server's Nagle setting.

An XMPP server that leaves Nagle's algorithm on (Prosody's and ejabberd's default) holds
each small write back until the previous one is acknowledged. Linux delays the ACK of a
read for up to 40 ms when it hopes to piggyback it on a reply, so a stanza that follows
another within that window waits for the delayed ACK: ~40 ms at the tail of the latency of
every stanza the server sends us. Re-arming ``TCP_QUICKACK`` after each read sends the
pending ACK at once and keeps the next one prompt (the kernel clears the flag by itself,
hence after every read). ``TCP_NODELAY`` does the same for our own writes.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

#: Linux only; elsewhere the delayed ACK stays as the system has it.
QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def stream_socket(transport: Any) -> Any | None:
    """The TCP socket under an asyncio transport, or None when it is not TCP."""
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    return sock


def tune(sock: Any) -> bool:
    """Set ``TCP_NODELAY`` and a first ``TCP_QUICKACK``; False if the socket refuses them."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if QUICKACK is not None:
            sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
    except OSError:
        return False
    return True


def acknowledge_now(sock: Any) -> None:
    """Send the ACK for what was just read at once and stay in quick-ACK mode."""
    if QUICKACK is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
