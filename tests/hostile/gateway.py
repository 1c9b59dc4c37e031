"""The gateway under attack: a child process with the echo, sms and irc components.

A child process, not an in-process ``Application``: a livelocked or crashed gateway must show
up as a failed check (no answer within the deadline, process gone) instead of hanging or
killing the test run itself. Its log (INFO) tells how many times each component stream was
established and whether the server closed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transport.backends.sms import SmsBackend
from transport.testing.gateway import GatewayProcess
from transport.testing.servers.ports import free_port

ECHO = "echo.localhost"
SMS = "sms.localhost"
IRC = "irc.localhost"
COMPONENTS = {ECHO: "echo-secret", SMS: "sms-secret", IRC: "irc-secret"}
ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "5e1f0c0ffee0ddba11ab5e11ca7500d5"
POOL = ("+12125550100", "+12125550101", "+12125550102")
CONTACT = "+12125550142"
PUBLIC = "https://sms-gw.example.test"
ADMIN = "admin@localhost"
REAL_IRC_HOST = "127.0.0.1"
HOSTILE_IRC_HOST = "localhost"


def _toml_value(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


def _table(name: str, values: Mapping[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    lines += [f"{key} = {_toml_value(v)}" for key, v in values.items() if not isinstance(v, dict)]
    for key, sub in values.items():
        if isinstance(sub, dict):
            bare = re.fullmatch(r"[A-Za-z0-9_-]+", key)
            lines += ["", *_table(f"{name}.{key}" if bare else f"{name}.{json.dumps(key)}", sub)]
    return [*lines, ""]


def _sms_registration_key() -> dict[str, str]:
    """``registration = "open"`` where the sms backend knows the key (contract revision 2).

    The canaries need a user bound to a number at once; a gateway whose parser predates the
    key binds at once anyway and would refuse it as unknown.
    """
    try:
        SmsBackend.parse_settings(_sms_options(0, "http://127.0.0.1:1") | {"registration": "open"})
    except Exception:
        return {}
    return {"registration": "open"}


def _sms_options(webhook_port: int, standin_url: str) -> dict[str, Any]:
    return {
        "default_region": "US",
        "twilio": {"account_sid": ACCOUNT, "auth_token": TOKEN, "numbers": list(POOL),
                   "api_base_url": standin_url, "messages_per_second": 0},
        "webhook": {"listen_host": "127.0.0.1", "listen_port": webhook_port,
                    "public_url": PUBLIC},
        "media": {"dir": "media"},
    }


def write_gateway_config(
    directory: Path, xmpp_port: int, standin_url: str, irc_servers: Mapping[str, int],
) -> tuple[Path, int]:
    """A config for all three components; returns it and the webhook's listening port."""
    webhook_port = free_port()
    sms = {"jid": SMS, "secret": COMPONENTS[SMS], **_sms_registration_key(),
           **_sms_options(webhook_port, standin_url)}
    irc = {"jid": IRC, "secret": COMPONENTS[IRC], "throttle_limit": -1,
           "reconnect_max_delay": 1.0, "queue_timeout": 30.0,
           "servers": {host: {"port": port, "tls": False} for host, port in irc_servers.items()}}
    lines = [
        *_table("xmpp", {"host": "127.0.0.1", "port": xmpp_port, "admins": [ADMIN],
                         "allowed_domains": ["localhost"], "reconnect_max_delay": 1.0}),
        *_table("database", {"path": str(directory / "gw.sqlite3")}),
        *_table("logging", {"level": "INFO"}),
        *_table("echo", {"jid": ECHO, "secret": COMPONENTS[ECHO]}),
        *_table("sms", sms),
        *_table("irc", irc),
    ]
    path = directory / "gateway.toml"
    path.write_text("\n".join(lines))
    return path, webhook_port


_CONNECTED = re.compile(r"Component (\S+) connected to ")
_CLOSED = re.compile(r"Component (\S+) lost its stream")


@dataclass
class StreamCounts:
    """What the gateway's log says about its component streams."""

    established: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)

    @property
    def closed(self) -> int:
        return len(self.lost)


class HostileGateway:
    """The child gateway: start, wait until its streams and webhook are up, inspect, stop."""

    def __init__(self, directory: Path, config: Path, webhook_port: int) -> None:
        self.directory = directory
        self.webhook_port = webhook_port
        self.webhook_url = f"http://127.0.0.1:{webhook_port}"
        self.process = GatewayProcess(config, directory / "gateway.log", log_level="INFO")

    async def start(self, timeout: float = 20.0) -> None:
        self.process.start()
        deadline = time.monotonic() + timeout
        while set(self.streams().established) != set(COMPONENTS) or not await self._listening():
            if not self.alive:
                raise AssertionError("the gateway exited while starting:\n" + self.log_tail())
            if time.monotonic() > deadline:
                raise AssertionError("the gateway did not come up:\n" + self.log_tail())
            await asyncio.sleep(0.05)

    async def _listening(self) -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", self.webhook_port)
        except OSError:
            return False
        writer.close()
        return True

    @property
    def alive(self) -> bool:
        return self.process.proc is not None and self.process.proc.poll() is None

    def streams(self) -> StreamCounts:
        counts = StreamCounts()
        text = self.process.log_text() if self.process.log_path.exists() else ""
        for line in text.splitlines():
            if found := _CONNECTED.search(line):
                counts.established[found[1]] = counts.established.get(found[1], 0) + 1
            elif found := _CLOSED.search(line):
                counts.lost.append(line)
        return counts

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.process.log_text().splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it does not end (a livelocked loop never will)."""
        if not self.alive:
            return
        try:
            self.process.terminate(timeout=8)
        except Exception:
            self.process.kill()


@contextlib.asynccontextmanager
async def hostile_gateway(
    directory: Path, xmpp_port: int, standin_url: str, irc_servers: Mapping[str, int],
) -> AsyncIterator[HostileGateway]:
    config, webhook_port = write_gateway_config(directory, xmpp_port, standin_url, irc_servers)
    gateway = HostileGateway(directory, config, webhook_port)
    try:
        await gateway.start()
        yield gateway
    finally:
        gateway.stop()
