"""Waiting for the IRC connection never spins: a wait whose event is already set, but whose
condition is not yet true, polls with a growing pause instead of returning at once."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import pytest

from transport.backends.irc.protocol.lite import Flag
from transport.backends.irc.session.irc_session import IrcSession
from transport.core.errors import DeliveryRefused


def session(queue_timeout: float = 5.0) -> IrcSession:
    settings = SimpleNamespace(queue_limit=10, queue_timeout=queue_timeout)
    bridge: Any = SimpleNamespace(info=SimpleNamespace(chantypes=lambda host: "#&"),
                                  settings=settings)
    manager: Any = SimpleNamespace(forget=lambda s: None)
    config: Any = SimpleNamespace(port=6667, tls=False)
    return IrcSession(manager, bridge, "u@example.org", "irc.example.org", config, "u")


async def test_a_set_event_with_an_unmet_condition_is_polled_not_spun() -> None:
    s = session()
    event = Flag()
    event.set()
    checks = 0
    met_at = time.monotonic() + 0.4

    def ready() -> bool:
        nonlocal checks
        checks += 1
        return time.monotonic() >= met_at

    await asyncio.wait_for(s.wait_until(ready, event), 3)
    assert checks < 12, f"the condition was checked {checks} times in 0.4 s"
    assert s.waiters == 0


async def test_a_deadline_shortens_the_wait() -> None:
    s = session(queue_timeout=30.0)
    started = time.monotonic()
    with pytest.raises(DeliveryRefused) as refused:
        await s.wait_until(lambda: False, Flag(), time.monotonic() + 0.2)
    assert refused.value.condition == "remote-server-timeout"
    assert time.monotonic() - started < 1.5
