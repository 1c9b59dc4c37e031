"""Admin ad-hoc commands for texts that reached numbers nobody registered.

Such texts are answered 200 (Twilio must not retry them forever) and kept here rather
than dropped or handed to whoever registers the number later: the admin decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

from transport.backends.sms.store import SmsRepo
from transport.core.backend import Command, CommandRequest, CommandResult

LISTED: Final = 50
UNROUTED_NODE: Final = "sms-unrouted"
PURGE_NODE: Final = "sms-unrouted-purge"


class UnroutedCommands:
    """``sms-unrouted`` lists the kept texts; ``sms-unrouted-purge`` deletes them."""

    def __init__(self, repo: SmsRepo) -> None:
        self.repo = repo

    def commands(self) -> Sequence[Command]:
        return (
            Command(UNROUTED_NODE, "List texts to unregistered numbers", self._list,
                    admin_only=True),
            Command(PURGE_NODE, "Delete texts to unregistered numbers", self._purge,
                    admin_only=True),
        )

    async def _list(
        self, _request: CommandRequest, _values: Mapping[str, Any] | None
    ) -> CommandResult:
        total = await self.repo.count_unrouted()
        if not total:
            return CommandResult(note="No texts to unregistered numbers.")
        lines = []
        for item in await self.repo.unrouted(LISTED):
            when = dt.datetime.fromtimestamp(item.received_at, dt.UTC).strftime("%Y-%m-%d %H:%M")
            media = f" [+{len(item.media_urls)} media]" if item.media_urls else ""
            lines.append(f"{when} {item.from_number} -> {item.to_number}: {item.body}{media}"
                         f" ({item.message_sid})")
        shown = f", newest {LISTED} shown" if total > LISTED else ""
        return CommandResult(note=f"{total} text(s) to unregistered numbers{shown}:\n"
                             + "\n".join(lines))

    async def _purge(
        self, _request: CommandRequest, _values: Mapping[str, Any] | None
    ) -> CommandResult:
        removed = await self.repo.purge_unrouted()
        return CommandResult(note=f"Deleted {removed} text(s) to unregistered numbers.")
