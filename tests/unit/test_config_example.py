"""config.example.toml is generated from the backends' declarations, and what it shows
loads: every section enabled, the gateway accepts the example as it stands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from transport.backends.echo import EchoBackend
from transport.backends.irc import IrcBackend
from transport.backends.sms import SmsBackend
from transport.config import load_settings
from transport.config_example import example_config, example_section

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
BACKENDS = (EchoBackend, SmsBackend, IrcBackend)


def test_the_checked_in_example_is_the_generated_one() -> None:
    generated = subprocess.run(
        [sys.executable, "-m", "transport.config_example"], capture_output=True, text=True,
        timeout=60, check=True, cwd=REPO).stdout
    assert generated == EXAMPLE.read_text(), \
        "regenerate: python -m transport.config_example > config.example.toml"


def test_every_section_enabled_loads_with_the_values_shown(tmp_path: Path) -> None:
    text = example_config(BACKENDS, enabled=[b.name for b in BACKENDS])
    text = text.replace("allowed_domains = []", 'allowed_domains = ["example.org"]', 1)
    config = tmp_path / "config.toml"
    config.write_text(text)
    settings = load_settings(config, env={}, backends={b.name: b for b in BACKENDS})
    by_name = {c.name: c for c in settings.components}
    assert sorted(by_name) == ["echo", "irc", "sms"]
    assert by_name["sms"].backend_settings == SmsBackend.parse_settings({
        "twilio": {"account_sid": "AC" + "0" * 32, "auth_token": "change-me"},
        "webhook": {"public_url": "https://gw.example.org"}})
    irc = by_name["irc"].backend_settings
    assert set(irc.servers) == {"irc.libera.chat"}
    assert irc.pacing(irc.servers["irc.libera.chat"]) == (10.0, 8)


def test_a_disabled_section_is_all_comments_and_enables_by_uncommenting() -> None:
    section = example_section(SmsBackend, enabled=False)
    lines = section.splitlines()
    assert lines[0] == "# >>> sms backend section"
    assert lines[-1] == "# <<< end of sms backend section"
    assert all(line == "#" or line.startswith("# ") or line.startswith("## ")
               for line in lines)
    uncommented = [line[2:] for line in lines[1:-1] if line.startswith("# ")]
    assert uncommented == [line for line in
                           example_section(SmsBackend, enabled=True).splitlines()[1:-1]
                           if line and not line.startswith("#")]
