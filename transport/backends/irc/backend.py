"""``IrcBackend``: the IRC component, wired from the parts of this package.

Addressing and the connection manager are ours; the archive (``archive.ChannelArchive``),
the core MUC service's hooks (``rooms.IrcRooms``) and the ad-hoc commands
(``commands.IrcCommands``) plug in through the contracts in ``contracts.py``. Pings and
version queries to nicks are CTCP round trips (``ctcp.CtcpQueries``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import transport.backends.irc.metrics as metrics
import transport.backends.irc.schema as schema
from transport.backends.irc.addressing import Jids, NetworkInfo, canonical, parse
from transport.backends.irc.config.prefs import PrefsStore
from transport.backends.irc.config.settings import IrcSettings
from transport.backends.irc.context import IrcContext, log
from transport.backends.irc.from_xmpp import outbound
from transport.backends.irc.from_xmpp.commands import (
    CommandDefaults,
    IrcCommands,
    ServerDefaults,
    Target,
)
from transport.backends.irc.from_xmpp.ctcp import CtcpQueries
from transport.backends.irc.from_xmpp.discovery import Discovery
from transport.backends.irc.from_xmpp.rooms import IrcRooms
from transport.backends.irc.history.archive import ChannelArchive
from transport.backends.irc.history.line_log import LineLog
from transport.backends.irc.session.manager import SessionManager
from transport.core.backend import (
    Backend,
    BackendContext,
    Command,
    ContactInfo,
    Identity,
    ItemsPage,
    PageRequest,
    SoftwareVersion,
)
from transport.core.errors import AddressError
from transport.core.events import OutgoingMessage, SendOutcome
from transport.core.ordering import LaneTurns
from transport.xmpp.namespaces import MAM, MUC


class IrcBackend(Backend[IrcSettings]):
    """IRC channels as MUC rooms and IRC users as contacts, addressed like biboumi."""

    name: ClassVar[str] = "irc"
    identities: ClassVar[tuple[Identity, ...]] = (
        Identity("conference", "irc", "IRC gateway"),
        Identity("gateway", "irc", "IRC gateway"),
    )
    features: ClassVar[tuple[str, ...]] = (
        MUC,
        MAM,
    )
    registration = None
    settings_type: ClassVar[type | None] = IrcSettings
    pipelined_sends: ClassVar[bool] = True  # lines of several messages share one write

    def __init__(self, ctx: BackendContext, settings: IrcSettings | None) -> None:
        settings = settings or IrcSettings()
        super().__init__(ctx, settings)
        self.info = NetworkInfo()
        self.prefs = PrefsStore(ctx.store, ctx.component_jid)
        self._turns = LaneTurns()
        retention = settings.retention_days or None
        self.archive = ChannelArchive(ctx.store, ctx.component_jid, retention)
        self.bridge = IrcContext(ctx, settings, self.prefs, self.archive, LineLog(self.archive),
                             self.info, Jids(ctx.component_jid))
        self.manager = SessionManager(self.bridge)
        metrics.watch(ctx.metrics, self.manager, self.bridge.totals)
        self.discovery = Discovery(self.manager, mam=True)
        self.irc_commands = IrcCommands(
            self.prefs, self.manager, self._classify, is_admin=ctx.is_admin,
            defaults=_defaults(settings), changed=self._changed)
        self.rooms = IrcRooms(self.bridge, self.manager, self.irc_commands)
        self.ctcp = CtcpQueries(self.manager)

    @classmethod
    def migrations(cls) -> Sequence[str]:
        return schema.MIGRATIONS

    async def start(self) -> None:
        await self.archive.start()
        await self.manager.restore()

    async def stop(self) -> None:
        await self.manager.stop()
        await self.archive.stop()
        log.info("IRC backend stopped")

    # -- addressing ------------------------------------------------------------------------

    def addressing_help(self, component_jid: str) -> str:
        host = next(iter(self.settings.servers), "irc.example.net")
        hosts = ", ".join(self.settings.servers) or "none listed"
        any_host = " (any other server too)" if self.settings.allow_any_server else ""
        return (f"Join a channel as the room #channel%{host}@{component_jid}; message a nick "
                f"as nick%{host}@{component_jid}; {host}@{component_jid} is the server itself "
                f"(raw IRC commands, settings in its ad-hoc commands). IRC servers: "
                f"{hosts}{any_host}.")

    def normalize_contact(self, localpart: str) -> str:
        address = parse(localpart, self.info)
        if self.settings.server(address.server) is None:
            raise AddressError(f"This gateway does not connect to {address.server}",
                               "item-not-found", "cancel")
        return canonical(address, self.info)

    def _classify(self, localpart: str) -> Target | None:
        address = parse(localpart, self.info)
        if address.kind == "server":
            return Target("server", address.server)
        if address.kind == "channel":
            return Target("channel", address.server, self.info.fold(address.server, address.name))
        return None

    def contact_available(self, user: str, localpart: str) -> bool:
        try:
            address = parse(localpart, self.info)
        except AddressError:
            return False
        if address.kind == "server":
            session = self.manager.get(user, address.server)
            return session is not None and session.ready
        return True

    async def _changed(self, user: str, target: Target) -> None:
        """A configure form was saved: apply what matters to live channels now."""
        for (owner, host), session in list(self.manager.sessions.items()):
            if owner != user or (target.host and target.host != host):
                continue
            for folded, channel in session.channels.items():
                if target.kind == "channel" and folded != target.channel:
                    continue
                channel.persistent = await self.bridge.persistent(user, host, folded)
                channel.recording = await self.bridge.recording(user, host, folded)

    # -- discovery, sending, commands -----------------------------------------------------

    def contact_info(self, localpart: str) -> ContactInfo:
        return ContactInfo(identities=(Identity("client", "pc", "IRC user"),))

    async def disco_info(self, user: str, localpart: str, resource: str,
                         node: str | None) -> ContactInfo | None:
        return await self.discovery.info(user, localpart, resource, node)

    async def disco_items(self, user: str, localpart: str, resource: str, node: str | None,
                          page: PageRequest) -> ItemsPage | None:
        return await self.discovery.items(user, localpart, resource, node, page)

    async def ping_contact(self, requester: str, localpart: str, resource: str) -> None:
        await self.ctcp.ping(requester, localpart, resource)

    async def contact_version(self, requester: str, localpart: str,
                              resource: str) -> SoftwareVersion | None:
        return await self.ctcp.version(requester, localpart, resource)

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        lane = self.lane(message)
        turn = self._turns.take(lane)
        try:
            return await outbound.send(self.manager, message, turn)
        finally:
            self._turns.release(lane, turn)

    def commands(self) -> Sequence[Command]:
        return self.irc_commands.commands()

    async def stats(self) -> Mapping[str, str | int]:
        sessions = list(self.manager.sessions.values())
        return {
            "irc_connections": sum(1 for s in sessions if s.ready),
            "irc_sessions": len(sessions),
            "irc_channels": sum(len(s.channels) for s in sessions),
        }


def _defaults(settings: IrcSettings) -> CommandDefaults:
    servers = {
        host: ServerDefaults(
            ports=() if config.tls else (config.port,),
            tls_ports=(config.port,) if config.tls else (),
            verify_cert=config.verify_cert, throttle_limit=settings.throttle_limit,
            encoding_in=config.encoding)
        for host, config in settings.servers.items()}
    return CommandDefaults(persistent=settings.persistent_by_default, servers=servers,
                           server=ServerDefaults(throttle_limit=settings.throttle_limit),
                           user_ports=settings.user_ports)
