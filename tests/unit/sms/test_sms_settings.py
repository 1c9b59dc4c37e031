"""The [sms] settings: defaults, every problem with its dotted key, secrets kept out."""

import re
from pathlib import Path

import pytest

from transport.backends.sms import SmsBackend
from transport.backends.sms.settings import DEFAULT_API, SmsSettings, parse_settings
from transport.config import ConfigError, load_settings
from transport.core.backend import SettingsError

REPO = Path(__file__).resolve().parents[3]
SID = "AC" + "0123456789abcdef" * 2
MINIMAL = {
    "twilio": {"account_sid": SID, "auth_token": "tok-SECRET-value"},
    "webhook": {"public_url": "https://gw.example.org/"},
}


def problems(section):
    with pytest.raises(ExceptionGroup) as info:
        parse_settings(section)
    assert all(isinstance(e, SettingsError) for e in info.value.exceptions)
    return [str(e) for e in info.value.exceptions]


def test_minimal_section_gets_documented_defaults():
    s = parse_settings(MINIMAL)
    assert isinstance(s, SmsSettings)
    assert s.default_region == "US"
    assert s.twilio.numbers == () and s.twilio.api_base_url == DEFAULT_API
    assert s.twilio.messages_per_second == 1.0
    assert s.webhook.public_url == "https://gw.example.org", "trailing slash dropped"
    assert (s.webhook.listen_host, s.webhook.listen_port) == ("127.0.0.1", 8080)
    assert s.webhook.max_body_bytes == 65536
    assert (s.media.dir, s.media.max_bytes, s.media.expire_after) == (
        "sms-media", 5 * 1024 * 1024, 30 * 86400.0)
    assert "tok-SECRET-value" not in repr(s)


def test_numbers_are_normalised_and_deduplicated():
    s = parse_settings({**MINIMAL, "default_region": "gb", "twilio": {
        **MINIMAL["twilio"], "numbers": ["+1 212 555 0100", "+12125550100", "+442071838750"],
        "messages_per_second": 0}})
    assert s.twilio.numbers == ("+12125550100", "+442071838750")
    assert s.default_region == "GB" and s.twilio.messages_per_second == 0


def test_every_problem_is_reported_with_its_key():
    section = {
        "default_region": "XX",
        "colour": "blue",
        "twilio": {"account_sid": "AC123", "numbers": ["+12125550100", "2125550101", 7],
                   "api_base_url": "ftp://x", "messages_per_second": -1, "extra": 1},
        "webhook": {"listen_port": 70000, "public_url": "https://user:pw@gw.example.org",
                    "max_body_bytes": 10},
        "media": {"max_bytes": "big", "expire_after": 0},
    }
    found = problems(section)
    assert found == [
        "default_region: expected a region code like US or GB, got \"XX\"",
        "twilio.account_sid: expected AC followed by 32 hexadecimal digits, got \"AC123\"",
        "twilio.auth_token: missing",
        "twilio.numbers[1]: expected an E.164 number like \"+12125550142\", got \"2125550101\"",
        "twilio.numbers[2]: expected an E.164 number like \"+12125550142\", got 7",
        "twilio.api_base_url: expected an http:// or https:// URL, got \"ftp://x\"",
        "twilio.messages_per_second: expected a number 0 or more, got -1",
        "twilio.extra: unknown key",
        "webhook.public_url: must not contain a query, a fragment or credentials",
        "webhook.listen_port: expected an integer from 0 to 65535, got 70000",
        "webhook.max_body_bytes: expected an integer from 1024 to 16777216, got 10",
        "media.max_bytes: expected an integer from 1024 to 104857600, got \"big\"",
        "media.expire_after: expected a number greater than 0, got 0",
        "colour: unknown key",
    ]


def test_missing_tables_and_wrong_types():
    assert problems({}) == ["twilio.account_sid: missing", "twilio.auth_token: missing",
                            "webhook.public_url: missing"]
    assert problems({"twilio": "x", "webhook": {"public_url": "https://a_b.example.org"}})[:2] \
        == ["twilio: expected a table", "twilio.account_sid: missing"]
    assert "webhook.public_url: Twilio refuses callback URLs whose host has an underscore" in \
        problems({**MINIMAL, "webhook": {"public_url": "https://a_b.example.org"}})


def test_secret_value_never_quoted():
    found = problems({**MINIMAL, "twilio": {"account_sid": SID, "auth_token": 12345678}})
    assert found == ["twilio.auth_token: expected a string"]


def _sms_block_from_example() -> str:
    text = (REPO / "config.example.toml").read_text()
    block = text[text.index("# >>> sms"):text.index("# <<< end of sms")]
    lines = []
    for line in block.splitlines()[1:]:
        if line.startswith("##") or not line.startswith("# "):
            continue
        lines.append(line[2:])
    return "\n".join(lines) + "\n"


def test_example_block_is_valid_and_documents_every_key(tmp_path):
    block = _sms_block_from_example()
    config = tmp_path / "config.toml"
    config.write_text('[xmpp]\nallowed_domains = ["example.org"]\n'
                      '[database]\npath = "t.sqlite3"\n' + block)
    settings = load_settings(config, env={}, backends={"sms": SmsBackend})
    [component] = settings.components
    parsed = component.backend_settings
    assert (component.name, component.jid) == ("sms", "sms.example.org")
    assert parsed == parse_settings(MINIMAL | {
        "twilio": {"account_sid": "AC" + "0" * 32, "auth_token": "change-me"}})
    documented = set(re.findall(r"^(\w+) = ", block, re.M))
    fields = {"enabled", "jid", "secret", "default_region", "account_sid", "auth_token",
              "numbers", "api_base_url", "messages_per_second", "listen_host", "listen_port",
              "public_url", "max_body_bytes", "read_timeout", "dir", "max_bytes",
              "expire_after", "registration",
              "messages_per_day", "segments_per_day", "recipients_per_message", "max_segments",
              "countries"}
    assert documented == fields


def test_auth_token_may_come_from_the_environment(tmp_path):
    block = _sms_block_from_example().replace('auth_token = "change-me"\n', "")
    config = tmp_path / "config.toml"
    config.write_text('[xmpp]\nallowed_domains = ["example.org"]\n'
                      '[database]\npath = "t.sqlite3"\n' + block)
    with pytest.raises(ConfigError) as info:
        load_settings(config, env={}, backends={"sms": SmsBackend})
    assert info.value.problems == ["sms.twilio.auth_token: missing"]
    settings = load_settings(config, env={"TWILIO_AUTH_TOKEN": "from-env-123"},
                             backends={"sms": SmsBackend})
    assert settings.components[0].backend_settings.twilio.auth_token == "from-env-123"
