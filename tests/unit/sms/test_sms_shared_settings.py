"""[sms] settings checked against [xmpp] and [database]: the registration mode an open
gateway needs, and a media directory that keeps clear of the database."""

from pathlib import Path

import pytest

from transport.backends.sms import SmsBackend
from transport.config import ConfigError, load_settings

SID = "AC" + "0123456789abcdef" * 2
SMS = f"""
[sms]
jid = "sms.example.org"
secret = "s3cret-value"
{{sms_keys}}
[sms.twilio]
account_sid = "{SID}"
auth_token = "tok-value"
[sms.webhook]
public_url = "https://gw.example.org"
[sms.media]
{{media_keys}}
"""


def load(tmp_path: Path, domains: str, sms_keys: str = "", media_keys: str = "") -> list[str]:
    """The problems ``check-config`` would print for this file ([] when it is fine)."""
    config = tmp_path / "etc" / "gw.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(f"[xmpp]\nallowed_domains = {domains}\n[database]\npath = \"gw.sqlite3\"\n"
                      + SMS.format(sms_keys=sms_keys, media_keys=media_keys))
    try:
        load_settings(config, env={}, backends={"sms": SmsBackend})
    except ConfigError as exc:
        return list(exc.problems)
    return []


def test_an_open_gateway_accepts_only_admin_registration(tmp_path):
    expected = ['sms.registration: must be "admin" while xmpp.allowed_domains is [] '
                "(otherwise anyone the XMPP server routes to the gateway could claim a number)"]
    assert load(tmp_path, "[]") == expected
    for mode in ("open", "approval"):
        assert load(tmp_path, "[]", f'registration = "{mode}"') == expected
    assert load(tmp_path, "[]", 'registration = "admin"') == []
    for mode in ("open", "approval", "admin"):
        assert load(tmp_path, '["example.org"]', f'registration = "{mode}"') == []


def test_an_unknown_registration_mode_is_named(tmp_path):
    assert load(tmp_path, '["example.org"]', 'registration = "anyone"') == [
        'sms.registration: expected one of "open", "approval", "admin", got "anyone"']


@pytest.mark.parametrize("where", ['"."', '".."', '"/"', '"media/.."'])
def test_a_media_dir_that_holds_the_database_is_refused(tmp_path, where):
    [problem] = load(tmp_path, '["example.org"]', media_keys=f"dir = {where}")
    assert problem.startswith("sms.media.dir: ")
    assert "is or contains the database's directory" in problem


@pytest.mark.parametrize("where", ['"media"', '"../elsewhere"', '"/var/lib/gw-media"'])
def test_a_media_dir_of_its_own_is_fine(tmp_path, where):
    assert load(tmp_path, '["example.org"]', media_keys=f"dir = {where}") == []


def test_a_symlink_to_the_database_directory_is_seen_through(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "etc")
    [problem] = load(tmp_path, '["example.org"]', media_keys=f'dir = "{tmp_path / "link"}"')
    assert problem.startswith("sms.media.dir: ")
