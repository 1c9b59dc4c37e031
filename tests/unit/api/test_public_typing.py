"""The public backend API is typed: a third-party backend passes ``mypy --strict`` alone.

mypy runs with an empty config and ``--no-site-packages``, with only this repository on
``MYPYPATH``: slixmpp, irc, twilio and aiosqlite are then missing, as stubs for them would be
for a third party, so a public module that imported one (or leaked its types) fails here.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import tomllib
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

import transport
from transport.core import backend as backend_api
from transport.core import commands as commands_api
from transport.core import context as context_api
from transport.core import errors as errors_api
from transport.core import events as events_api
from transport.core import metrics as metrics_api
from transport.core import storage as storage_api

REPO = Path(transport.__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def _mypy(workdir: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    config = workdir / "mypy.ini"
    config.write_text("[mypy]\n")
    env = {**os.environ, "MYPYPATH": str(REPO)}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-site-packages",
         "--config-file", str(config), "--cache-dir", str(workdir / "cache"), *targets],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.mark.timeout(300)
def test_a_third_party_backend_and_echo_pass_mypy_strict_alone(tmp_path: Path) -> None:
    """The worked example of docs/example.md (``examples.roomchat``) too."""
    shutil.copy(HERE / "third_party_backend.py", tmp_path / "mynet_backend.py")
    result = _mypy(tmp_path, "-m", "mynet_backend", "-p", "transport.backends.echo",
                   "-p", "examples.roomchat")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


@pytest.mark.timeout(300)
def test_the_check_catches_a_leak(tmp_path: Path) -> None:
    """The same harness fails on a module importing slixmpp, which has no stubs here."""
    (tmp_path / "leaky.py").write_text(
        "from slixmpp import JID\n\ndef bare(jid: str) -> str:\n    return str(JID(jid).bare)\n")
    result = _mypy(tmp_path, "leaky.py")
    assert result.returncode == 1
    assert "slixmpp" in result.stdout


API_MODULES = (backend_api, commands_api, context_api, errors_api, events_api, metrics_api,
               storage_api)


def _public_hints() -> Iterator[tuple[str, object]]:
    """(where, annotation) for every annotation a backend can meet in the API modules."""
    for module in API_MODULES:
        namespace = vars(module)
        for name, obj in namespace.items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                for where, hint in typing.get_type_hints(obj, namespace).items():
                    yield f"{name} {where}", hint
            elif inspect.isclass(obj):
                for where, hint in typing.get_type_hints(obj, namespace).items():
                    yield f"{name}.{where}", hint
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    member = getattr(member, "__func__", member)  # classmethods
                    target = member.fget if isinstance(member, property) else member
                    if inspect.isfunction(target):
                        for where, hint in typing.get_type_hints(target, namespace).items():
                            yield f"{name}.{attr} {where}", hint


def test_no_public_annotation_is_any() -> None:
    hints = list(_public_hints())
    assert any(where.startswith("BackendContext.store") for where, _ in hints)
    assert any(where.startswith("Backend.__init__ settings") for where, _ in hints)
    leaking = [f"{where}: {hint!r}" for where, hint in hints if "Any" in repr(hint)]
    assert leaking == []


def test_the_package_ships_its_py_typed_marker() -> None:
    assert (REPO / "transport" / "py.typed").is_file()
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["transport"]
