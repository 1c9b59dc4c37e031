"""The core MUC service's hooks on IRC: channels are rooms.

Joins and parts run in the user's session worker (``muc.occupancy``); subjects, nick
changes and invitations become TOPIC, NICK and INVITE; ``muc#admin`` is ``admin``'s;
``muc#owner`` is the channel's configure form (the ad-hoc one, as biboumi). Before each
room stanza the core sends, the session hands over the lines it holds (``SessionOutput``),
so that the stanza never overtakes a line queued before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from transport.backends.irc.addressing import Address, check_nick, parse
from transport.backends.irc.context import IrcContext, log
from transport.backends.irc.from_xmpp.admin import MucAdmin
from transport.backends.irc.from_xmpp.commands import IrcCommands
from transport.backends.irc.history.room_archive import ChannelHistoryArchive
from transport.backends.irc.muc import occupancy
from transport.backends.irc.protocol import sanitize
from transport.backends.irc.session.channel_state import Channel
from transport.backends.irc.session.interface import Session
from transport.backends.irc.session.manager import SessionManager
from transport.core.errors import GatewayError
from transport.core.room_hooks import Rooms
from transport.core.rooms import AdminItem, ConfigForm, FormValues, JoinRequest, Occupant


class IrcRooms(Rooms):
    """Implements ``transport.core.room_hooks.Rooms`` for the IRC backend."""

    non_anonymous = True

    def __init__(self, bridge: IrcContext, manager: SessionManager,
                 commands: IrcCommands) -> None:
        self.bridge = bridge
        self.manager = manager
        self.commands = commands
        self.join_timeout = bridge.settings.queue_timeout
        self.admin = MucAdmin(bridge)
        self.archive = ChannelHistoryArchive(bridge.history, self.folded, self._replay_limit)
        self.output = SessionOutput(self)

    # -- naming ---------------------------------------------------------------------------

    def room_key(self, localpart: str) -> str | None:
        address = parse(localpart, self.bridge.info)
        if address.kind != "channel":
            return None
        return occupancy.room_key(self.bridge.info.fold(address.server, address.name),
                                  address.server)

    def address(self, room: str) -> Address:
        """The channel a room key names (keys are canonical localparts)."""
        return parse(room, self.bridge.info)

    def folded(self, room: str) -> tuple[str, str]:
        address = self.address(room)
        return address.server, self.bridge.info.fold(address.server, address.name)

    async def _replay_limit(self, user: str, room: str) -> int:
        """Lines a join replays: none unless the channel is recorded for the user."""
        found = self.found(user, room)
        if found is None or not found[1].recording:
            return 0
        return (await self.bridge.prefs.global_prefs(user)).max_history_length

    def found(self, user: str, room: str) -> tuple[Session, Channel] | None:
        address = self.address(room)
        session = self.manager.get(user, address.server)
        if session is None:
            return None
        channel = session.channels.get(session.isupport.fold(address.name))
        return None if channel is None else (session, channel)

    def _joined(self, user: str, room: str) -> tuple[Session, Channel]:
        found = self.found(user, room)
        if found is None:
            raise GatewayError("You are not in this room", "not-acceptable", "modify")
        return found

    # -- occupancy ------------------------------------------------------------------------

    def check_nick(self, nick: str) -> None:
        check_nick(nick)

    async def join(self, user: str, room: str, request: JoinRequest) -> None:
        address = parse(request.localpart, self.bridge.info)
        session = self.manager.ensure(user, address.server, request.nick)
        log.info("%s joins %s on %s", request.resource, address.name, address.server)
        await session.run(lambda: occupancy.join(session, room, address.name, request))

    async def leave(self, user: str, room: str, status: str) -> None:
        found = self.found(user, room)
        if found is not None:
            session, channel = found
            await session.run(lambda: occupancy.leave(session, channel.folded, status))

    def occupants(self, user: str, room: str) -> Iterator[Occupant]:
        found = self.found(user, room)
        return occupancy.others(*found) if found is not None else iter(())

    async def join_expired(self, user: str, room: str, last: bool) -> str:
        found = self.found(user, room)
        if found is None:
            return f"{self.address(room).server} did not let the gateway in in time"
        session, channel = found
        text = occupancy.expired(session, channel.name)
        if last:
            await session.run(lambda: occupancy.give_up(session, channel.folded))
        return text

    async def change_nick(self, user: str, room: str, nick: str) -> None:
        session, _ = self._joined(user, room)
        if not session.isupport.equal(nick, session.nick):
            session.nick_requests[room] = nick
            session.write_soon(f"NICK {nick}")

    async def set_subject(self, user: str, room: str, subject: str) -> None:
        session, channel = self._joined(user, room)
        session.write_soon(f"TOPIC {channel.name} :{' '.join(sanitize(subject))}")

    async def invite(self, user: str, room: str, localpart: str, resource: str,
                     reason: str) -> None:
        session, channel = self._joined(user, room)
        try:
            address = parse(localpart, self.bridge.info)
        except GatewayError:
            return
        nick = address.name if address.kind == "nick" else resource
        if nick:
            session.write_soon(f"INVITE {nick} {channel.name}")

    # -- muc#admin, muc#owner -------------------------------------------------------------

    async def admin_list(self, user: str, room: str, item: AdminItem) -> Sequence[AdminItem]:
        return await self.admin.listing(*self._joined(user, room), item)

    async def admin_change(self, user: str, room: str, item: AdminItem) -> None:
        await self.admin.change(*self._joined(user, room), item)

    async def config_form(self, user: str, room: str) -> ConfigForm:
        server, folded = self.folded(room)
        fields = await self.commands.channel_form_fields(user, server, folded)
        return ConfigForm(f"Configure {self.address(room).name}", fields)

    async def configure(self, user: str, room: str, values: FormValues) -> None:
        server, folded = self.folded(room)
        error = await self.commands.apply_channel_form(user, server, folded, values)
        if error is not None:
            raise GatewayError(error, "not-acceptable", "modify")


class SessionOutput:
    """``Rooms.output``: a session's batch of lines is handed over before a room stanza."""

    def __init__(self, rooms: IrcRooms) -> None:
        self.rooms = rooms

    async def flush(self, user: str, room: str) -> None:
        session = self.rooms.manager.get(user, self.rooms.address(room).server)
        if session is not None:
            await session.flush()
