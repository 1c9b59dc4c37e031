"""A backend written elsewhere is tested with the plugin's fixtures alone, in a few lines.

The backend package and its test are written to a temporary directory and run by pytest in
a child process, as its author would run them: the plugin comes from the installed entry
point, not from this repository's conftest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import transport
from transport.testing.fixtures.backend import component_for
from transport.testing.gateway import running_gateway
from transport.testing.xmpp_steps import send_chat

pytestmark = pytest.mark.slow

BACKEND = '''
from transport.core.backend import Backend, Identity, setting, settings_table
from transport.core.events import OutgoingMessage, SendOutcome, XmppMessage


@settings_table
class ShoutSettings:
    """The shout backend: answers in capitals."""

    suffix: str = setting(default="", doc="added to every answer")


class ShoutBackend(Backend):
    """Answers every message in capitals, from the contact it was sent to."""

    name = "shout"
    identities = (Identity("gateway", "shout", "Shout"),)
    settings_type = ShoutSettings

    def normalize_contact(self, localpart: str) -> str:
        return localpart.lower()

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        reply = SHOUT(message.body) + self.settings.suffix
        sender = f"{message.contact}@{self.ctx.component_jid}"
        await self.ctx.deliver_many([XmppMessage(to=message.user, sender=sender, body=reply)])
        return SendOutcome(legacy_ids=(message.stanza_id,), confirmed=True)
'''

AUTHORS_TEST = '''
import pytest
from shout import ShoutBackend
from transport.testing.xmpp_steps import send_chat


@pytest.fixture
def transport_backend():
    return ShoutBackend


@pytest.fixture
def transport_settings():
    return {"suffix": "!"}


async def test_shouts_back(gateway, users):
    alice = await users()
    send_chat(alice, "bob@shout.localhost", "hello")
    await alice.expect_message(sender="bob@shout.localhost", body="HELLO!", timeout=5)
'''

PROJECT = '''
[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
pythonpath = ["."]
'''


def write_project(root: Path, shout: str) -> Path:
    (root / "shout").mkdir(parents=True)
    (root / "shout" / "__init__.py").write_text(BACKEND.replace("SHOUT", shout))
    (root / "tests").mkdir()
    (root / "tests" / "test_shout.py").write_text(AUTHORS_TEST)
    (root / "pyproject.toml").write_text(PROJECT)
    return root


def run_pytest(root: Path) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` in the author's project, seeing this checkout's package."""
    checkout = str(Path(transport.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (checkout, os.environ.get("PYTHONPATH")) if p)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=120, check=False,
    )


def test_the_plugin_is_installed_as_a_pytest11_entry_point():
    from importlib.metadata import entry_points

    plugins = entry_points(group="pytest11", name="transport.testing.pytest_plugin")
    assert [p.value for p in plugins][:1] == ["transport.testing.pytest_plugin"], \
        "run scripts/bootstrap: the installed package predates the plugin's entry point"


def test_a_third_party_backend_passes_its_few_lines_of_tests(tmp_path):
    result = run_pytest(write_project(tmp_path / "shout-backend", "str.upper"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_same_tests_fail_when_the_backend_is_broken(tmp_path):
    result = run_pytest(write_project(tmp_path / "shout-backend", "str.lower"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout
    assert "no matching stanza arrived" in result.stdout


async def test_the_documented_gateway_with_other_settings(gateway_settings, users):
    """docs/testing.md: a gateway the test starts itself, with settings of its own."""
    spec = component_for("echo", {"require_registration": False})
    async with running_gateway(gateway_settings(component=spec)):
        alice = await users()
        send_chat(alice, "bob@echo.localhost", "no registration needed")
        await alice.expect_message(sender="bob@echo.localhost", body="no registration needed")
