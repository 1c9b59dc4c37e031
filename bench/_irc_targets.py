"""The two gateways under test (biboumi and ours) and getting a user into a room."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from _irc_common import (
    BIBOUMI,
    IRC_HOST,
    OURS,
    SECRET,
    log,
    now,
)
from _irc_crowd import BenchClient, configure_biboumi, send_join, status_codes
from _irc_servers import (
    BenchGateway,
    BiboumiServer,
)

from transport.testing.gateway import ComponentSpec, write_config
from transport.testing.servers.ircd import NgircdServer
from transport.testing.servers.prosody import ProsodyServer

# ----------------------------------------------------------------------------- gateways

class Target:
    """One gateway under test: how to start, stop and address it."""

    key = ""
    label = ""
    domain = ""
    tag = ""

    def room(self, channel: str) -> str:
        return f"{channel}%{IRC_HOST}@{self.domain}"

    @property
    def pid(self) -> int | None:
        raise NotImplementedError

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def prepare(self, client: BenchClient) -> None:
        """Per-user settings the gateway needs before the user's first join."""

    def describe(self) -> str:
        raise NotImplementedError


class BiboumiTarget(Target):
    key, label, domain, tag = "biboumi", "biboumi 9.0", BIBOUMI, "bb"

    def __init__(self, prosody: ProsodyServer, ngircd: NgircdServer) -> None:
        self.server = BiboumiServer(BIBOUMI, SECRET, prosody.component_port)
        self.ngircd = ngircd

    @property
    def pid(self) -> int | None:
        return self.server.pid

    async def start(self) -> None:
        await self.server.astart()

    async def stop(self) -> None:
        # With 500 users biboumi's graceful stop (QUIT per connection, then waiting for
        # the server to close each one) takes a while; SIGKILL after 60 s.
        await self.server.astop(timeout=60.0)

    async def prepare(self, client: BenchClient) -> None:
        await configure_biboumi(client, f"{IRC_HOST}@{BIBOUMI}", self.ngircd.port)

    def describe(self) -> str:
        return (f"biboumi {self.server.config_path} (log_level=1, SQLite {self.server.db_path}:"
                " biboumi's defaults, rollback journal, synchronous=FULL, one insert per line"
                " per user)")

    def close(self) -> None:
        self.server.close()


class OursTarget(Target):
    key, label, domain, tag = "ours", "xmpp-transport", OURS, "tr"

    def __init__(self, workdir: Path, prosody: ProsodyServer, ngircd: NgircdServer,
                 synchronous: str) -> None:
        self.workdir = workdir
        self.db_path = workdir / "gw.sqlite3"
        self.synchronous = synchronous
        servers = f'\n[irc.servers."{IRC_HOST}"]\nport = {ngircd.port}\ntls = false\n'
        self.config = write_config(
            workdir / "gw.toml", "127.0.0.1", prosody.component_port, self.db_path,
            [ComponentSpec("irc", OURS, SECRET, {"throttle_limit": -1})], extra=servers)
        text = self.config.read_text().replace(
            "[database]\n", f'[database]\nsynchronous = "{synchronous}"\n', 1)
        self.config.write_text(text)
        self.proc: BenchGateway | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    async def start(self) -> None:
        self.proc = BenchGateway(self.config, self.workdir / "gw.log", log_level="INFO")
        self.proc.start()

    async def stop(self) -> None:
        if self.proc is not None:
            await asyncio.to_thread(self.proc.stop, 60.0)

    def describe(self) -> str:
        return (f"python -m transport run --config {self.config} --log-level INFO "
                f"(SQLite {self.db_path}, synchronous={self.synchronous})")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stop(5)


async def wait_online(client: BenchClient, target: Target, timeout: float = 30.0) -> float:
    """Until the component answers disco#info (Prosody answers an error while it is away)."""
    start = now()
    while now() - start < timeout:
        if target.pid is None:
            raise RuntimeError(f"{target.label} exited; see its log")
        try:
            await client.plugin["xep_0030"].get_info(jid=target.domain, timeout=2)
            return now() - start
        except Exception:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{target.label} did not come online in {timeout:.0f} s")


async def wait_offline(client: BenchClient, target: Target, timeout: float = 30.0) -> None:
    """Until Prosody no longer routes to the component (a new one would be refused)."""
    start = now()
    while now() - start < timeout:
        try:
            await client.plugin["xep_0030"].get_info(jid=target.domain, timeout=2)
        except Exception:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{target.label}: Prosody still had the component after {timeout:.0f} s")


async def start_target(client: BenchClient, target: Target, attempts: int = 5) -> float:
    """Start and wait until online; retried when Prosody still held the old component."""
    for attempt in range(attempts):
        try:
            await target.start()
            return await wait_online(client, target)
        except Exception as exc:
            if attempt == attempts - 1:
                raise
            log(f"{target.label} did not come up ({str(exc).splitlines()[0]}); retrying")
            await target.stop()
            await asyncio.sleep(1.0)
    raise AssertionError("unreachable")


async def join_room(client: BenchClient, room: str, nick: str, timeout: float = 30.0) -> None:
    """Join and wait for our self-presence (110), then the subject if it comes."""
    send_join(client, room, nick)

    def self_presence(s: Any) -> bool:
        return (s.name == "presence" and s["from"].bare == room
                and (s["type"] == "error" or "110" in status_codes(s)))

    got = await client.expect(self_presence, timeout)
    if got["type"] == "error":
        raise RuntimeError(f"join {room} refused: {got['error']['condition']}")
    with contextlib.suppress(TimeoutError):
        await client.expect(lambda s: s.name == "message" and s["from"].bare == room
                            and s.xml.find("{jabber:client}subject") is not None, 5)
    client.drain()
