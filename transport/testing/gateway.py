"""Run the gateway against a real server from a test or benchmark, in-process or as a child.

In-process is fast and lets a test reach into the store; the child process is for what
only a real process shows: signals, exit codes, SIGKILL recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transport.config import ComponentSettings, DatabaseSettings, Settings, XmppSettings
from transport.core.backend import Backend
from transport.core.registry import load_backends

if TYPE_CHECKING:  # the application (slixmpp, aiohttp) is imported when a gateway starts, so
    # that loading the pytest plugin stays cheap for test runs that start none
    from transport.app import Application


@dataclass(frozen=True)
class ComponentSpec:
    """One component to run: backend name, domain, secret and the backend's own keys."""

    backend: str | type[Backend[Any]]
    jid: str
    secret: str
    options: dict[str, Any] | None = None


def build_settings(
    host: str,
    port: int,
    db_path: Path,
    components: Sequence[ComponentSpec],
    *,
    admins: Sequence[str] = (),
    allowed_domains: Sequence[str] = (),
    reconnect_max_delay: float = 1.0,
    keepalive_interval: float = 30.0,
    ping_timeout: float = 5.0,
) -> Settings:
    backends = load_backends()
    return Settings(
        xmpp=XmppSettings(
            host=host, port=port, admins=tuple(admins), allowed_domains=tuple(allowed_domains),
            reconnect_max_delay=reconnect_max_delay, keepalive_interval=keepalive_interval,
            ping_timeout=ping_timeout,
        ),
        database=DatabaseSettings(path=db_path),
        components=tuple(_component(c, backends) for c in components),
    )


def _component(
    spec: ComponentSpec, installed: Mapping[str, type[Backend[Any]]]
) -> ComponentSettings:
    backend = installed[spec.backend] if isinstance(spec.backend, str) else spec.backend
    return ComponentSettings(
        name=backend.name, jid=spec.jid, secret=spec.secret, backend=backend,
        backend_settings=backend.parse_settings(dict(spec.options or {})),
    )


@contextlib.asynccontextmanager
async def running_gateway(settings: Settings, timeout: float = 10.0) -> AsyncIterator[Application]:
    """An ``Application`` started and connected; stopped cleanly on exit."""
    from transport.app import Application

    app = Application(settings)
    await app.start()
    try:
        await asyncio.gather(*(r.wait_online(timeout) for r in app.runtimes))
        yield app
    finally:
        await app.stop()


def write_config(
    path: Path,
    host: str,
    port: int,
    db_path: Path,
    components: Sequence[ComponentSpec],
    *,
    admins: Sequence[str] = (),
    allowed_domains: Sequence[str] = (),
    extra: str = "",
) -> Path:
    """A TOML config file for running the gateway as a child process."""
    lines = [
        "[xmpp]",
        f'host = "{host}"',
        f"port = {port}",
        f"admins = {list(admins)!r}".replace("'", '"'),
        f"allowed_domains = {list(allowed_domains)!r}".replace("'", '"'),
        "reconnect_max_delay = 1.0",
        "",
        "[database]",
        f'path = "{db_path}"',
        "",
    ]
    for c in components:
        name = c.backend if isinstance(c.backend, str) else c.backend.name
        lines += [f"[{name}]", f'jid = "{c.jid}"', f'secret = "{c.secret}"']
        for key, value in (c.options or {}).items():
            lines.append(f"{key} = {_toml(value)}")
        lines.append("")
    path.write_text("\n".join(lines) + extra)
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


class GatewayProcess:
    """``python -m transport run`` as a child process, stopped by its own PID."""

    def __init__(self, config: Path, log_path: Path, log_level: str = "DEBUG") -> None:
        self.config = config
        self.log_path = log_path
        self.log_level = log_level
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "transport", "run", "--config", str(self.config),
             "--log-level", self.log_level],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=dict(os.environ),
        )
        log.close()

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")
