"""The IRC backend's figures: connections up, joins, reconnects, lines held by the throttle.

The relay path only bumps plain integers (``IrcContext.totals``, ``LineWire.throttled_total``);
they become Prometheus counters when someone scrapes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transport.backends.irc.protocol.wire import LineWire
from transport.core.metrics import CounterLike, MetricsRegistry

if TYPE_CHECKING:
    from transport.backends.irc.context import IrcTotals
    from transport.backends.irc.session.manager import SessionManager


class _Delta:
    """Feeds a counter from a running total, adding what grew since the last scrape."""

    def __init__(self, counter: CounterLike, start: int) -> None:
        self.counter = counter
        self.seen = start

    def update(self, total: int) -> None:
        if total > self.seen:
            self.counter.inc(total - self.seen)
        self.seen = total


def watch(metrics: MetricsRegistry, manager: SessionManager, totals: IrcTotals) -> None:
    """Declare the IRC metrics and refresh them at each scrape."""
    connections = metrics.gauge("irc_connections", "IRC connections registered and up.")
    sessions = metrics.gauge("irc_sessions", "IRC sessions (a user on a server), up or not.")
    joins = _Delta(metrics.counter("irc_joins", "IRC channels joined, rejoins included."),
                   totals.joins)
    reconnects = _Delta(metrics.counter("irc_reconnects", "IRC connections lost and made "
                                        "again."), totals.reconnects)
    throttled = _Delta(metrics.counter("irc_lines_throttled", "Lines that waited for the "
                                       "per-connection flood throttle."),
                       LineWire.throttled_total)

    async def refresh() -> None:
        live = list(manager.sessions.values())
        sessions.set(len(live))
        connections.set(sum(1 for s in live if s.ready))
        joins.update(totals.joins)
        reconnects.update(totals.reconnects)
        throttled.update(LineWire.throttled_total)

    metrics.on_scrape(refresh)
