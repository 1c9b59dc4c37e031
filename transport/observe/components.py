"""Per-component figures read from the live gateway at each scrape, at no cost per message.

The delivery pump and the outbox already count what they confirmed and sent; the stream
knows whether it is up. Reading them when Prometheus asks keeps the relay path free of
metric updates for these totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from transport.observe.metrics import PREFIX, TO_LEGACY, TO_XMPP


class ComponentFigures(Protocol):
    """What one running component exposes to the collector."""

    @property
    def backend_name(self) -> str: ...

    @property
    def delivered(self) -> int: ...  # to users, confirmed by the XMPP server

    @property
    def sent(self) -> int: ...  # accepted by the legacy network

    @property
    def failed(self) -> int: ...  # refused by the legacy network for good

    @property
    def stream_up(self) -> bool: ...


class ComponentCollector:
    """Yields ``messages_total``, ``messages_failed_total`` and ``xmpp_stream_up``."""

    def __init__(self, components: Sequence[ComponentFigures]) -> None:
        self.components = components

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        messages = CounterMetricFamily(
            PREFIX + "messages", "Messages relayed, per backend and direction: to_xmpp "
            "confirmed by the XMPP server, to_legacy accepted by the legacy network.",
            labels=("backend", "direction"))
        failed = CounterMetricFamily(
            PREFIX + "messages_failed", "Messages the legacy network refused for good (the "
            "user got an error).", labels=("backend",))
        up = GaugeMetricFamily(
            PREFIX + "xmpp_stream_up", "1 while the component's stream to the XMPP server "
            "is up.", labels=("backend",))
        for component in self.components:
            name = component.backend_name
            messages.add_metric((name, TO_XMPP), component.delivered)
            messages.add_metric((name, TO_LEGACY), component.sent)
            failed.add_metric((name,), component.failed)
            up.add_metric((name,), 1.0 if component.stream_up else 0.0)
        return [messages, failed, up]
