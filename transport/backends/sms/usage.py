"""Admin ad-hoc command ``usage``: a user's SMS counts today against ``[sms.limits]``.

The admin enters a bare JID, or leaves the field empty to list every user with usage
today. Counts are what Twilio created this UTC day (messages and billed segments), plus
what is reserved for texts being sent at this moment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from transport.backends.sms.ledger import Tally, UsageLedger, day_text, utc_day
from transport.backends.sms.settings import LimitsSettings
from transport.core.backend import Command, CommandRequest, CommandResult, FormField

USAGE_NODE: Final = "usage"
LISTED: Final = 100


class UsageCommand:
    """``usage``: counts of one user, or of everyone who sent today."""

    def __init__(self, ledger: UsageLedger, limits: LimitsSettings) -> None:
        self.ledger = ledger
        self.limits = limits

    def commands(self) -> Sequence[Command]:
        return (Command(USAGE_NODE, "Show SMS usage today", self._usage, admin_only=True),)

    async def _usage(
        self, _request: CommandRequest, values: Mapping[str, Any] | None
    ) -> CommandResult:
        if values is None:
            return CommandResult(form=(FormField(
                "jid", "User's bare JID", "jid-single", required=False,
                desc="Leave empty to list every user with usage today"),))
        user = str(values.get("jid") or "").strip().partition("/")[0]
        if user:
            lines = [self._line(user, await self.ledger.of(user))]
        else:
            everyone = await self.ledger.today()
            if not everyone:
                return CommandResult(note=f"No SMS sent today ({self._day()}).\n"
                                     + self._limits())
            ranked = sorted(everyone.items(), key=lambda item: (-item[1].segments, item[0]))
            lines = [self._line(u, tally) for u, tally in ranked[:LISTED]]
            if len(ranked) > LISTED:
                lines.append(f"... and {len(ranked) - LISTED} more")
        return CommandResult(note=f"SMS usage on {self._day()} (UTC):\n" + "\n".join(lines)
                             + "\n" + self._limits())

    def _line(self, user: str, tally: Tally) -> str:
        line = (f"{user}: {tally.messages} of {self.limits.messages_per_day} messages, "
                f"{tally.segments} of {self.limits.segments_per_day} segments")
        if tally.reserved_messages:
            line += (f" (+{tally.reserved_messages} messages, {tally.reserved_segments} "
                     "segments being sent)")
        return line

    def _limits(self) -> str:
        limits = self.limits
        countries = ", ".join(sorted(limits.countries)) or "any"
        return (f"Limits per user: messages_per_day = {limits.messages_per_day}, "
                f"segments_per_day = {limits.segments_per_day}, recipients_per_message = "
                f"{limits.recipients_per_message}, max_segments = {limits.max_segments}, "
                f"countries = {countries}")

    @staticmethod
    def _day() -> str:
        return day_text(utc_day())
