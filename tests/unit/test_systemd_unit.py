"""The shipped systemd unit: accepted by systemd itself, and it asks for the watchdog."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "contrib" / "systemd" / "xmpp-transport.service"
BINARY = "/opt/xmpp-transport/bin/xmpp-transport"
ADMIN_GUIDE = REPO / "docs" / "admin.md"


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found[key.strip()].append(value.strip())
    return found


def test_the_unit_passes_systemd_analyze_verify_without_a_warning(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian package systemd) is required"
    binary = tmp_path / "xmpp-transport"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(BINARY, str(binary)))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "")


def test_the_unit_asks_for_notify_the_watchdog_and_a_sandbox() -> None:
    found = directives(UNIT.read_text())
    expected = {
        "Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30",
        "Restart": "on-failure", "StateDirectory": "xmpp-transport",
        "StateDirectoryMode": "0700", "ProtectSystem": "strict", "ProtectHome": "true",
        "PrivateTmp": "true", "NoNewPrivileges": "true", "UMask": "0077",
    }
    assert {key: found[key][-1] for key in expected} == expected
    assert found["User"] == ["xmpp-transport"]
    assert found["ExecStart"] == [f"{BINARY} run --config /etc/xmpp-transport/config.toml"]


def test_the_admin_guide_shows_the_shipped_unit() -> None:
    assert UNIT.read_text().split("[Unit]", 1)[1] in ADMIN_GUIDE.read_text()
