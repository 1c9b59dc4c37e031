"""Fixtures for the core tests: a real SQLite store in a per-test temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from transport.store import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "gw.sqlite3")
    yield opened
    await opened.close()
