"""The channel archive as the core MUC service's ``RoomArchive``: join history and MAM.

Archived lines keep what IRC said (a message, an action, a notice); users see actions as
``/me ...`` and notices marked, in join history and MAM alike.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from transport.backends.irc.contracts import ArchivedLine, ChannelHistory
from transport.core.rooms import (
    ArchivedMessage,
    ArchivePage,
    ArchiveQuery,
    HistoryRequest,
)

NOTICE_PREFIX: Final = "[notice] "
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A room key -> (server, case-folded channel).
Locate = Callable[[str], tuple[str, str]]
# (user, room key) -> how many lines a join may replay (0: none, the channel is not
# recorded for the user or they turned history off).
ReplayLimit = Callable[[str, str], Awaitable[int]]


def line_to_body(line: ArchivedLine) -> str:
    """The body clients show for a line: ``/me ...`` for actions, a marker for notices.

    Characters XML cannot carry are dropped, so an odd line can never break the stream.
    """
    body = _NOT_XML.sub("", line.body)
    if line.kind == "action":
        return f"/me {body}"
    if line.kind == "notice":
        return NOTICE_PREFIX + body
    return body


def shown(line: ArchivedLine) -> ArchivedMessage:
    return ArchivedMessage(line.uid, line.nick, line_to_body(line), line.timestamp)


class ChannelHistoryArchive:
    """Implements ``transport.core.rooms.RoomArchive`` over a ``ChannelHistory``."""

    def __init__(self, history: ChannelHistory, locate: Locate,
                 replay_limit: ReplayLimit) -> None:
        self.history = history
        self.locate = locate
        self.replay_limit = replay_limit

    async def join_history(self, user: str, room: str,
                           request: HistoryRequest) -> Sequence[ArchivedMessage]:
        limit = await self.replay_limit(user, room)
        if limit <= 0:
            return ()
        server, channel = self.locate(room)
        lines = await self.history.join_history(user, server, channel, request, limit)
        return [shown(line) for line in lines]

    async def query(self, user: str, room: str, query: ArchiveQuery) -> ArchivePage:
        server, channel = self.locate(room)
        page = await self.history.query(
            user, server, channel, start=query.start, end=query.end,
            with_nick=query.with_nick, after=query.after, before=query.before,
            max_results=query.max_results)
        return ArchivePage(tuple(shown(line) for line in page.lines), page.complete,
                           page.count, page.first_index)
