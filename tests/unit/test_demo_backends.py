"""Which backends ``scripts/demo`` runs, and the settings file it reads for them."""

import pytest

from transport.backends.echo import EchoBackend, EchoSettings
from transport.demo import DemoError, choose_backends, read_backend_settings
from transport.demo_parts import describe_backend

INSTALLED = ("echo", "irc", "mine", "sms")


def test_without_backend_the_demo_runs_todays_set_in_todays_order():
    assert choose_backends([], INSTALLED) == ["echo", "sms", "irc"]
    assert choose_backends([], ("echo", "mine")) == ["echo"]


def test_named_backends_run_in_the_order_given_once_each():
    assert choose_backends(["mine", "echo", "mine"], INSTALLED) == ["mine", "echo"]


def test_unknown_names_are_listed_with_the_installed_ones():
    with pytest.raises(DemoError) as refused:
        choose_backends(["echo", "nope", "gone"], INSTALLED)
    assert str(refused.value) == (
        "no backend named 'nope', 'gone' is installed; installed: echo, irc, mine, sms")


def test_the_settings_file_holds_one_table_per_backend(tmp_path):
    path = tmp_path / "demo.toml"
    path.write_text("[mine]\ntoken = 'x'\n[mine.server]\nport = 7\n")
    assert read_backend_settings(path) == {"mine": {"token": "x", "server": {"port": 7}}}
    assert read_backend_settings(None) == {}
    path.write_text("token = 'x'\n")
    with pytest.raises(DemoError, match="expected one table per backend, not token"):
        read_backend_settings(path)
    path.write_text("[mine\n")
    with pytest.raises(DemoError, match="cannot read the settings file"):
        read_backend_settings(path)


class Mine(EchoBackend):
    name = "mine"


def test_a_backend_the_demo_does_not_know_is_described_by_itself():
    assert describe_backend(Mine(None, EchoSettings()), "mine.localhost") == [
        "  Echo gateway (mine.localhost, the mine backend):",
        "  - register with mine.localhost (User name): Choose a user name; it is yours alone "
        "on this gateway.",
        "  - Chat with anything@mine.localhost: every message comes back.",
    ]
