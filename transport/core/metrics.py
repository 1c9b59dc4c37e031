"""What a backend may count, gauge and time: the shape of the gateway's metrics registry.

The registry is Prometheus's (``transport.observe.metrics``); the core and the backends see
only these protocols, so nothing here depends on how the figures are exposed. Labels must
stay bounded: a direction, a status, an error code, never a JID or a phone number.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol


class CounterLike(Protocol):
    def inc(self, amount: float = 1) -> None: ...

    def labels(self, *values: str) -> CounterLike: ...


class GaugeLike(Protocol):
    def set(self, value: float) -> None: ...

    def labels(self, *values: str) -> GaugeLike: ...


class HistogramLike(Protocol):
    def observe(self, amount: float) -> None: ...

    def labels(self, *values: str) -> HistogramLike: ...


class MetricsRegistry(Protocol):
    """Declares metrics (the same name twice returns the same metric) and refreshers that
    run before each scrape, for figures read from the store or from live objects."""

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> CounterLike: ...

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> GaugeLike: ...

    def histogram(self, name: str, doc: str, labels: Sequence[str] = (),
                  buckets: Sequence[float] = ...) -> HistogramLike: ...

    def on_scrape(self, refresher: Callable[[], Awaitable[None]]) -> None: ...
