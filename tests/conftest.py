"""The project's own test set-up on top of its pytest plugin.

The servers, the gateway and its users come from :mod:`transport.testing.pytest_plugin`
(``docs/testing.md``). Naming it here as well as in the ``pytest11`` entry point keeps the
suite runnable from a venv installed before the entry point existed; the entry point carries
the module's name, so pytest registers the plugin once either way.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["transport.testing.pytest_plugin"]


@pytest.fixture(autouse=True)
def _no_twilio_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """TWILIO_REGION / TWILIO_EDGE in the environment rewrite twilio-python's API host."""
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
