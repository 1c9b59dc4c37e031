"""Tuning knobs of one IRC connection, kept apart so a backend can store them per network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .caps import DEFAULT_CAPS
from .state import append_underscore


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """Defaults follow biboumi where it has one (10-line burst, then 1 line/s).

    ``rate <= 0`` disables pacing. ``nick_in_use`` gets the refused nick during
    registration and returns another one, or None to give up. The link is pinged after
    ``ping_interval`` s without incoming traffic and dropped after ``ping_timeout`` s.
    ``welcome_grace`` bounds the wait for ISUPPORT after ``001``.
    """

    rate: float = 1.0
    burst: int = 10
    caps: frozenset[str] = DEFAULT_CAPS
    nick_in_use: Callable[[str], str | None] = append_underscore
    max_nick_attempts: int = 10
    ping_interval: float = 60.0
    ping_timeout: float = 180.0
    connect_timeout: float = 30.0
    register_timeout: float = 60.0
    welcome_grace: float = 2.0
    max_line_bytes: int = 16384
