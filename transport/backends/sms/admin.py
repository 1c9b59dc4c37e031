"""Admin ad-hoc commands that bind numbers: ``pending-registrations`` and ``assign-number``.

``pending-registrations`` lists the requests held in ``approval`` mode as a form with one
choice per request (leave it, approve, reject); ``assign-number`` binds a number to a user
directly, whatever the mode. Both tell the user by a chat message from the component.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

from transport.backends.sms.registrations import PendingRequest, Registrar
from transport.core.backend import Command, CommandRequest, CommandResult, FormField
from transport.core.errors import GatewayError
from transport.core.events import Registration

PENDING_NODE: Final = "pending-registrations"
ASSIGN_NODE: Final = "assign-number"
DECISIONS: Final = (("wait", "Leave pending"), ("approve", "Approve"), ("reject", "Reject"))

Values = Mapping[str, Any] | None
NumberCheck = Callable[[str], Awaitable[Registration]]


class RegistrationCommands:
    """The two commands; ``check_number`` validates a typed number as registration does."""

    def __init__(self, registrar: Registrar, check_number: NumberCheck) -> None:
        self.registrar = registrar
        self.check_number = check_number

    def commands(self) -> Sequence[Command]:
        return (
            Command(PENDING_NODE, "Approve or reject registration requests", self._pending,
                    admin_only=True),
            Command(ASSIGN_NODE, "Assign a number to a user", self._assign, admin_only=True),
        )

    async def _pending(self, _request: CommandRequest, values: Values) -> CommandResult:
        requests = await self.registrar.pending.all()
        if values is None:
            if not requests:
                return CommandResult(note="No registration requests are pending.")
            return CommandResult(
                form=tuple(_choice(r) for r in requests),
                form_title="Pending registration requests",
                form_instructions="Approve or reject each request; the user is told either way.",
            )
        current = {(r.user, r.number): r for r in requests}
        lines = []
        for var, decision in sorted(values.items()):
            user, _, number = str(var).partition(" ")
            request = current.get((user, number))
            if decision not in ("approve", "reject"):
                continue
            if request is None:
                lines.append(f"{user}: the request for {number} is no longer pending")
            elif decision == "approve":
                lines.append(await self.registrar.approve(request))
            else:
                lines.append(await self.registrar.reject(request))
        return CommandResult(note="\n".join(lines) or "Nothing was decided.")

    async def _assign(self, request: CommandRequest, values: Values) -> CommandResult:
        fields = (
            FormField("jid", "User's bare JID", "jid-single"),
            FormField("phone", "Phone number", desc="One of this gateway's numbers (E.164)"),
        )
        if values is None:
            return CommandResult(form=fields, form_title="Assign a number")
        user = str(values.get("jid") or "").strip().partition("/")[0]
        if "@" not in user:
            return CommandResult(note=f"{user or '(empty)'} is not a user's JID.",
                                 note_type="error")
        phone = str(values.get("phone") or "")
        try:
            registration = await self.check_number(phone)
            note = await self.registrar.assign(user, registration)
        except GatewayError as exc:
            return CommandResult(note=f"{phone.strip() or '(empty)'} was not assigned: "
                                 f"{exc.text}", note_type="error")
        return CommandResult(note=note)


def _choice(request: PendingRequest) -> FormField:
    since = dt.datetime.fromtimestamp(request.requested_at, dt.UTC).strftime("%Y-%m-%d %H:%M")
    return FormField(
        f"{request.user} {request.number}",
        f"{request.user} asks for {request.number} (since {since} UTC)",
        "list-single", required=False, options=DECISIONS, value="wait",
    )
