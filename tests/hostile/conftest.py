"""The hostile-input suite: a seeded barrage against a real Prosody, IRC servers and webhooks.

Each part prints its figures in the terminal summary (seed, IQs sent/answered, streams
closed, canary latency), so every run of ``scripts/test`` shows them; replay a failure with
``HOSTILE_SEED=<seed> scripts/test tests/hostile``.
"""

from __future__ import annotations

from typing import Any

import pytest

from transport.testing.twilio import TwilioStandIn

from .gateway import ACCOUNT, POOL, PUBLIC, TOKEN
from .report import FIGURES, seed


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.write_sep("=", f"hostile-input suite (HOSTILE_SEED={seed()})")
    for part, figures in FIGURES:
        terminalreporter.write_line(f"{part}:")
        for figure in figures:
            terminalreporter.write_line(f"    {figure}")


@pytest.fixture
async def standin(twilio_standin: Any) -> TwilioStandIn:
    """The Twilio stand-in, with the pool's inbound webhooks pointing at the public URL."""
    s: TwilioStandIn = await twilio_standin({ACCOUNT: TOKEN}, {ACCOUNT: list(POOL)},
                                            callback_retry_delay=0.01)
    for number in POOL:
        s.set_sms_url(number, f"{PUBLIC}/twilio/sms")
    return s
