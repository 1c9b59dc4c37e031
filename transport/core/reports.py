"""Late delivery reports from the legacy side, turned into receipts and error messages.

A network may report on a message before the core has stored which XMPP message it belongs
to (Twilio can call back before its REST answer is read), so reports for ids not yet mapped
are held briefly and applied when the mapping lands. One XMPP message may have several
legacy ids (a long SMS in parts, a group text); the user gets one receipt per contact and
one error (per process lifetime) at most.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from transport.core.events import StanzaErrorInfo, XmppMessage

log = logging.getLogger(__name__)

Deliver = Callable[[XmppMessage], Awaitable[bool]]
ContactJid = Callable[[str], str]


class DeliveryReports:
    """Applies ``confirm``/``fail`` reports for one component."""

    def __init__(
        self,
        component: str,
        store: Any,
        deliver: Deliver,
        contact_jid: ContactJid,
        *,
        hold_for: float = 600.0,
    ) -> None:
        self.component = component
        self.store = store
        self.deliver = deliver
        self.contact_jid = contact_jid
        self.hold_for = hold_for
        self._early: dict[str, tuple[float, StanzaErrorInfo | None]] = {}
        self._errored: set[str] = set()

    async def confirm(self, legacy_id: str) -> None:
        """The network delivered ``legacy_id``."""
        await self._apply(legacy_id, None)

    async def fail(self, legacy_id: str, error: StanzaErrorInfo) -> None:
        """The network gave up on ``legacy_id`` after accepting it."""
        await self._apply(legacy_id, error)

    async def mapped(self, legacy_ids: Sequence[str]) -> None:
        """Mappings for these ids were just stored: apply reports that came first."""
        for legacy_id in legacy_ids:
            early = self._early.pop(legacy_id, None)
            if early is not None:
                await self._apply(legacy_id, early[1])

    async def _apply(self, legacy_id: str, error: StanzaErrorInfo | None) -> None:
        row = await self.store.id_maps.by_legacy_id(self.component, legacy_id)
        if row is None:
            self._hold(legacy_id, error)
            return
        if not await self.store.id_maps.resolve(self.component, legacy_id):
            return  # reported before: a receipt or error went out already
        sender = self.contact_jid(row.contact)
        if error is not None:
            if not self._first_error(row.user, row.xmpp_id):
                return
            log.info("Legacy failure for a message of %s to %s: %s", row.user, row.contact,
                     error.condition)
            await self.deliver(XmppMessage(to=row.full_jid, sender=sender, type="error",
                                           id=row.xmpp_id, error=error))
        elif row.receipt_requested and not await self._receipt_sent(row, legacy_id):
            await self.deliver(XmppMessage(to=row.full_jid, sender=sender,
                                           receipt_for=row.xmpp_id))

    async def _receipt_sent(self, row: Any, legacy_id: str) -> bool:
        """Another part of the same message to the same contact was confirmed already."""
        siblings = await self.store.id_maps.by_xmpp_id(self.component, row.user, row.xmpp_id)
        return any(s.resolved and s.legacy_id != legacy_id and s.contact == row.contact
                   for s in siblings)

    def _first_error(self, user: str, xmpp_id: str) -> bool:
        """One error per XMPP message, even when several of its parts fail."""
        key = f"{user}\n{xmpp_id}"
        if key in self._errored:
            return False
        if len(self._errored) > 10_000:
            self._errored.clear()
        self._errored.add(key)
        return True

    def _hold(self, legacy_id: str, error: StanzaErrorInfo | None) -> None:
        now = time.monotonic()
        for key in [k for k, (t, _) in self._early.items() if now - t > self.hold_for]:
            del self._early[key]
        self._early[legacy_id] = (now, error)
