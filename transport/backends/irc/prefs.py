"""Per-user IRC preferences (biboumi's configure forms), stored in ``irc_prefs``.

Three scopes, as in biboumi: the gateway (``global``), one IRC server (``server:HOST``) and
one channel (``channel:HOST:#chan``, channel case-folded by the caller). Unset values are
``None`` so the reader can fall back to the config file's defaults.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Final, TypeVar

_GET: Final = "SELECT data FROM irc_prefs WHERE component = ? AND user = ? AND scope = ?"
_SET: Final = """
INSERT INTO irc_prefs (component, user, scope, data) VALUES (?, ?, ?, ?)
ON CONFLICT (component, user, scope) DO UPDATE SET data = excluded.data"""
_PERSISTENT: Final = "SELECT user, scope, data FROM irc_prefs WHERE component = ? AND scope LIKE ?"
_FORGET: Final = "DELETE FROM irc_prefs WHERE component = ? AND user = ?"


@dataclass(frozen=True, slots=True)
class GlobalPrefs:
    """Gateway-wide choices of one user."""

    max_history_length: int = 20
    record_history: bool = True
    persistent: bool | None = None


@dataclass(frozen=True, slots=True)
class ServerPrefs:
    """How one user connects to one IRC server. Secrets are never shown back in forms."""

    ports: tuple[int, ...] = ()
    tls_ports: tuple[int, ...] = ()
    verify_cert: bool | None = None
    fingerprint: str | None = None
    nick: str | None = None
    password: str | None = None
    sasl_password: str | None = None
    username: str | None = None
    realname: str | None = None
    after_connect_commands: tuple[str, ...] = ()
    throttle_limit: int | None = None
    encoding_in: str | None = None
    encoding_out: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelPrefs:
    """One user's choices for one channel."""

    persistent: bool | None = None
    record_history: bool | None = None
    encoding_in: str | None = None
    encoding_out: str | None = None


P = TypeVar("P", GlobalPrefs, ServerPrefs, ChannelPrefs)


def server_scope(host: str) -> str:
    return f"server:{host.lower()}"


def channel_scope(host: str, folded_channel: str) -> str:
    return f"channel:{host.lower()}:{folded_channel}"


class PrefsStore:
    """Reads and writes the three kinds of preferences of one IRC component."""

    def __init__(self, store: Any, component: str) -> None:
        self._db = store.db
        self._component = component

    async def global_prefs(self, user: str) -> GlobalPrefs:
        return await self._get(user, "global", GlobalPrefs)

    async def server_prefs(self, user: str, host: str) -> ServerPrefs:
        return await self._get(user, server_scope(host), ServerPrefs)

    async def channel_prefs(self, user: str, host: str, folded_channel: str) -> ChannelPrefs:
        return await self._get(user, channel_scope(host, folded_channel), ChannelPrefs)

    async def set_global(self, user: str, prefs: GlobalPrefs) -> None:
        await self._set(user, "global", prefs)

    async def set_server(self, user: str, host: str, prefs: ServerPrefs) -> None:
        await self._set(user, server_scope(host), prefs)

    async def set_channel(
        self, user: str, host: str, folded_channel: str, prefs: ChannelPrefs
    ) -> None:
        await self._set(user, channel_scope(host, folded_channel), prefs)

    async def persistent_channels(self) -> list[tuple[str, str, str]]:
        """(user, host, folded channel) of every channel a user made persistent."""
        rows = await self._db.fetchall(_PERSISTENT, (self._component, "channel:%"))
        out = []
        for user, scope, data in rows:
            if json.loads(data).get("persistent"):
                _, host, channel = scope.split(":", 2)
                out.append((user, host, channel))
        return out

    async def forget(self, user: str) -> None:
        """Drop every preference of a user."""
        await self._db.execute(_FORGET, (self._component, user))

    async def _get(self, user: str, scope: str, kind: type[P]) -> P:
        row = await self._db.fetchone(_GET, (self._component, user, scope))
        if row is None:
            return kind()
        known = {f.name for f in dataclasses.fields(kind)}
        raw = {k: v for k, v in json.loads(row[0]).items() if k in known}
        for key, value in raw.items():
            if isinstance(value, list):
                raw[key] = tuple(value)
        return kind(**raw)

    async def _set(self, user: str, scope: str, prefs: Any) -> None:
        data = json.dumps(dataclasses.asdict(prefs))
        await self._db.execute(_SET, (self._component, user, scope, data))
