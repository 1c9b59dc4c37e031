"""Fixtures shared by the IRC backend's unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from transport.backends.irc.schema import MIGRATIONS
from transport.store import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store file with the IRC backend's tables."""
    opened = await Store.open(tmp_path / "gw.sqlite3", extra_migrations={"irc": MIGRATIONS})
    yield opened
    await opened.close()
