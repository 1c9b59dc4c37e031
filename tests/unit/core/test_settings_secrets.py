"""Secrets declared on their key: ``setting(..., secret=True, env="VAR")`` is what the config
loader, the log masker and the example config follow."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import pytest

from transport.cli import configured_secrets
from transport.config import ConfigError, load_settings
from transport.core.backend import Backend, Identity
from transport.core.events import OutgoingMessage, SendOutcome
from transport.core.settings import setting, settings_table
from transport.core.settings_example import ExampleWriter
from transport.core.settings_secrets import env_overrides, secret_values

TOKEN = "tok-from-env-0123"


@settings_table
class Host:
    """One host under [net.hosts."NAME"]."""

    password: str | None = setting(default=None, secret=True, doc="Its password.")


@settings_table
class Account:
    """The account."""

    token: str = setting(secret=True, env="NET_TOKEN", example="change-me",
                         doc="Required, here or in the environment. The token.")
    user: str = setting(default="me", doc="The user.")
    backup: str | None = setting(default=None, secret=True, env="NET_BACKUP", example="b",
                                 doc="A second token.")


@settings_table
class Spare:
    """A spare account, only when configured."""

    token: str = setting(secret=True, env="NET_SPARE", example="s", doc="Its token.")


@settings_table
class NetSettings:
    """The net backend."""

    account: Account = setting(doc="The account.")
    key: str = setting(default="k", secret=True, env="NET_KEY", doc="A key.")
    spare: Spare | None = setting(default=None, doc="The spare account.")
    hosts: Mapping[str, Host] = setting(default_factory=dict, example="h.example",
                                        doc="Hosts.")


class NetBackend(Backend[NetSettings]):
    """Reads its section with the default ``parse_settings``."""

    name: ClassVar[str] = "net"
    identities: ClassVar[tuple[Identity, ...]] = (Identity("gateway", "test"),)
    settings_type: ClassVar[type | None] = NetSettings

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        raise NotImplementedError


def test_the_declared_variables_by_dotted_key() -> None:
    assert env_overrides(NetSettings) == {
        "account.token": "NET_TOKEN", "account.backup": "NET_BACKUP", "key": "NET_KEY",
        "spare.token": "NET_SPARE"}
    assert env_overrides(Host) == {}


def test_env_is_for_secrets_with_a_variable_name() -> None:
    with pytest.raises(TypeError, match="secret=True"):
        setting(default="x", doc="d", env="PLAIN")
    with pytest.raises(TypeError, match="variable name"):
        setting(default="x", doc="d", secret=True, env="NOT A NAME")


@settings_table
class Port:
    port: int = setting(default=1, secret=True, env="THE_PORT", doc="d")


@settings_table
class Entry:
    token: str = setting(default="t", secret=True, env="WHICH_ONE", doc="d")


@settings_table
class Entries:
    entries: Mapping[str, Entry] = setting(default_factory=dict, example="e", doc="d")


def test_env_a_loader_could_not_honour_is_refused() -> None:
    with pytest.raises(TypeError, match="needs a str key"):
        env_overrides(Port)
    with pytest.raises(TypeError, match="table of sub-tables"):
        env_overrides(Entries)


def test_secret_values_walk_tables_and_tables_of_tables() -> None:
    settings = NetSettings(account=Account(token="tok", backup=None), key="the-key",
                           hosts={"a": Host(password="pw-a"), "b": Host()})
    assert list(secret_values(NetSettings, settings)) == ["tok", "the-key", "pw-a"]


def test_the_example_names_the_variable_in_the_keys_comment() -> None:
    out = ExampleWriter(True)
    out.table(Account, "net.account")
    text = "\n".join(out.lines)
    assert "# Required, here or in the environment. The token. A non-empty NET_TOKEN in the " \
        "environment\n# overrides it.\ntoken = " in text
    assert "# The user.\nuser = " in text, "keys without env are shown as declared"


def _config(tmp_path: Path, section: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[database]\npath = "t.sqlite3"\n[net]\njid = "net.example.org"\n'
                    f'secret = "component-secret"\n{section}')
    return path


def test_the_loader_puts_the_variables_in_place_of_the_keys(tmp_path: Path) -> None:
    path = _config(tmp_path, '[net.account]\ntoken = "file-token"\n')
    backends = {"net": NetBackend}
    parsed = load_settings(path, env={}, backends=backends).components[0].backend_settings
    assert (parsed.key, parsed.account.token, parsed.account.backup) == ("k", "file-token", None)
    env = {"NET_TOKEN": TOKEN, "NET_KEY": "key-from-env", "NET_BACKUP": ""}
    parsed = load_settings(path, env=env, backends=backends).components[0].backend_settings
    assert (parsed.key, parsed.account.token, parsed.account.backup) == (
        "key-from-env", TOKEN, None), "a set variable wins; an empty one changes nothing"
    assert parsed.spare is None, "no variable: an absent optional table stays absent"
    env = {"NET_SPARE": "spare-from-env"}
    parsed = load_settings(path, env=env, backends=backends).components[0].backend_settings
    assert parsed.spare == Spare(token="spare-from-env")


def test_a_required_secret_may_come_from_the_environment_alone(tmp_path: Path) -> None:
    path = _config(tmp_path, "")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, backends={"net": NetBackend})
    assert info.value.problems == ["net.account.token: missing"]
    settings = load_settings(path, env={"NET_TOKEN": TOKEN}, backends={"net": NetBackend})
    assert settings.components[0].backend_settings.account.token == TOKEN
    assert configured_secrets(settings) == ["component-secret", TOKEN, "k"]
    assert TOKEN not in repr(settings)


def test_a_table_in_the_way_of_a_variable_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    path = _config(tmp_path, 'account = "not a table"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={"NET_TOKEN": TOKEN}, backends={"net": NetBackend})
    assert info.value.problems == ['net.account: expected a table, got "not a table"']


def test_a_bad_declaration_is_a_problem_of_the_backends_section(tmp_path: Path) -> None:
    class BadNet(NetBackend):
        settings_type: ClassVar[type | None] = Port

    with pytest.raises(ConfigError) as info:
        load_settings(_config(tmp_path, ""), env={}, backends={"net": BadNet})
    assert info.value.problems == [
        "net: invalid settings (TypeError: Port.port: env needs a str key)"]
