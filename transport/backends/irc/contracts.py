"""What the IRC backend's parts promise each other.

The connection/MUC side implements ``IrcControl`` (used by the ad-hoc commands) and calls a
``ChannelHistory`` (implemented by the archive) for every channel line and membership
change. Keeping these small and explicit lets each part be built and tested on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from transport.core.rooms import HistoryRequest as HistoryRequest  # what archives are asked

LineKind = Literal["message", "action", "notice"]


@dataclass(frozen=True, slots=True)
class ArchivedLine:
    """One channel line as archived; ``uid`` is its XEP-0359 stanza-id and MAM id."""

    uid: str
    server: str
    channel: str
    nick: str
    kind: LineKind
    body: str
    timestamp: float


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """A MAM result page, oldest first; ``complete`` when nothing is left in that direction."""

    lines: tuple[ArchivedLine, ...]
    complete: bool
    count: int | None = None
    first_index: int | None = None


class ChannelHistory(Protocol):
    """One archive copy per channel; users read what was said while they were present."""

    def record(
        self, server: str, channel: str, nick: str, kind: LineKind, body: str, timestamp: float
    ) -> str:
        """Archive a line off the hot path (batched); returns its uid at once."""

    async def opened(self, user: str, server: str, channel: str, timestamp: float) -> None:
        """``user`` (or their persistent presence) is in the channel from now on."""

    async def closed(self, user: str, server: str, channel: str, timestamp: float) -> None:
        """``user`` left the channel (and it is not persistent for them)."""

    async def join_history(
        self, user: str, server: str, channel: str, request: HistoryRequest, limit: int
    ) -> Sequence[ArchivedLine]:
        """Lines to replay on join, oldest first, at most ``limit`` (the user's setting)."""

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
        """MAM query; ``before=""`` asks for the last page. Unknown uid: raise KeyError."""


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What ``get-irc-connection-info`` shows for one of a user's IRC connections."""

    server: str
    port: int
    tls: bool
    nick: str
    connected_since: float | None
    channels: tuple[str, ...]
    resources: tuple[str, ...]


class IrcControl(Protocol):
    """Operations the ad-hoc commands need from the connection manager."""

    def connections(self, user: str) -> Sequence[ConnectionInfo]:
        """The user's IRC connections (connected or reconnecting)."""

    def connected_users(self) -> Sequence[str]:
        """Bare JIDs with at least one IRC connection."""

    async def disconnect(self, user: str, servers: Sequence[str], reason: str) -> None:
        """Close the user's connections to ``servers`` with QUIT ``reason``."""

    async def disconnect_user(self, user: str, reason: str) -> None:
        """Close every IRC connection of the user."""
