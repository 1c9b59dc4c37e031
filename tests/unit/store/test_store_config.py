"""``[database] retention_days``: read, defaulted and checked with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from transport.config import ConfigError, load_settings
from transport.testing.gateway import build_settings

CONFIG = """
[database]
path = "t.sqlite3"
{extra}

[echo]
jid = "echo.example.org"
secret = "s3cret-echo"
"""


def _load(tmp_path: Path, extra: str) -> int:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(extra=extra))
    return load_settings(path, env={}).database.retention_days


def test_retention_days_defaults_to_30_and_is_read(tmp_path: Path) -> None:
    assert _load(tmp_path, "") == 30
    assert _load(tmp_path, "retention_days = 7") == 7
    assert build_settings("127.0.0.1", 5347, tmp_path / "t", []).database.retention_days == 30


@pytest.mark.parametrize("value", ["0", "-3", "1.5", '"30"', "true"])
def test_retention_days_must_be_a_whole_number_of_days(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, f"retention_days = {value}")
    shown = {"true": "true", '"30"': '"30"'}.get(value, value)
    assert info.value.problems == [
        f"database.retention_days: expected an integer from 1 to 36500, got {shown}"]
