"""Each user's SMS usage per UTC day: kept in the store, reserved in memory before sending.

The store (``sms_usage``) holds what Twilio *created* per (day, user), so a restart does
not reset a day's count. Before a stanza's first Twilio request its whole cost is reserved
here, by a check-and-add with no ``await`` between the check and the add: two stanzas sent
at once cannot both take the last free slot. Each message Twilio creates moves its share
from reserved to used at once; the store is updated in the background, the creations of
one loop turn in one write, so no text waits for a commit (``flush`` on stop waits for
them; a crash can lose only the write under way). Whatever Twilio did not create (a
refused part, a recipient that failed) is released when the stanza is done.

A user is served by one gateway process at a time, so the process's reservations are the
whole truth; a reservation that dies with the process was never sent (the outbox does not
resend a message that was being sent when the gateway stopped).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Final

from transport.core.errors import DeliveryRefused
from transport.core.storage import BackendStorage

log = logging.getLogger(__name__)

_EPOCH: Final = dt.date(1970, 1, 1).toordinal()
_LOAD: Final = "SELECT messages, segments FROM sms_usage WHERE day = ? AND user_jid = ?"
_ADD: Final = """
INSERT INTO sms_usage (day, user_jid, messages, segments) VALUES (?, ?, ?, ?)
ON CONFLICT (day, user_jid) DO UPDATE
SET messages = messages + excluded.messages, segments = segments + excluded.segments"""
_DAY_ROWS: Final = "SELECT user_jid, messages, segments FROM sms_usage WHERE day = ?"
_PRUNE: Final = "DELETE FROM sms_usage WHERE day < ?"


def utc_day(now: float | None = None) -> int:
    """Days since 1970-01-01 in UTC: the key a daily limit is counted under."""
    return int((time.time() if now is None else now) // 86400)


def day_text(day: int) -> str:
    """``utc_day`` as stored and shown: ``YYYY-MM-DD``."""
    return dt.date.fromordinal(_EPOCH + day).isoformat()


@dataclass(slots=True)
class Tally:
    """One user's day: created (committed or on its way to the store) and reserved."""

    messages: int = 0
    segments: int = 0
    reserved_messages: int = 0
    reserved_segments: int = 0


@dataclass(frozen=True, slots=True)
class DailyLimits:
    """The two daily caps of ``[sms.limits]``."""

    messages_per_day: int
    segments_per_day: int


class Reservation:
    """The part of a stanza's cost not yet created by Twilio."""

    __slots__ = ("day", "ledger", "messages", "segments", "tally", "user")

    def __init__(self, ledger: UsageLedger, day: int, user: str, tally: Tally,
                 messages: int, segments: int) -> None:
        self.ledger = ledger
        self.day = day
        self.user = user
        self.tally = tally
        self.messages = messages
        self.segments = segments

    def created(self, segments: int) -> None:
        """Twilio created one message of ``segments``: it is used, no longer reserved."""
        messages = min(1, self.messages)
        segments_taken = min(segments, self.segments)
        self.messages -= messages
        self.segments -= segments_taken
        tally = self.tally
        tally.reserved_messages -= messages
        tally.reserved_segments -= segments_taken
        tally.messages += 1
        tally.segments += segments
        self.ledger.count_created(self.day, self.user, segments)

    def release(self) -> None:
        """Give back what was never created (idempotent)."""
        self.tally.reserved_messages -= self.messages
        self.tally.reserved_segments -= self.segments
        self.messages = self.segments = 0


STORE_LINGER: Final = 0.05


class UsageLedger:
    """Daily usage of every user of one sms component."""

    def __init__(self, storage: BackendStorage, limits: DailyLimits) -> None:
        self.storage = storage
        self.limits = limits
        self._tallies: dict[tuple[int, str], Tally] = {}
        self._today = utc_day()
        self._unstored: dict[tuple[int, str], list[int]] = {}
        self._writes: set[asyncio.Task[None]] = set()

    async def reserve(self, user: str, messages: int, segments: int) -> Reservation:
        """Reserve a stanza's cost for today, or refuse it with ``policy-violation``/wait."""
        day = utc_day()
        tally = self._tallies.get((day, user))
        if tally is None:
            tally = await self._load(day, user)
        # No await from here on: the check and the reservation are one step.
        limits = self.limits
        used_messages = tally.messages + tally.reserved_messages
        if used_messages + messages > limits.messages_per_day:
            raise _reached("messages_per_day", limits.messages_per_day, used_messages,
                           messages, "message")
        used_segments = tally.segments + tally.reserved_segments
        if used_segments + segments > limits.segments_per_day:
            raise _reached("segments_per_day", limits.segments_per_day, used_segments,
                           segments, "segment")
        tally.reserved_messages += messages
        tally.reserved_segments += segments
        return Reservation(self, day, user, tally, messages, segments)

    def count_created(self, day: int, user: str, segments: int) -> None:
        """Queue one created message for the store; the loop turn's creations share a write."""
        if not self._unstored:
            task = asyncio.ensure_future(self._store_created())
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)
        counts = self._unstored.setdefault((day, user), [0, 0])
        counts[0] += 1
        counts[1] += segments

    async def _store_created(self) -> None:
        # Creations of the next STORE_LINGER seconds join this write: one commit per create
        # (a thousand a second under a burst) cost the sender about a tenth of its speed. A
        # crash loses at most that much counting; a clean stop waits for it (``flush``).
        await asyncio.sleep(STORE_LINGER)
        rows, self._unstored = self._unstored, {}
        try:
            await self.storage.write_many(_ADD, [(day_text(day), user, messages, segments)
                                                 for (day, user), (messages, segments)
                                                 in rows.items()])
        except Exception:  # the texts are out; this process still counts them in memory
            log.exception("Could not store the SMS usage of %s", ", ".join(
                sorted({user for _day, user in rows})))

    async def flush(self) -> None:
        """Wait until every created message queued for the store is written (or failed)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def today(self) -> dict[str, Tally]:
        """Every user with usage today (in the store or reserved now), by bare JID."""
        day = utc_day()
        out = {
            str(row["user_jid"]): Tally(int(row["messages"]), int(row["segments"]))
            for row in await self.storage.read(_DAY_ROWS, (day_text(day),))
        }
        for (tally_day, user), tally in self._tallies.items():
            if tally_day == day and (tally.messages or tally.reserved_messages):
                out[user] = tally  # in memory it already counts writes still being committed
        return out

    async def of(self, user: str) -> Tally:
        """One user's usage today."""
        day = utc_day()
        return self._tallies.get((day, user)) or await self._load(day, user)

    async def prune(self, keep_days: int) -> int:
        """Delete stored days older than ``keep_days`` before today."""
        return int(await self.storage.write(_PRUNE, (day_text(utc_day() - keep_days),)))

    async def _load(self, day: int, user: str) -> Tally:
        row = await self.storage.read_one(_LOAD, (day_text(day), user))
        loaded = Tally(int(row[0]), int(row[1])) if row is not None else Tally()
        if day != self._today:  # a new UTC day: yesterday's tallies are no longer asked for
            self._today = day
            self._tallies = {k: v for k, v in self._tallies.items() if k[0] >= day}
        # Another stanza of the same user may have loaded meanwhile: the first one counts.
        return self._tallies.setdefault((day, user), loaded)


def _reached(key: str, limit: int, used: int, wanted: int, unit: str) -> DeliveryRefused:
    return DeliveryRefused(
        f"SMS limit reached: {key} = {limit} (UTC day); {used} used today, this message "
        f"needs {wanted} {unit}{'s' if wanted != 1 else ''}. Try again after 00:00 UTC",
        "policy-violation", "wait")

