"""Shared pieces for the IRC command tests: a real store, a fake connection manager."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transport.backends.irc.config.prefs import PrefsStore
from transport.backends.irc.contracts import ConnectionInfo
from transport.backends.irc.from_xmpp.commands import CommandDefaults, IrcCommands, Target
from transport.backends.irc.schema import MIGRATIONS
from transport.core.backend import Command, CommandRequest, CommandResult
from transport.store import Store

COMPONENT = "irc.localhost"
ADMIN = "admin@localhost"
ALICE = "alice@localhost"
BOB = "bob@localhost"


def classify(localpart: str) -> Target | None:
    """``#chan%host`` -> channel, ``host`` -> server, ``nick%host`` -> nothing to configure."""
    if "%" in localpart:
        name, host = localpart.split("%", 1)
        return Target("channel", host.lower(), name.lower()) if name.startswith("#") else None
    return Target("server", localpart.lower())


class FakeControl:
    """Stands in for the connection manager: connections per user, calls recorded."""

    def __init__(self) -> None:
        self.conns: dict[str, list[ConnectionInfo]] = {}
        self.calls: list[tuple[Any, ...]] = []

    def connect(self, user: str, server: str, *, tls: bool = False, port: int = 6667,
                since: float | None = 1_700_000_000.0, channels: Sequence[str] = (),
                resources: Sequence[str] = ("phone",)) -> None:
        info = ConnectionInfo(server, port, tls, user.partition("@")[0], since,
                              tuple(channels), tuple(resources))
        self.conns.setdefault(user, []).append(info)

    def connections(self, user: str) -> Sequence[ConnectionInfo]:
        return list(self.conns.get(user, []))

    def connected_users(self) -> Sequence[str]:
        return [u for u, c in self.conns.items() if c]

    async def disconnect(self, user: str, servers: Sequence[str], reason: str) -> None:
        self.calls.append(("disconnect", user, tuple(servers), reason))
        self.conns[user] = [c for c in self.conns[user] if c.server not in servers]

    async def disconnect_user(self, user: str, reason: str) -> None:
        self.calls.append(("disconnect_user", user, reason))
        self.conns.pop(user, None)


@dataclass
class Env:
    store: Store
    prefs: PrefsStore
    control: FakeControl
    commands: IrcCommands
    changes: list[tuple[str, Target]] = field(default_factory=list)

    def command(self, node: str) -> Command:
        return next(c for c in self.commands.commands() if c.node == node)

    async def run(self, node: str, requester: str, target: str = "",
                  values: dict[str, Any] | None = None) -> CommandResult:
        return await self.command(node).handler(CommandRequest(requester, target), values)

    async def form(self, node: str, requester: str, target: str = "") -> dict[str, Any]:
        """The first step's fields by var, with their shown values."""
        result = await self.run(node, requester, target)
        return {f.var: f for f in result.form}


async def make_env(tmp_path: Path, defaults: CommandDefaults | None = None) -> Env:
    store = await Store.open(tmp_path / "gw.sqlite3", extra_migrations={"irc": MIGRATIONS})
    prefs = PrefsStore(store.backend_storage("irc"), COMPONENT)
    control = FakeControl()
    changes: list[tuple[str, Target]] = []

    async def changed(user: str, target: Target) -> None:
        changes.append((user, target))

    commands = IrcCommands(prefs, control, classify, is_admin=lambda j: j == ADMIN,
                           defaults=defaults, changed=changed, clock=lambda: 1_700_000_090.0)
    return Env(store, prefs, control, commands, changes)
