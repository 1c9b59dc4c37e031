"""One component's figures in words, from the metrics registry: for the ``stats`` command
and the ``/status`` page, which so never disagree with ``/metrics``."""

from __future__ import annotations

from transport.observe.metrics import PREFIX, TO_LEGACY, TO_XMPP, GatewayMetrics


def component_figures(metrics: GatewayMetrics, backend: str) -> dict[str, str]:
    """Messages each way, failures, queues, latencies, reconnects and the backend's own
    metrics (those named after it: ``sms_...``, ``irc_...``). Call ``refresh()`` first."""
    value = metrics.value
    figures = {
        "messages delivered to XMPP": count(value("messages_total", backend=backend,
                                                  direction=TO_XMPP)),
        "messages sent to the legacy network": count(value("messages_total", backend=backend,
                                                           direction=TO_LEGACY)),
        "messages that failed": count(value("messages_failed_total", backend=backend)),
        "messages waiting for XMPP delivery": count(value("queue_depth", backend=backend,
                                                          queue="xmpp")),
        "messages waiting for the legacy network": count(value("queue_depth", backend=backend,
                                                               queue="outbox")),
        "oldest waiting message": age(max(
            value("queue_oldest_seconds", backend=backend, queue="xmpp"),
            value("queue_oldest_seconds", backend=backend, queue="outbox"))),
        "latency to XMPP p50 / p95": latency(metrics, backend, TO_XMPP),
        "latency to the legacy network p50 / p95": latency(metrics, backend, TO_LEGACY),
        "XMPP stream reconnects": count(value("xmpp_stream_reconnects_total", backend=backend)),
        "event-loop lag": duration(value("event_loop_lag_seconds")),
    }
    own = PREFIX + backend + "_"
    for sample in metrics.samples():
        if not sample.name.startswith(own) or sample.name.endswith(("_created", "_bucket")):
            continue
        label = sample.name.removeprefix(PREFIX).replace("_", " ")
        if sample.labels:
            label += " (" + ", ".join(f"{k} {v or '-'}" for k, v in
                                      sorted(sample.labels.items())) + ")"
        figures[label] = number(sample.value)
    return figures


def latency(metrics: GatewayMetrics, backend: str, direction: str) -> str:
    p50 = metrics.quantile("delivery_seconds", 0.5, backend=backend, direction=direction)
    p95 = metrics.quantile("delivery_seconds", 0.95, backend=backend, direction=direction)
    if p50 is None or p95 is None:
        return "-"
    return f"{duration(p50)} / {duration(p95)}"


def count(value: float) -> str:
    return f"{int(value):,}"


def number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,.3f}"


def duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def age(seconds: float) -> str:
    return "-" if seconds <= 0 else duration(seconds)
