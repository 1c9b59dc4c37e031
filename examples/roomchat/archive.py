"""History on join and MAM from the lines each toy room keeps in memory."""

from __future__ import annotations

import time
from collections.abc import Sequence

from examples.roomchat.network import Line, Network
from transport.core.rooms import ArchivedMessage, ArchivePage, ArchiveQuery, HistoryRequest


def _archived(line: Line) -> ArchivedMessage:
    return ArchivedMessage(line.uid, line.nick, line.body, line.timestamp)


class LineArchive:
    """Implements ``transport.core.rooms.RoomArchive`` over ``Room.lines``."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def _lines(self, room: str) -> list[Line]:
        known = self.network.rooms.get(room)
        return list(known.lines) if known is not None else []

    async def join_history(
        self, user: str, room: str, request: HistoryRequest
    ) -> Sequence[ArchivedMessage]:
        lines = self._lines(room)
        oldest = request.since
        if request.seconds is not None:
            oldest = max(oldest or 0.0, time.time() - request.seconds)
        if oldest is not None:
            lines = [line for line in lines if line.timestamp >= oldest]
        if request.maxstanzas is not None:
            lines = lines[len(lines) - request.maxstanzas:] if request.maxstanzas else []
        return [_archived(line) for line in lines]

    async def query(self, user: str, room: str, query: ArchiveQuery) -> ArchivePage:
        lines = [line for line in self._lines(room)
                 if (query.start is None or line.timestamp >= query.start)
                 and (query.end is None or line.timestamp <= query.end)
                 and (query.with_nick is None or line.nick == query.with_nick)]
        uids = [line.uid for line in lines]
        start, stop = 0, len(lines)
        if query.after:
            if query.after not in uids:
                raise KeyError(query.after)
            start = uids.index(query.after) + 1
        if query.before:
            if query.before not in uids:
                raise KeyError(query.before)
            stop = uids.index(query.before)
        if query.before is not None:  # the last page before ``before`` (or of all)
            first = max(start, stop - query.max_results)
            page = lines[first:stop]
            complete = first == start
        else:
            first = start
            page = lines[start:start + query.max_results]
            complete = start + len(page) >= stop
        return ArchivePage(tuple(_archived(line) for line in page), complete,
                           count=len(lines), first_index=first if page else None)
