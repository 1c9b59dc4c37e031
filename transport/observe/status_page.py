"""``/status``: the metrics as a page a person reads, rendered from the same registry.

It refreshes itself every few seconds; every figure on it is a metric that ``/metrics``
exposes under the same name, so a dashboard and this page never disagree.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from transport.observe.figures import age, count, duration, latency, number
from transport.observe.health import Problem
from transport.observe.metrics import PREFIX, TO_LEGACY, TO_XMPP, GatewayMetrics

REFRESH_SECONDS = 5
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;background:#f6f7f9;color:#1d2330}
h1{font-size:1.5em;margin:0 0 .2em}.sub{color:#5b6475;margin-bottom:1.5em}
.ok{color:#17803d}.bad{color:#b42318}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:1em 1.4em;
margin-bottom:1.2em}h2{font-size:1.1em;margin:.2em 0 .6em}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3em .8em .3em 0;
border-bottom:1px solid #eceef2;font-variant-numeric:tabular-nums}th{color:#5b6475;
font-weight:600}.cards{display:flex;gap:1em;flex-wrap:wrap}.card{flex:1;min-width:10em;
background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:.8em 1.2em}
.card .n{font-size:1.8em;font-weight:600}.card .l{color:#5b6475}
"""


def render(metrics: GatewayMetrics, backends: Sequence[tuple[str, str]],
           problems: Sequence[Problem]) -> str:
    """The whole page; ``backends`` lists ``(backend name, component JID)``."""
    state = ('<span class="ok">healthy</span>' if not problems else
             '<span class="bad">unhealthy: ' +
             html.escape("; ".join(f"{p.component}: {p.problem}" for p in problems)) +
             "</span>")
    cards = [
        ("messages to XMPP", count(metrics.value("messages_total", direction=TO_XMPP))),
        ("messages to legacy networks",
         count(metrics.value("messages_total", direction=TO_LEGACY))),
        ("waiting in queues", count(metrics.value("queue_depth"))),
        ("event-loop lag", duration(metrics.value("event_loop_lag_seconds"))),
    ]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<meta http-equiv='refresh' content='{REFRESH_SECONDS}'>",
        f"<title>xmpp-transport status</title><style>{_STYLE}</style></head><body>",
        "<h1>xmpp-transport</h1>", f"<div class='sub'>Gateway {state}</div>",
        "<div class='cards'>",
        *(f"<div class='card'><div class='n'>{n}</div><div class='l'>{html.escape(label)}"
          "</div></div>" for label, n in cards),
        "</div><p></p>",
        _components(metrics, backends),
        _others(metrics),
        "</body></html>",
    ]
    return "".join(parts)


def _components(metrics: GatewayMetrics, backends: Sequence[tuple[str, str]]) -> str:
    rows = []
    for name, jid in backends:
        up = metrics.value("xmpp_stream_up", backend=name) >= 1
        rows.append([
            html.escape(jid),
            '<span class="ok">up</span>' if up else '<span class="bad">down</span>',
            count(metrics.value("messages_total", backend=name, direction=TO_XMPP)),
            count(metrics.value("messages_total", backend=name, direction=TO_LEGACY)),
            latency(metrics, name, TO_XMPP), latency(metrics, name, TO_LEGACY),
            count(metrics.value("queue_depth", backend=name, queue="xmpp")),
            count(metrics.value("queue_depth", backend=name, queue="outbox")),
            age(max(metrics.value("queue_oldest_seconds", backend=name, queue="xmpp"),
                         metrics.value("queue_oldest_seconds", backend=name, queue="outbox"))),
            count(metrics.value("xmpp_stream_reconnects_total", backend=name)),
        ])
    head = ["component", "stream", "to XMPP", "to legacy", "latency to XMPP p50/p95",
            "latency to legacy p50/p95", "queued for XMPP", "queued for legacy",
            "oldest queued", "reconnects"]
    return _section("Components", head, rows, raw=True)


_SHOWN_ABOVE = {PREFIX + n for n in (
    "messages_total", "delivery_seconds_bucket", "delivery_seconds_count",
    "delivery_seconds_sum", "delivery_seconds_created", "messages_created", "queue_depth",
    "queue_oldest_seconds", "xmpp_stream_up", "xmpp_stream_reconnects_total",
    "xmpp_stream_reconnects_created", "event_loop_lag_seconds")}


def _others(metrics: GatewayMetrics) -> str:
    """Every other metric (backends' own, the store's) as name, labels and value."""
    rows = []
    for sample in metrics.samples():
        name = sample.name
        if (name in _SHOWN_ABOVE or name.endswith(("_created", "_bucket"))
                or not name.startswith(PREFIX)):
            continue
        labels = ", ".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
        value = duration(sample.value) if name.endswith("_seconds") else number(sample.value)
        rows.append([name.removeprefix(PREFIX), labels, value])
    return _section("All figures", ["metric", "labels", "value"], rows)


def _section(title: str, head: Sequence[str], rows: Iterable[Sequence[str]],
             raw: bool = False) -> str:
    cell = (lambda v: v) if raw else html.escape
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
                   for row in rows)
    head_html = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (f"<section><h2>{html.escape(title)}</h2><table><tr>{head_html}</tr>{body}"
            "</table></section>")
