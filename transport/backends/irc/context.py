"""What every part of the IRC backend shares: context, settings, stores, naming."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from transport.backends.irc.addressing import Jids, NetworkInfo
from transport.backends.irc.config.prefs import PrefsStore
from transport.backends.irc.config.settings import IrcSettings
from transport.backends.irc.contracts import ChannelHistory
from transport.backends.irc.history.line_log import LineLog
from transport.core.context import BackendContext

log = logging.getLogger("transport.backends.irc")


@dataclass(slots=True)
class IrcTotals:
    """Running totals the metrics read (``transport.backends.irc.metrics``)."""

    joins: int = 0  # channels joined (first joins and rejoins after a reconnect)
    reconnects: int = 0  # IRC connections lost and being made again


@dataclass(slots=True)
class IrcContext:
    """One per IRC component; handed to every session."""

    ctx: BackendContext
    settings: IrcSettings
    prefs: PrefsStore
    history: ChannelHistory
    lines: LineLog
    info: NetworkInfo
    jids: Jids
    totals: IrcTotals = field(default_factory=IrcTotals)

    async def persistent(self, user: str, host: str, folded: str) -> bool:
        """The channel's persistence: its own setting, else the user's, else the config's."""
        channel = await self.prefs.channel_prefs(user, host, folded)
        if channel.persistent is not None:
            return channel.persistent
        glob = await self.prefs.global_prefs(user)
        if glob.persistent is not None:
            return glob.persistent
        return self.settings.persistent_by_default

    async def recording(self, user: str, host: str, folded: str) -> bool:
        channel = await self.prefs.channel_prefs(user, host, folded)
        if channel.record_history is not None:
            return channel.record_history
        return (await self.prefs.global_prefs(user)).record_history

    async def encoding_in(self, user: str, host: str, folded: str | None) -> str:
        if folded is not None:
            channel = await self.prefs.channel_prefs(user, host, folded)
            if channel.encoding_in:
                return channel.encoding_in
        server = await self.prefs.server_prefs(user, host)
        if server.encoding_in:
            return server.encoding_in
        config = self.settings.server(host)
        return config.encoding if config is not None else "latin-1"

    async def encoding_out(self, user: str, host: str, folded: str | None) -> str:
        if folded is not None:
            channel = await self.prefs.channel_prefs(user, host, folded)
            if channel.encoding_out:
                return channel.encoding_out
        server = await self.prefs.server_prefs(user, host)
        return server.encoding_out or "utf-8"
