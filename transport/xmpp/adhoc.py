"""XEP-0050: neutral ``Command``s exposed through slixmpp's ad-hoc plugin.

Commands are looked up dynamically (one global ``get_command`` handler), so they can live
on any JID under the domain, not only on JIDs declared in advance. The list each requester
sees is filtered (admins see admin commands, others do not) by the disco handler, and
execution re-checks the same rules, so a hidden node cannot be run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from slixmpp.exceptions import XMPPError

from transport.core.backend import Command, CommandRequest, CommandResult
from transport.xmpp.form_checks import check_submission
from transport.xmpp.forms import form_values, make_form, missing_required
from transport.xmpp.stanzas import bare

log = logging.getLogger(__name__)

Step = Callable[[Any, dict[str, Any]], Any]


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
        self.domain = str(xmpp.boundjid.bare)
        self.commands = {c.node: c for c in commands}
        self.is_admin = is_admin
        self.is_registered = is_registered
        self.domain_allowed = domain_allowed
        xmpp.plugin["xep_0050"].api.register(self._get_command, "get_command")

    async def visible(self, requester: str, target: str = "") -> list[Command]:
        """Commands the requester may see and run on ``target``, in declaration order."""
        out = []
        for command in self.commands.values():
            if command.targets(target) and await self._allowed(command, requester):
                out.append(command)
        return out

    def find(self, node: str, target: str) -> Command | None:
        command = self.commands.get(node)
        return command if command is not None and command.targets(target) else None

    async def _allowed(self, command: Command, requester: str) -> bool:
        if command.admin_only:
            return self.is_admin(requester)
        if not self.domain_allowed(requester):
            return False
        if command.needs_registration:
            return await self.is_registered(requester) is not None
        return True

    def _get_command(
        self, jid: Any, node: str | None, _ifrom: Any, _args: Any
    ) -> tuple[str, Step, None, int] | None:
        if jid is None or jid.domain != self.domain or jid.resource or not node:
            return None
        command = self.find(node, jid.user)
        if command is None:
            return None
        return (command.name, self._starter(command, jid.user), None, 0)

    def _starter(self, command: Command, target: str) -> Step:
        async def start(iq: Any, session: dict[str, Any]) -> dict[str, Any]:
            requester = bare(iq["from"])
            if not await self._allowed(command, requester):
                raise XMPPError("forbidden", "You may not run this command", etype="auth")
            log.info("%s runs command %s on %s", requester, command.node, target or self.domain)
            request = CommandRequest(requester, target)
            result = await command.handler(request, None)
            return self._apply(command, request, result, session)

        return start

    def _continuer(self, command: Command, request: CommandRequest, shown: CommandResult) -> Step:
        async def step(payload: Any, session: dict[str, Any]) -> dict[str, Any]:
            if isinstance(payload, list):
                payload = payload[0] if payload else None
            if payload is not None:
                check_submission(payload, shown.form)
            values = form_values(payload) if payload is not None else {}
            missing = missing_required(shown.form, values)
            if missing:
                # The same form again, saying what is missing: a handler never sees a
                # required field empty (and never answers "nothing to do" for it).
                again = dataclasses.replace(
                    shown, note="Please fill in: " + ", ".join(missing), note_type="error")
                return self._apply(command, request, again, session)
            result = await command.handler(request, values)
            return self._apply(command, request, result, session)

        return step

    def _apply(
        self,
        command: Command,
        request: CommandRequest,
        result: CommandResult,
        session: dict[str, Any],
    ) -> dict[str, Any]:
        notes = [(result.note_type, result.note)] if result.note else None
        if result.form:
            session["payload"] = make_form(
                self.xmpp, result.form, title=result.form_title or command.name,
                instructions=result.form_instructions,
            )
            session["next"] = self._continuer(command, request, result)
            session["has_next"] = False
            session["allow_complete"] = True
            session["notes"] = notes
        else:
            session["payload"] = None
            session["next"] = None
            session["has_next"] = False
            session["notes"] = notes or [("info", "Done")]
        return session
