"""``[sms.limits]``: what one stanza may cost, checked whole before anything is sent.

A stanza is refused (``policy-violation``) when it breaks a per-message cap — more
XEP-0033 recipients than ``recipients_per_message``, a body over ``max_segments``, a
destination outside ``countries`` — with ``type="modify"``; or when its cost would take the
user's UTC day past ``messages_per_day`` / ``segments_per_day``, with ``type="wait"``.
All-or-nothing: every recipient and every part is checked and the day's share reserved
before the first Twilio request, so a refused stanza sends nothing at all.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers

from transport.backends.sms.ledger import DailyLimits, Reservation, UsageLedger
from transport.backends.sms.numbers import Numbers, kind_of
from transport.backends.sms.settings import LimitsSettings
from transport.core.errors import DeliveryRefused
from transport.core.storage import BackendStorage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StanzaCost:
    """What a stanza makes Twilio create: messages and billed segments, all recipients."""

    messages: int
    segments: int


class Spending:
    """The per-stanza caps of ``[sms.limits]`` and the daily ledger behind them."""

    def __init__(self, settings: LimitsSettings, ledger: UsageLedger) -> None:
        self.settings = settings
        self.ledger = ledger

    @classmethod
    def for_store(cls, settings: LimitsSettings, storage: BackendStorage) -> Spending:
        daily = DailyLimits(settings.messages_per_day, settings.segments_per_day)
        return cls(settings, UsageLedger(storage, daily))

    async def reserve(
        self, user: str, contacts: Sequence[str], part_segments: Sequence[int]
    ) -> Reservation:
        """Check the whole stanza and reserve its cost, or raise ``DeliveryRefused``.

        ``part_segments``: the segments of each Twilio message one recipient gets.
        """
        try:
            cost = self.cost(contacts, part_segments)
            return await self.ledger.reserve(user, cost.messages, cost.segments)
        except DeliveryRefused as exc:
            log.info("SMS from %s refused by [sms.limits]: %s", user, exc.text)
            raise

    def cost(self, contacts: Sequence[str], part_segments: Sequence[int]) -> StanzaCost:
        """The stanza's cost once its per-message caps are met (``DeliveryRefused`` if not)."""
        limits = self.settings
        if len(contacts) > limits.recipients_per_message:
            raise _cap("recipients_per_message", limits.recipients_per_message,
                       f"this message has {len(contacts)} recipients")
        if limits.countries:
            for contact in contacts:
                region = country_of(contact)
                if region not in limits.countries:
                    allowed = ", ".join(sorted(limits.countries))
                    raise _cap("countries", f"[{allowed}]",
                               f"{Numbers.display_name(contact)} is in {region}")
        per_recipient = sum(part_segments)
        if per_recipient > limits.max_segments:
            raise _cap("max_segments", limits.max_segments,
                       f"this text is {per_recipient} segments; it was not sent, not even "
                       "in part: shorten it or send it as several messages")
        return StanzaCost(len(contacts) * len(part_segments), len(contacts) * per_recipient)


@functools.lru_cache(maxsize=4096)
def country_of(contact: str) -> str:
    """The ISO 3166 alpha-2 region a contact localpart is in; "ZZ" when none can be told.

    A number valid in one region of its calling code is in that region (+1 876 is JM,
    not US); otherwise, and for short codes, the calling code's main region counts.
    """
    if kind_of(contact) == "short":
        code = int(contact.rpartition("+")[2])
        return str(phonenumbers.region_code_for_country_code(code))
    try:
        parsed = phonenumbers.parse(contact, None)
    except phonenumbers.NumberParseException:
        return "ZZ"
    region = phonenumbers.region_code_for_number(parsed)
    if region and region != "ZZ":
        return str(region)
    return str(phonenumbers.region_code_for_country_code(parsed.country_code or 0))


def _cap(key: str, limit: object, why: str) -> DeliveryRefused:
    return DeliveryRefused(f"SMS limit: {key} = {limit}; {why}", "policy-violation", "modify")
