"""The gateway's Prometheus metrics, in one registry per process.

Labels are bounded by construction: a backend's name, a direction, a queue, a status or an
error code; never a JID or a phone number (per-user figures are the admin commands' job).
Backends declare their own metrics through :meth:`GatewayMetrics.counter` and friends, which
return the existing metric when two components ask for the same name. Figures that live in
the store (queue depths, today's SMS usage) are read when someone looks: each scrape first
runs the refreshers registered with :meth:`GatewayMetrics.on_scrape`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Final, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

log = logging.getLogger(__name__)

PREFIX: Final = "xmpp_transport_"
TO_LEGACY: Final = "to_legacy"
TO_XMPP: Final = "to_xmpp"
#: Delivery latencies: a relayed line takes about a millisecond, a paced SMS seconds.
LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                          5.0, 10.0, 30.0, 60.0, 300.0)
COMMIT_BUCKETS: Final = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                         0.1, 0.25, 1.0)

Refresher = Callable[[], Awaitable[None]]
M = TypeVar("M", bound=MetricWrapperBase)


class GatewayMetrics:
    """Every metric of one gateway process, and the hooks that refresh them on a scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._metrics: dict[str, MetricWrapperBase] = {}
        self._refreshers: list[Refresher] = []
        self.delivery_seconds = self.histogram(
            "delivery_seconds",
            "to_xmpp: committed until the XMPP server confirmed it; to_legacy: received "
            "until the legacy network accepted it.", ("backend", "direction"), LATENCY_BUCKETS)
        self.queue_depth = self.gauge(
            "queue_depth", "Rows waiting in a durable queue (xmpp: to users; outbox: to the "
            "legacy network).", ("backend", "queue"))
        self.queue_oldest_seconds = self.gauge(
            "queue_oldest_seconds", "Age of the oldest row waiting in a durable queue.",
            ("backend", "queue"))
        self.stream_reconnects = self.counter(
            "xmpp_stream_reconnects", "Component streams re-established after a loss.",
            ("backend",))
        self.store_commit_seconds = self.histogram(
            "store_commit_seconds", "Time of one store transaction (group commit).", (),
            COMMIT_BUCKETS)
        self.loop_lag_seconds = self.gauge(
            "event_loop_lag_seconds", "How late the event loop ran its last watchdog tick.")
        self.loop_lag_max_seconds = self.gauge(
            "event_loop_lag_max_seconds", "The largest event-loop lag since start.")

    # -- declaring --------------------------------------------------------------------

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        return self._declare(Counter, name, doc, labels)

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
        return self._declare(Gauge, name, doc, labels)

    def histogram(self, name: str, doc: str, labels: Sequence[str] = (),
                  buckets: Sequence[float] = LATENCY_BUCKETS) -> Histogram:
        return self._declare(Histogram, name, doc, labels, buckets=tuple(buckets))

    def _declare(self, kind: type[M], name: str, doc: str, labels: Sequence[str],
                 **extra: object) -> M:
        full = PREFIX + name
        existing = self._metrics.get(full)
        if existing is not None:
            if not isinstance(existing, kind):
                raise ValueError(f"metric {full} already declared as another type")
            return existing
        metric = kind(full, doc, tuple(labels), registry=self.registry, **extra)  # type: ignore[arg-type]
        self._metrics[full] = metric
        return metric

    # -- reading ------------------------------------------------------------------------

    def register_collector(self, collector: Collector) -> None:
        """A collector whose figures are read from live objects at each scrape."""
        self.registry.register(collector)

    def on_scrape(self, refresher: Refresher) -> None:
        """Run ``refresher`` before each exposition (for figures read from the store)."""
        self._refreshers.append(refresher)

    async def refresh(self) -> None:
        for refresher in self._refreshers:
            try:
                await refresher()
            except Exception:
                log.exception("A metrics refresher failed; its figures are stale")

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)

    def samples(self) -> Iterator[Sample]:
        for family in self.registry.collect():
            yield from family.samples

    def value(self, name: str, **labels: str) -> float:
        """One sample's value (0 when absent): ``value("messages_total", backend="irc")``
        adds up every sample of that name whose labels include ``labels``."""
        full = PREFIX + name
        return sum(s.value for s in self.samples()
                   if s.name == full and labels.items() <= s.labels.items())

    def quantile(self, name: str, fraction: float, **labels: str) -> float | None:
        """A quantile estimated from a histogram's buckets (None without observations)."""
        full = PREFIX + name + "_bucket"
        buckets: dict[float, float] = {}
        for sample in self.samples():
            if sample.name == full and labels.items() <= sample.labels.items():
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
        if not buckets:
            return None
        bounds = sorted(buckets)
        total = buckets[bounds[-1]]
        if total == 0:
            return None
        rank = fraction * total
        lower, below = 0.0, 0.0
        for bound in bounds:
            count = buckets[bound]
            if count >= rank:
                if bound == float("inf"):
                    return lower
                share = (rank - below) / (count - below) if count > below else 1.0
                return lower + (bound - lower) * share
            lower, below = bound, count
        return lower
