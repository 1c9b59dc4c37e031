"""The IRC backend's ad-hoc commands (XEP-0050), with biboumi's node and field names.

``configure`` lives on the gateway, on server JIDs and on channel JIDs (one node, three
forms, as biboumi); the channel form is also what ``muc#owner`` serves. Bad values end the
command with an error note and store nothing: the core offers a single ``complete`` action,
so a form shown again could not be submitted by most clients.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from transport.backends.irc.config import command_forms as forms
from transport.backends.irc.config.prefs import ChannelPrefs, PrefsStore, ServerPrefs
from transport.backends.irc.contracts import ConnectionInfo, IrcControl
from transport.core.backend import Command, CommandRequest, CommandResult, FormField
from transport.core.errors import AddressError

log = logging.getLogger(__name__)

Values = Mapping[str, Any] | None
Settings = tuple[forms.Setting, ...]
SAVED = "Configuration successfully applied."


@dataclass(frozen=True, slots=True)
class Target:
    """What a JID under the component names: the gateway, an IRC server or a channel."""

    kind: Literal["gateway", "server", "channel"]
    host: str = ""
    channel: str = ""


@dataclass(frozen=True, slots=True)
class ServerDefaults:
    """What a server form shows for settings the user left alone (from the config file).

    The class defaults are what a host the admin does not list gets: TLS on 6697."""

    ports: tuple[int, ...] = ()
    tls_ports: tuple[int, ...] = (6697,)
    verify_cert: bool = True
    throttle_limit: int = 10
    encoding_in: str | None = None
    encoding_out: str | None = None


@dataclass(frozen=True, slots=True)
class CommandDefaults:
    """Config defaults: ``persistent`` (persistent_by_default), per-host server ones (the
    hosts the admin lists, whose endpoint users cannot change) and the ``user_ports`` users
    may choose for any other host."""

    persistent: bool = False
    servers: Mapping[str, ServerDefaults] = field(default_factory=dict)
    server: ServerDefaults = ServerDefaults()
    user_ports: tuple[int, ...] = (6667, 6697)

    def listed(self, host: str) -> bool:
        host = host.lower()
        return any(name.lower() == host for name in self.servers)

    def for_host(self, host: str) -> ServerDefaults:
        """Hosts match without regard to case, as DNS names do."""
        host = host.lower()
        found = (d for name, d in self.servers.items() if name.lower() == host)
        return next(found, self.server)


Changed = Callable[[str, Target], Awaitable[None]]


class IrcCommands:
    """Builds the IRC ``Command``s; the connection manager is reached through ``IrcControl``."""

    def __init__(
        self,
        prefs: PrefsStore,
        control: IrcControl,
        classify: Callable[[str], Target | None],
        *,
        is_admin: Callable[[str], bool],
        defaults: CommandDefaults | None = None,
        changed: Changed | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prefs = prefs
        self.control = control
        self.classify = classify
        self.is_admin = is_admin
        self.defaults = defaults or CommandDefaults()
        self.changed = changed
        self.clock = clock

    def commands(self) -> list[Command]:
        return [
            Command("configure", "Configure", self._configure, targets=self._configurable),
            Command("get-irc-connection-info", "Get IRC connection information", self._info,
                    targets=self._gateway_or_server),
            Command("disconnect-from-irc-server", "Disconnect from the selected IRC servers",
                    self._disconnect),
            Command("disconnect-user", "Disconnect a user from the gateway",
                    self._disconnect_user, admin_only=True),
        ]

    def target(self, localpart: str) -> Target | None:
        """'' is the gateway; anything the backend's addressing cannot read is nothing."""
        if localpart == "":
            return Target("gateway")
        try:
            return self.classify(localpart)
        except (AddressError, ValueError):
            return None

    def _configurable(self, localpart: str) -> bool:
        return self.target(localpart) is not None

    def _gateway_or_server(self, localpart: str) -> bool:
        target = self.target(localpart)
        return target is not None and target.kind in ("gateway", "server")

    # configure -----------------------------------------------------------------------

    async def channel_form_fields(
        self, user: str, host: str, channel: str
    ) -> tuple[FormField, ...]:
        """The channel form (for ``muc#owner`` too); ``channel`` is case-folded."""
        return forms.build(*await self._load(user, Target("channel", host, channel)))

    async def apply_channel_form(
        self, user: str, host: str, channel: str, values: Mapping[str, Any]
    ) -> str | None:
        """Store a submitted channel form: None when done, else why nothing was stored."""
        return await self._apply(user, Target("channel", host, channel), values)

    async def _configure(self, request: CommandRequest, values: Values) -> CommandResult:
        target = self.target(request.target)
        if target is None:
            return CommandResult(note="Nothing to configure here.", note_type="error")
        user = request.requester
        if values is None:
            title, instructions = _titles(target)
            return CommandResult(form=forms.build(*await self._load(user, target)),
                                 form_title=title, form_instructions=instructions)
        error = await self._apply(user, target, values)
        if error is not None:
            return CommandResult(note=error, note_type="error")
        return CommandResult(note=SAVED)

    async def _load(self, user: str, target: Target) -> tuple[Settings, Any, dict[str, Any]]:
        """The form's settings, the user's stored preferences and the defaults in force."""
        if target.kind == "channel":
            channel = await self.prefs.channel_prefs(user, target.host, target.channel)
            return forms.CHANNEL, channel, {}
        if target.kind == "server":
            server = await self.prefs.server_prefs(user, target.host)
            defaults = dataclasses.asdict(self.defaults.for_host(target.host))
            if self.defaults.listed(target.host):
                return forms.LISTED_SERVER, server, defaults
            if server.ports or server.tls_ports:
                # The user's ports and TLS ports are one choice: a field left empty in it
                # means no such port, not the gateway's default.
                defaults.update(ports=(), tls_ports=())
            return forms.SERVER, server, defaults
        glob = await self.prefs.global_prefs(user)
        return forms.GLOBAL, glob, {"persistent": self.defaults.persistent}

    async def _apply(self, user: str, target: Target, values: Mapping[str, Any]) -> str | None:
        settings, prefs, defaults = await self._load(user, target)
        if target.kind == "server":
            settings = forms.SERVER  # ports sent for a listed host are read, then refused
        new, errors = forms.changes(settings, prefs, defaults, values)
        if target.kind == "server":
            errors += self._endpoint_errors(target.host, new)
            if not self.defaults.listed(target.host):
                new.update(self._endpoint_choice(prefs, defaults, new))
        if errors:
            return "Nothing was saved. " + " ".join(errors)
        log.info("%s changed %s on %s", user, ", ".join(sorted(new)) or "nothing", target)
        if not new:
            return None
        prefs = dataclasses.replace(prefs, **new)
        if isinstance(prefs, ChannelPrefs):
            await self.prefs.set_channel(user, target.host, target.channel, prefs)
        elif isinstance(prefs, ServerPrefs):
            await self.prefs.set_server(user, target.host, prefs)
        else:
            await self.prefs.set_global(user, prefs)
        if self.changed is not None:
            await self.changed(user, target)
        return None

    def _endpoint_errors(self, host: str, new: Mapping[str, Any]) -> list[str]:
        """Ports a user may not choose: any but the admin's for a listed host (emptying
        the fields is fine), any outside ``user_ports`` for other hosts."""
        errors = []
        listed = self.defaults.listed(host)
        fixed = self.defaults.for_host(host)
        allowed = ", ".join(map(str, self.defaults.user_ports)) or "none"
        for setting in forms.SERVER:
            chosen = new.get(setting.attr) if setting.var in forms.ENDPOINT_VARS else None
            if not chosen:
                continue
            where = f"{setting.label} ({setting.var})"
            if listed and chosen != getattr(fixed, setting.attr):
                errors.append(f"{where}: the port and TLS of {host} are set by the gateway's "
                              "administrator and cannot be changed.")
            elif not listed:
                errors.extend(f"{where}: {port} is not one of the ports users may choose "
                              f"for {host} ({allowed})."
                              for port in chosen if port not in self.defaults.user_ports)
        return errors

    def _endpoint_choice(self, prefs: ServerPrefs, defaults: Mapping[str, Any],
                         new: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        """Both port fields as the submitted form shows them, stored together when either
        changed: a TLS port the form showed is kept, never dropped because it was the
        default (a plain port alone would then mean plain text)."""
        if not new.keys() & set(forms.ENDPOINT_VARS):
            return {}
        shown = {attr: new.get(attr, getattr(prefs, attr) or defaults[attr])
                 for attr in forms.ENDPOINT_VARS}
        server = self.defaults.server
        if (shown["ports"], shown["tls_ports"]) == (server.ports, server.tls_ports):
            return {"ports": (), "tls_ports": ()}  # the gateway's default again
        return shown

    # connections ---------------------------------------------------------------------

    async def _info(self, request: CommandRequest, _values: Values) -> CommandResult:
        target = self.target(request.target)
        conns = self.control.connections(request.requester)
        if target is not None and target.kind == "server":
            host = target.host.lower()
            mine = [c for c in conns if c.server.lower() == host]
            if not mine:
                return CommandResult(note=f"You are not connected to the IRC server {host}")
            return CommandResult(note=self._describe(mine[0]))
        if not conns:
            return CommandResult(note="You are not connected to any IRC server.")
        return CommandResult(note="\n\n".join(self._describe(c) for c in conns))

    def _describe(self, conn: ConnectionInfo) -> str:
        tls = "using TLS" if conn.tls else "not encrypted"
        where = f"IRC server {conn.server} on port {conn.port} ({tls})"
        if conn.connected_since is None:
            head = f"Reconnecting to {where}."
        else:
            since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(conn.connected_since))
            ago = max(0, int(self.clock() - conn.connected_since))
            head = f"Connected to {where} since {since} ({ago} seconds ago)."
        rows = [head, f"Nick: {conn.nick}",
                "Channels: " + (", ".join(conn.channels) or "none"),
                "Resources: " + (", ".join(conn.resources) or "none")]
        return "\n".join(rows)

    async def _disconnect(self, request: CommandRequest, values: Values) -> CommandResult:
        """Admins pick a JID first (kept in a hidden field), everyone then picks servers."""
        me = request.requester
        admin = self.is_admin(me)
        if values is None and admin:
            users = sorted(self.control.connected_users())
            if not users:
                return CommandResult(note="No user is connected to an IRC server.")
            jid = FormField("jid", "The JID to disconnect", "list-single",
                            options=tuple((u, u) for u in users), value=me)
            return CommandResult(form=(jid,), form_title=_DISCONNECT_TITLE,
                                 form_instructions="Choose a user JID")
        chosen = forms.one((values or {}).get("jid")).strip() if admin else ""
        user = chosen or me
        if values is None or ("irc-servers" not in values and "quit-message" not in values):
            return self._servers_form(user, me, hidden=admin)
        if admin and not chosen:
            return CommandResult(note="The JID to disconnect is missing.", note_type="error")
        try:
            reason = forms.safe_line(forms.one(values.get("quit-message")).strip())
            picked = {s.lower() for s in forms.lines(values.get("irc-servers"))}
        except forms.BadValue as err:
            return CommandResult(note=f"Quit message: {err}", note_type="error")
        servers = [c.server for c in self.control.connections(user)
                   if c.server.lower() in picked]
        if not servers:
            return CommandResult(note="No IRC server was selected.", note_type="error")
        await self.control.disconnect(user, servers, reason)
        log.info("%s disconnected %s from %s", me, user, ", ".join(servers))
        plural = "s" if len(servers) > 1 else ""
        return CommandResult(note=f"{user} was disconnected from {len(servers)} "
                                  f"IRC server{plural}.")

    def _servers_form(self, user: str, me: str, *, hidden: bool) -> CommandResult:
        conns = self.control.connections(user)
        if not conns:
            who = "You are" if user == me else f"User {user} is"
            return CommandResult(note=f"{who} not connected to any IRC server.")
        fields = [
            FormField("irc-servers", "The servers to disconnect from", "list-multi",
                      options=tuple((c.server, c.server) for c in conns)),
            FormField("quit-message", "Quit message", required=False,
                      value="Killed by admin" if user != me else "Disconnected"),
        ]
        if hidden:
            fields.insert(0, FormField("jid", "JID", "hidden", value=user))
        return CommandResult(form=tuple(fields), form_title=_DISCONNECT_TITLE,
                             form_instructions="Choose one or more servers to disconnect "
                                               f"{user} from")

    async def _disconnect_user(self, request: CommandRequest, values: Values) -> CommandResult:
        if not self.is_admin(request.requester):
            return CommandResult(note="Only admins may do this.", note_type="error")
        connected = {u.lower(): u for u in self.control.connected_users()}
        if values is None:
            if not connected:
                return CommandResult(note="No user is connected to an IRC server.")
            options = tuple((u, u) for u in sorted(connected.values()))
            return CommandResult(
                form=(FormField("jids", "The JIDs to disconnect", "list-multi", options=options),
                      FormField("quit-message", "Quit message", required=False,
                                value="Disconnected by admin")),
                form_title="Disconnect a user from the gateway",
                form_instructions="Choose a user JID and a quit message")
        try:
            reason = forms.safe_line(forms.one(values.get("quit-message")).strip())
        except forms.BadValue as err:
            return CommandResult(note=f"Quit message: {err}", note_type="error")
        picked = (j.lower() for j in forms.lines(values.get("jids")))
        users = list(dict.fromkeys(connected[j] for j in picked if j in connected))
        for user in users:
            await self.control.disconnect_user(user, reason)
        log.info("%s disconnected %s from IRC", request.requester, ", ".join(users) or "nobody")
        if not users:
            return CommandResult(note="No user was disconnected.")
        if len(users) == 1:
            return CommandResult(note="1 user has been disconnected.")
        return CommandResult(note=f"{len(users)} users have been disconnected.")


_DISCONNECT_TITLE = "Disconnect a user from selected IRC servers"


def _titles(target: Target) -> tuple[str, str]:
    if target.kind == "channel":
        return (f"Configure the IRC channel {target.channel} on server {target.host}",
                f"Edit the form, to configure the settings of the IRC channel {target.channel}")
    if target.kind == "server":
        return (f"Configure the IRC server {target.host}",
                f"Edit the form, to configure the settings of the IRC server {target.host}")
    return ("Configure some global default settings.",
            "Edit the form, to configure your global settings for the component.")
