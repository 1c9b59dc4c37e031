"""Per-user IRC preferences (biboumi's configure forms), stored in ``irc_prefs``.

Three scopes, as in biboumi: the gateway (``global``), one IRC server (``server:HOST``) and
one channel (``channel:HOST:#chan``, channel case-folded by the caller). Unset values are
``None`` so the reader can fall back to the config file's defaults.

``irc_joined`` records the channels the gateway is in for each user, so that a restart can
rejoin those that are persistent, whether by the channel's own setting, the user's default
or the config's: the preferences alone cannot say which channels a default applies to.
Each record also keeps the channel's name as the server spells it and its key, so that a
channel protected by +k can be joined again; the key is a password and never leaves here
except in the JOIN line.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeVar

from transport.core.storage import BackendStorage

_GET: Final = "SELECT data FROM irc_prefs WHERE component = ? AND user = ? AND scope = ?"
_SET: Final = """
INSERT INTO irc_prefs (component, user, scope, data) VALUES (?, ?, ?, ?)
ON CONFLICT (component, user, scope) DO UPDATE SET data = excluded.data"""
_FORGET: Final = "DELETE FROM irc_prefs WHERE component = ? AND user = ?"
_JOINED: Final = (
    "SELECT user, server, channel, name, key, nick FROM irc_joined WHERE component = ?")
# A NULL name or key (a channel made persistent from a form) keeps what the join recorded.
_REMEMBER: Final = """
INSERT INTO irc_joined (component, user, server, channel, name, key, nick)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (component, user, server, channel) DO UPDATE SET
    name = coalesce(excluded.name, irc_joined.name),
    key = coalesce(excluded.key, irc_joined.key),
    nick = coalesce(excluded.nick, irc_joined.nick)"""
_RENAMED: Final = "UPDATE irc_joined SET nick = ? WHERE component = ? AND user = ? AND server = ?"
_LEFT: Final = """
DELETE FROM irc_joined WHERE component = ? AND user = ? AND server = ? AND channel = ?"""
_FORGET_JOINED: Final = "DELETE FROM irc_joined WHERE component = ? AND user = ?"


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


class Joined(NamedTuple):
    """A channel recorded as joined: what a restart needs to JOIN it again.

    ``name`` is the channel as the server spells it (the folded name when never joined);
    ``key`` its +k key, '' when none is known. The key is a password: do not log it.
    ``nick`` is the user's nick there, '' when not recorded.
    """

    user: str
    server: str
    channel: str
    name: str
    key: str
    nick: str = ""

    def __repr__(self) -> str:
        key = "****" if self.key else ""
        return (f"Joined(user={self.user!r}, server={self.server!r}, "
                f"channel={self.channel!r}, name={self.name!r}, key={key!r})")


def server_scope(host: str) -> str:
    return f"server:{host.lower()}"


def channel_scope(host: str, folded_channel: str) -> str:
    return f"channel:{host.lower()}:{folded_channel}"


class PrefsStore:
    """Reads and writes the three kinds of preferences of one IRC component.

    Every line a user sends asks for their encoding, so reads are answered from a bounded
    cache; this process is the only writer, every write drops the cache, and a read that
    raced a write is not cached.
    """

    CACHE_SIZE: Final = 50_000

    def __init__(self, storage: BackendStorage, component: str) -> None:
        self._storage = storage
        self._component = component
        self._cache: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._generation = 0

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
        """Store a channel's settings; one made persistent is recorded as joined, so that
        the next start joins it even if the user is not in it now."""
        before = await self.channel_prefs(user, host, folded_channel)
        await self._set(user, channel_scope(host, folded_channel), prefs)
        if prefs.persistent and not before.persistent:
            await self.remember(user, host, folded_channel)

    async def joined(self) -> list[Joined]:
        """Every channel recorded as joined."""
        rows = await self._storage.read(_JOINED, (self._component,))
        return [Joined(user, server, channel, name or channel, key or "", nick or "")
                for user, server, channel, name, key, nick in rows]

    async def remember(self, user: str, host: str, folded_channel: str,
                       name: str | None = None, key: str | None = None,
                       nick: str | None = None) -> None:
        """The gateway is in the channel for ``user`` (or will be: it became persistent).

        ``name``, ``key`` (the key it joined with, '' for none) and ``nick`` (the user's nick
        there) replace the recorded ones; None keeps them, since making a channel persistent
        does not say them.
        """
        await self._storage.write(_REMEMBER, (self._component, user, host.lower(),
                                              folded_channel, name, key, nick))

    async def renamed(self, user: str, host: str, nick: str) -> None:
        """The user's nick on ``host`` changed: a restart reconnects with the new one."""
        await self._storage.write(_RENAMED, (nick, self._component, user, host.lower()))

    async def left(self, user: str, host: str, folded_channel: str) -> None:
        """The gateway is out of the channel for ``user``: a restart must not rejoin it."""
        await self._storage.write(_LEFT, (self._component, user, host.lower(), folded_channel))

    async def forget(self, user: str) -> None:
        """Drop every preference of a user, and the record of the channels they were in."""
        self._invalidate()
        try:
            await self._storage.write(_FORGET, (self._component, user))
        finally:
            self._invalidate()
        await self._storage.write(_FORGET_JOINED, (self._component, user))

    async def _get(self, user: str, scope: str, kind: type[P]) -> P:
        key = (user, scope)
        cached = self._cache.get(key)
        if isinstance(cached, kind):
            self._cache.move_to_end(key)
            return cached
        generation = self._generation
        prefs = await self._read(user, scope, kind)
        if generation == self._generation:
            self._cache[key] = prefs
            if len(self._cache) > self.CACHE_SIZE:
                self._cache.popitem(last=False)
        return prefs

    async def _read(self, user: str, scope: str, kind: type[P]) -> P:
        row = await self._storage.read_one(_GET, (self._component, user, scope))
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
        self._invalidate()
        try:
            await self._storage.write(_SET, (self._component, user, scope, data))
        finally:
            self._invalidate()

    def _invalidate(self) -> None:
        self._generation += 1
        self._cache.clear()
