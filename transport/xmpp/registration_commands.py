"""Registration as ad-hoc commands, for the many clients with no XEP-0077 dialog.

``register`` shows the backend's registration form (filled in with the current values) and
goes through the same path as the ``jabber:iq:register`` IQ, so the answers and errors are
the same; ``unregister`` asks for a confirmation first, since it deletes the user's data.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from transport.core.backend import Command, CommandRequest, CommandResult, FormField
from transport.core.errors import GatewayError
from transport.xmpp.backend_context import Gateway
from transport.xmpp.presence import PresenceHandler
from transport.xmpp.registration import announce, field_text, submit, unregister

log = logging.getLogger(__name__)

Values = Mapping[str, Any] | None
CONFIRM = FormField("confirm", "Yes, unregister me and delete my data here", "boolean")


class RegistrationCommands:
    """The ``register`` and ``unregister`` commands of one component (none when the
    backend needs no registration)."""

    def __init__(self, gw: Gateway, presence: PresenceHandler) -> None:
        self.gw = gw
        self.presence = presence

    def commands(self) -> list[Command]:
        if self.gw.backend.registration is None:
            return []
        return [
            Command("register", "Register", self._register),
            Command("unregister", "Unregister", self._unregister, needs_registration=True),
        ]

    async def _register(self, request: CommandRequest, values: Values) -> CommandResult:
        spec = self.gw.backend.registration
        assert spec is not None
        user = request.requester
        if values is None:
            current = await self.gw.registered_user(user)
            filled = current.data if current is not None else {}
            fields = tuple(_with_value(f, filled.get(f.var)) for f in spec.fields)
            return CommandResult(form=fields, form_title=f"Register with {self.gw.component_jid}",
                                 form_instructions=spec.instructions)
        try:
            outcome = await submit(self.gw, user, {k: field_text(v) for k, v in values.items()})
        except GatewayError as exc:
            return CommandResult(note=exc.text, note_type="error")
        await announce(self.gw, user, outcome)
        if outcome.held is not None:
            return CommandResult(note=outcome.held.notice)
        registration = await self.gw.registered_user(user)
        key = f" as {registration.legacy_key}" if registration and registration.legacy_key \
            else ""
        return CommandResult(note=f"You are registered with {self.gw.component_jid}{key}.")

    async def _unregister(self, request: CommandRequest, values: Values) -> CommandResult:
        if values is None:
            return CommandResult(
                form=(CONFIRM,), form_title=f"Unregister from {self.gw.component_jid}",
                form_instructions="Your registration, contacts and queued messages here are "
                                  "deleted.")
        if values.get("confirm") not in (True, "1", "true"):
            return CommandResult(note="Nothing was changed.")
        if not await unregister(self.gw, self.presence, request.requester):
            return CommandResult(note="You are not registered.", note_type="error")
        log.info("%s unregistered from %s by command", request.requester,
                 self.gw.component_jid)
        return CommandResult(note=f"You are no longer registered with {self.gw.component_jid}.")


def _with_value(field: FormField, value: Any) -> FormField:
    """The field with the user's current value, never for a private one (a password)."""
    if value is None or field.type == "text-private":
        return field
    return dataclasses.replace(field, value=value)
