"""Identifiers for stanzas, queued messages and archived lines: UUIDv7 (RFC 9562).

Time first, then 74 random bits: unguessable like a random UUID, but rows keyed by them
(the archive's uid index, the outbox's stanza ids the gateway makes up) go into their
index next to the previous ones instead of on a random page. Under a flood that is the
difference between a commit rewriting a few pages and one page per line.
"""

from __future__ import annotations

import os
import time

_VERSION_MASK = ~(0xF << 76) & ~(0x3 << 62)
_VERSION_BITS = (0x7 << 76) | (0x2 << 62)
_POOL_SIZE = 4000


class _RandomPool:
    """``os.urandom`` read 4 KB at a time: one system call per 400 ids rather than per id,
    which was a visible share of relaying a line."""

    __slots__ = ("_offset", "_pool")

    def __init__(self) -> None:
        self._pool = b""
        self._offset = _POOL_SIZE

    def discard(self) -> None:
        """In a forked child: never hand out the bytes the parent will hand out too."""
        self._pool, self._offset = b"", _POOL_SIZE

    def take(self, count: int) -> int:
        if self._offset + count > len(self._pool):
            self._pool, self._offset = os.urandom(_POOL_SIZE), 0
        start = self._offset
        self._offset = start + count
        return int.from_bytes(self._pool[start:start + count])


_random = _RandomPool()
os.register_at_fork(after_in_child=_random.discard)


def new_id_bytes() -> bytes:
    """16 bytes: a UUIDv7, in byte order."""
    value = (time.time_ns() // 1_000_000) << 80 | _random.take(10)
    return ((value & _VERSION_MASK) | _VERSION_BITS).to_bytes(16)


def new_id() -> str:
    """A UUIDv7 as 32 hex digits, the shape of ``uuid4().hex``."""
    return new_id_bytes().hex()
