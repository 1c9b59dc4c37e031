"""One archive copy per channel although every user's connection receives each line.

Each connection asks ``LineLog.uid_for`` for the line it received: the first asks the
archive to record it, the others (which see the same lines in the same order) get the same
uid, so every user's stanza-id and the archive agree. ``NullHistory`` stands in when no
archive is installed: lines get fresh ids and nothing is replayed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from transport.backends.irc.contracts import (
    ArchivedLine,
    ArchivePage,
    ChannelHistory,
    HistoryRequest,
    LineKind,
)
from transport.core.ids import new_id

_WINDOW = 30.0
_MAX_RECENT = 2000


@dataclass(slots=True)
class _Recent:
    fingerprint: tuple[str, str, str]
    uid: str
    stamp: float
    readers: set[object] = field(default_factory=set)


class LineLog:
    """De-duplicates the copies of a channel line that several connections receive."""

    def __init__(self, history: ChannelHistory) -> None:
        self.history = history
        self._recent: dict[tuple[str, str], _ChannelLines] = {}

    def uid_for(
        self,
        reader: object,
        server: str,
        channel: str,
        nick: str,
        kind: LineKind,
        body: str,
        timestamp: float,
    ) -> str:
        key = (server, channel)
        lines = self._recent.get(key)
        if lines is None:
            lines = self._recent[key] = _ChannelLines()
        lines.expire(time.monotonic())
        fingerprint = (nick, kind, body)
        for entry in lines.by_print.get(fingerprint, ()):
            if reader not in entry.readers:
                entry.readers.add(reader)
                return entry.uid
        uid = self.history.record(server, channel, nick, kind, body, timestamp)
        lines.add(_Recent(fingerprint, uid, time.monotonic(), {reader}))
        return uid

    def forget(self, server: str, channel: str) -> None:
        self._recent.pop((server, channel), None)


@dataclass(slots=True)
class _ChannelLines:
    """A channel's recent lines in arrival order, indexed by what they say: a flood of
    distinct lines costs one lookup per copy, not a scan of the whole window."""

    order: deque[_Recent] = field(default_factory=deque)
    by_print: dict[tuple[str, str, str], deque[_Recent]] = field(default_factory=dict)

    def add(self, entry: _Recent) -> None:
        self.order.append(entry)
        self.by_print.setdefault(entry.fingerprint, deque()).append(entry)

    def expire(self, now: float) -> None:
        order = self.order
        while order and (now - order[0].stamp > _WINDOW or len(order) > _MAX_RECENT):
            old = order.popleft()
            same = self.by_print[old.fingerprint]
            same.popleft()  # the oldest of its fingerprint is the oldest of all
            if not same:
                del self.by_print[old.fingerprint]


class NullHistory:
    """No archive: fresh uids, no replay, MAM unavailable."""

    def record(
        self, server: str, channel: str, nick: str, kind: LineKind, body: str, timestamp: float
    ) -> str:
        return new_id()

    async def opened(self, user: str, server: str, channel: str, timestamp: float) -> None:
        return None

    async def closed(self, user: str, server: str, channel: str, timestamp: float) -> None:
        return None

    async def join_history(
        self, user: str, server: str, channel: str, request: HistoryRequest, limit: int
    ) -> Sequence[ArchivedLine]:
        return ()

    async def query(
        self,
        user: str,
        server: str,
        channel: str,
        *,
        start: float | None = None,
        end: float | None = None,
        with_nick: str | None = None,
        after: str | None = None,
        before: str | None = None,
        max_results: int = 100,
    ) -> ArchivePage:
        return ArchivePage((), True)
