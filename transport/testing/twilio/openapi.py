"""Twilio's published OpenAPI description, served by Prism's validating mock (contract tests).

``scripts/bootstrap`` installs two pinned npm packages into ``.tools/npm`` (gitignored):
``@twilio/cli-core``, which ships Twilio's ``twilio_api_v2010.json``, and
``@stoplight/prism-cli``, whose ``prism mock`` answers a request that violates the spec
with a 4xx (422 for a schema violation, 401 without Basic auth) instead of an example.

What Prism cannot check: a ``MediaUrl`` is always refused ("must be array"), because the
spec gives no form ``encoding`` for the array; and only the success status of each
operation is defined, so Twilio's error codes cannot be provoked. Those paths are the
Twilio stand-in's job (:mod:`transport.testing.twilio`); the MMS request shape is checked
against the spec file itself (:func:`load_spec`).

Missing tools raise :class:`ToolsMissing` naming ``scripts/bootstrap``: a contract test
must fail, not skip, when its tools were never installed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

from transport.testing.servers.ports import free_port
from transport.testing.servers.process import ServerProcess

ROOT: Final = Path(__file__).resolve().parents[3]
NPM_DIR: Final = ROOT / ".tools" / "npm"
SPEC_IN_PACKAGE: Final = "@twilio/cli-core/src/services/twilio-api/twilio_api_v2010.json"

CREATE_MESSAGE: Final = ("/2010-04-01/Accounts/{AccountSid}/Messages.json", "post")
LIST_INCOMING_NUMBERS: Final = ("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
                                "get")


class ToolsMissing(RuntimeError):
    """Prism or the Twilio spec is not installed where ``scripts/bootstrap`` puts them."""


def _installed(path: Path, what: str) -> Path:
    if not path.is_file():
        raise ToolsMissing(
            f"{what} not found at {path}; run scripts/bootstrap, which installs the pinned "
            f"npm packages into {NPM_DIR}"
        )
    return path


def prism_binary() -> Path:
    """The ``prism`` command of ``@stoplight/prism-cli``."""
    return _installed(NPM_DIR / "node_modules" / ".bin" / "prism", "Prism (@stoplight/prism-cli)")


def spec_path() -> Path:
    """Twilio's OpenAPI description of the 2010-04-01 REST API (``@twilio/cli-core``)."""
    return _installed(NPM_DIR / "node_modules" / SPEC_IN_PACKAGE,
                      "Twilio's OpenAPI description (@twilio/cli-core)")


@functools.cache
def load_spec() -> dict[str, Any]:
    """The parsed spec (about 2 MB of JSON; parsed once per process)."""
    spec: dict[str, Any] = json.loads(spec_path().read_text(encoding="utf-8"))
    return spec


def operation(path: str, method: str) -> dict[str, Any]:
    """One operation object of the spec, e.g. ``operation(*CREATE_MESSAGE)``."""
    op: dict[str, Any] = load_spec()["paths"][path][method]
    return op


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/...``) to the object it names."""
    while "$ref" in node:
        target: Any = load_spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


class PrismMock(ServerProcess):
    """``prism mock`` serving :func:`spec_path` on a free loopback port, stopped by PID.

    Use :meth:`start`/:meth:`close` (or the async variants); :attr:`url` is the base URL to
    give the gateway as ``api_base_url``. Prism logs every request, with the violations it
    found, to ``output.log`` (in :meth:`log_tail`).
    """

    kind: ClassVar[str] = "prism"
    start_timeout: float = 90.0  # usually 4-20 s: it compiles the 2 MB spec first

    def __init__(self, **kwargs: Any) -> None:
        self._binary = prism_binary()
        self._spec = spec_path()
        super().__init__(**kwargs)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _assign_ports(self) -> None:
        self.port = free_port(self.host)

    def _write_config(self) -> None:
        pass  # everything is on the command line

    def _command(self) -> list[str]:
        return [str(self._binary), "mock", "-h", self.host, "-p", str(self.port),
                str(self._spec)]

    def _ready_ports(self) -> Sequence[int]:
        return [self.port]
