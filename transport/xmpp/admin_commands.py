"""Admin ad-hoc commands every component has: users, stats, unregister, announce."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from transport.core.backend import Command, CommandRequest, CommandResult, FormField
from transport.core.events import XmppMessage
from transport.observe.figures import component_figures
from transport.xmpp.backend_context import Gateway
from transport.xmpp.presence import PresenceHandler
from transport.xmpp.registration import unregister

log = logging.getLogger(__name__)

Values = Mapping[str, Any] | None


class AdminCommands:
    """Builds the admin ``Command``s for one gateway."""

    def __init__(self, gw: Gateway, presence: PresenceHandler) -> None:
        self.gw = gw
        self.presence = presence

    def commands(self) -> list[Command]:
        return [
            Command("list-users", "List registered users", self._list_users, admin_only=True),
            Command("stats", "Show statistics", self._stats, admin_only=True),
            Command("unregister-user", "Unregister a user", self._unregister, admin_only=True),
            Command("announce", "Send an announcement to all users", self._announce,
                    admin_only=True),
        ]

    async def _list_users(self, _request: CommandRequest, _values: Values) -> CommandResult:
        users = await self.gw.store.users.list(self.gw.component_jid)
        if not users:
            return CommandResult(note="No registered users.")
        lines = [u.jid + (f" ({u.legacy_key})" if u.legacy_key else "") for u in users]
        return CommandResult(note=f"{len(users)} registered user(s):\n" + "\n".join(lines))

    async def _stats(self, _request: CommandRequest, _values: Values) -> CommandResult:
        """The figures an admin needs most, read from the metrics registry that ``/metrics``
        exposes, so the command and a dashboard never disagree."""
        component = self.gw.component_jid
        store = self.gw.store
        metrics = self.gw.metrics
        await metrics.refresh()
        name = self.gw.backend.name
        figures: dict[str, Any] = {
            "registered users": await store.users.count(component),
            "subscriptions": await store.subscriptions.count(component),
        }
        figures.update(component_figures(metrics, name))
        figures.update(await self.gw.backend.stats())
        return CommandResult(note="\n".join(f"{k}: {v}" for k, v in figures.items()))

    async def _unregister(self, request: CommandRequest, values: Values) -> CommandResult:
        field = FormField("jid", "User's bare JID", "jid-single")
        if values is None:
            return CommandResult(form=(field,))
        user = str(values.get("jid") or "").strip().partition("/")[0]
        if not user or not await unregister(self.gw, self.presence, user):
            return CommandResult(note=f"{user or '(empty)'} is not registered.",
                                 note_type="error")
        log.info("%s unregistered %s from %s", request.requester, user, self.gw.component_jid)
        return CommandResult(note=f"{user} was unregistered.")

    async def _announce(self, request: CommandRequest, values: Values) -> CommandResult:
        field = FormField("body", "Announcement", "text-multi")
        if values is None:
            return CommandResult(form=(field,))
        body = values.get("body")
        text = "\n".join(body) if isinstance(body, list) else str(body or "")
        if not text.strip():
            return CommandResult(note="Nothing to announce.", note_type="error")
        users = await self.gw.store.users.list(self.gw.component_jid)
        targets = {u.jid for u in users} | set(
            await self.gw.store.subscriptions.users(self.gw.component_jid)
        )
        await self.gw.deliver_many([
            XmppMessage(to=user, sender=self.gw.component_jid, type="headline", body=text)
            for user in sorted(targets)
        ])
        log.info("%s sent an announcement to %d users of %s", request.requester, len(targets),
                 self.gw.component_jid)
        return CommandResult(note=f"Announcement queued for {len(targets)} user(s).")
