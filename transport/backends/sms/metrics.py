"""The SMS backend's figures: Twilio's answers, and what was sent today.

Labels stay bounded: an HTTP status and a Twilio error code, never a number or a JID.
Today's counts per user are the admin command ``usage``'s business; the metric is the sum.
"""

from __future__ import annotations

from transport.backends.sms.ledger import UsageLedger
from transport.backends.sms.twilio_api import ResponseHook
from transport.core.metrics import MetricsRegistry


def twilio_requests(metrics: MetricsRegistry) -> ResponseHook:
    """The hook counting every Twilio API answer by HTTP status and Twilio error code."""
    counter = metrics.counter(
        "sms_twilio_requests", "Twilio API requests by HTTP status (or unreachable, no answer) "
        "and Twilio error code ('' for none).", ("status", "code"))

    def answered(status: str, code: str) -> None:
        counter.labels(status, code).inc()

    return answered


def watch_usage(metrics: MetricsRegistry, ledger: UsageLedger) -> None:
    """``sms_messages_today`` and ``sms_segments_today``: all users, this UTC day."""
    messages = metrics.gauge("sms_messages_today",
                             "Twilio messages created today (UTC), all users.")
    segments = metrics.gauge("sms_segments_today",
                             "Billed segments created today (UTC), all users.")

    async def refresh() -> None:
        today = (await ledger.today()).values()
        messages.set(sum(t.messages for t in today))
        segments.set(sum(t.segments for t in today))

    metrics.on_scrape(refresh)
