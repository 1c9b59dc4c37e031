"""XEP-0050: neutral ``Command``s exposed through slixmpp's ad-hoc plugin.

The command list each requester sees is filtered (admins see admin commands, others do not)
by the disco handler; execution re-checks the same rules, so a hidden node cannot be run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from slixmpp.exceptions import XMPPError

from transport.core.backend import Command, CommandResult
from transport.xmpp.forms import form_values, make_form
from transport.xmpp.stanzas import bare

log = logging.getLogger(__name__)


class CommandSet:
    """The commands of one component and the rules for who may run them."""

    def __init__(
        self,
        xmpp: Any,
        commands: Sequence[Command],
        is_admin: Callable[[str], bool],
        is_registered: Callable[[str], Any],
        domain_allowed: Callable[[str], bool],
    ) -> None:
        self.xmpp = xmpp
        self.commands = {c.node: c for c in commands}
        self.is_admin = is_admin
        self.is_registered = is_registered
        self.domain_allowed = domain_allowed
        for command in commands:
            xmpp.plugin["xep_0050"].add_command(
                jid=xmpp.boundjid, node=command.node, name=command.name,
                handler=self._starter(command),
            )

    async def visible(self, requester: str) -> list[Command]:
        """Commands the requester may see and run, in declaration order."""
        out = []
        for command in self.commands.values():
            if await self._allowed(command, requester):
                out.append(command)
        return out

    async def _allowed(self, command: Command, requester: str) -> bool:
        if command.admin_only:
            return self.is_admin(requester)
        if not self.domain_allowed(requester):
            return False
        if command.needs_registration:
            return await self.is_registered(requester) is not None
        return True

    def _starter(self, command: Command) -> Callable[[Any, dict[str, Any]], Any]:
        async def start(iq: Any, session: dict[str, Any]) -> dict[str, Any]:
            requester = bare(iq["from"])
            if not await self._allowed(command, requester):
                raise XMPPError("forbidden", "You may not run this command", etype="auth")
            log.info("%s runs command %s", requester, command.node)
            result = await command.handler(requester, None)
            return self._apply(command, requester, result, session)

        return start

    def _continuer(self, command: Command, requester: str) -> Callable[[Any, dict[str, Any]], Any]:
        async def step(payload: Any, session: dict[str, Any]) -> dict[str, Any]:
            if isinstance(payload, list):
                payload = payload[0] if payload else None
            values = form_values(payload) if payload is not None else {}
            result = await command.handler(requester, values)
            return self._apply(command, requester, result, session)

        return step

    def _apply(
        self, command: Command, requester: str, result: CommandResult, session: dict[str, Any]
    ) -> dict[str, Any]:
        notes = [(result.note_type, result.note)] if result.note else None
        if result.form:
            session["payload"] = make_form(
                self.xmpp, result.form, title=result.form_title or command.name,
                instructions=result.form_instructions,
            )
            session["next"] = self._continuer(command, requester)
            session["has_next"] = False
            session["allow_complete"] = True
            session["notes"] = notes
        else:
            session["payload"] = None
            session["next"] = None
            session["has_next"] = False
            session["notes"] = notes or [("info", "Done")]
        return session
