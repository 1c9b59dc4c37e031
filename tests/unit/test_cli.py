"""The command line, mostly through a real ``python -m transport`` process."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import transport
from transport import cli
from transport.config import Settings
from transport.core import registry
from transport.core.backend import Backend, Identity
from transport.core.events import OutgoingMessage, SendOutcome
from transport.logging_setup import setup_logging

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"

# A third-party backend package, registered the documented way: an entry point in the
# ``transport.backends`` group of an installed distribution (here a dist-info directory on
# PYTHONPATH), so the subprocess finds it with no help from the tests.
BACKEND_MODULE = """
from transport.core.backend import Backend, Identity, setting, settings_table

@settings_table
class Remote:
    password: str = setting(doc="The password.", secret=True, env="CLITEST_PASSWORD",
                            example="pw")

@settings_table
class CliTestSettings:
    remote: Remote = setting(doc="The remote side.")

class CliTestBackend(Backend):
    name = "clitest"
    identities = (Identity("gateway", "test"),)
    settings_type = CliTestSettings

    def normalize_contact(self, localpart):
        return localpart

    async def send(self, message):
        raise NotImplementedError
"""
ENTRY_POINTS = """[transport.backends]
clitest = clitest_backend:CliTestBackend
broken = clitest_missing_module:Nothing
"""
GOOD = """
[database]
path = "t.sqlite3"

[clitest]
jid = "test.example.org"
secret = "cli-secret"

[clitest.remote]
password = "pw-in-file"
"""


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    dist = site / "clitest_backends-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: clitest-backends\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    (site / "clitest_backend.py").write_text(BACKEND_MODULE)
    return site


def transport_cmd(
    site: Path | None, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TRANSPORT_", "CLITEST"))}
    if site is not None:
        full_env["PYTHONPATH"] = str(site)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "transport", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_version() -> None:
    result = transport_cmd(None, "--version")
    assert (result.returncode, result.stdout) == (0, f"xmpp-transport {transport.__version__}\n")


def test_check_config_ok(tmp_path: Path, plugin_path: Path) -> None:
    result = transport_cmd(plugin_path, "check-config", "--config", str(write(tmp_path, GOOD)))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "config OK: 1 component(s): clitest=test.example.org\n"
    assert "warning: backend broken is installed but unusable: cannot load " in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_problems_one_per_line(tmp_path: Path, plugin_path: Path) -> None:
    text = (
        GOOD.replace('path = "t.sqlite3"', "path = 1").replace('password = "pw-in-file"', "")
        + '[xmpp]\nport = "abc"\nhots = 1\n[nope]\n[broken]\n'
    )
    result = transport_cmd(plugin_path, "check-config", "--config", str(write(tmp_path, text)))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        'xmpp.port: expected an integer from 1 to 65535, got "abc"',
        "xmpp.hots: unknown key",
        "database.path: expected a string, got 1",
        "clitest.remote.password: missing",
        "nope: unknown section (installed backends: "
        + ", ".join(sorted(["clitest", *registry.load_backends()]))
        + ")",
        "broken: backend failed to load (cannot load clitest_missing_module:Nothing: "
        "ModuleNotFoundError: No module named 'clitest_missing_module')",
    ]


def test_secrets_from_environment(tmp_path: Path, plugin_path: Path) -> None:
    text = GOOD.replace('secret = "cli-secret"', "").replace('password = "pw-in-file"', "")
    path = write(tmp_path, text)
    result = transport_cmd(plugin_path, "check-config", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "clitest.secret: missing",
        "clitest.remote.password: missing",
    ]
    env = {"TRANSPORT_CLITEST_SECRET": "env-secret", "CLITEST_PASSWORD": "env-pw"}
    result = transport_cmd(plugin_path, "check-config", "--config", str(path), env=env)
    assert result.returncode == 0, result.stderr
    assert "env-secret" not in result.stdout + result.stderr


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[xmpp]\nport = \n")
    result = transport_cmd(None, "check-config", "--config", str(path))
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{path}:2:") and "invalid TOML" in line


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert cli.main(["check-config"]) == 2
    assert cli.main(["run", "--config", "x", "--log-level", "LOUD"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_run_with_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--config", str(tmp_path / "missing.toml")]) == 2
    assert capsys.readouterr().err.endswith("cannot read: No such file or directory\n")


class EchoStandIn(Backend):
    """Used only when the real echo backend cannot be imported yet."""

    name = "echo"
    identities = (Identity("gateway", "echo"),)

    @classmethod
    def parse_settings(cls, section: Mapping[str, Any]) -> Any:
        return dict(section)

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        raise NotImplementedError


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    found = registry.load_backends()
    if "echo" not in found:
        stand_in = registry.LoadedBackends()
        stand_in["echo"] = EchoStandIn
        monkeypatch.setattr(registry, "load_backends", lambda: stand_in)


@pytest.mark.usefixtures("installed")
def test_example_config_passes_check_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-config", "--config", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == "config OK: 1 component(s): echo=echo.example.org\n"


def test_example_config_with_real_echo_backend() -> None:
    result = transport_cmd(None, "check-config", "--config", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "config OK: 1 component(s): echo=echo.example.org\n"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    slix = logging.getLogger("slixmpp").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("slixmpp").setLevel(slix)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("installed", "restore_logging")
def test_run_calls_app_with_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Settings] = []
    app = types.ModuleType("transport.app")

    def run(settings: Settings) -> int:
        seen.append(settings)
        return 0

    app.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "transport.app", app)
    assert cli.main(["run", "--config", str(EXAMPLE), "--log-level", "debug"]) == 0
    [settings] = seen
    assert settings.log_level == "DEBUG"
    assert [c.name for c in settings.components] == ["echo"]


@pytest.mark.usefixtures("restore_logging")
def test_setup_logging_quiets_slixmpp_unless_debug() -> None:
    setup_logging("info")
    setup_logging("INFO")
    root = logging.getLogger()
    ours = [h for h in root.handlers if type(h).__name__ == "_TransportHandler"]
    assert len(ours) == 1 and root.level == logging.INFO
    assert logging.getLogger("slixmpp").level == logging.WARNING
    setup_logging("ERROR")
    assert logging.getLogger("slixmpp").level == logging.ERROR
    setup_logging("DEBUG")
    assert logging.getLogger("slixmpp").getEffectiveLevel() == logging.DEBUG
    with pytest.raises(ValueError):
        setup_logging("LOUD")
