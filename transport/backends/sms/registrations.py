"""Who may bind a number (``[sms] registration``) and the hand-over of released numbers.

- ``open``: a user of an allowed domain binds a free pool number at once;
- ``approval``: the request is kept in ``sms_pending`` (reserving the number, so another
  user gets ``conflict``) until an admin approves or rejects it; the user is told both times
  by a chat message from the component, and is not registered meanwhile;
- ``admin``: only admins bind (``assign-number``); anyone else's request is ``not-allowed``.

Admins registering themselves are never held back. A number released by unregistering
takes nothing of its former owner to the next: the core deletes the user's rows, and
``release`` deletes what the sms tables keep for the number (held texts, media files) and
the user's request.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Final

from transport.backends.sms.media import MediaStore
from transport.backends.sms.settings import RegistrationMode
from transport.backends.sms.store import SmsRepo
from transport.core.backend import PendingRegistration
from transport.core.errors import GatewayError, RegistrationRefused
from transport.core.events import Registration, XmppMessage
from transport.core.storage import BackendStorage, Transaction

log = logging.getLogger(__name__)

_HOLDER: Final = "SELECT user FROM sms_pending WHERE number = ?"
_HOLD: Final = """
INSERT INTO sms_pending (user, number, data, requested_at) VALUES (?, ?, ?, ?)
ON CONFLICT (user) DO UPDATE SET number = excluded.number, data = excluded.data,
    requested_at = excluded.requested_at"""
_LIST: Final = "SELECT user, number, data, requested_at FROM sms_pending ORDER BY requested_at"
_GET: Final = "SELECT user, number, data, requested_at FROM sms_pending WHERE user = ?"


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A user's request for a number, waiting for an admin."""

    user: str
    number: str
    data: dict[str, str]
    requested_at: float


class PendingRepo:
    """The ``sms_pending`` table: one request per user, one user per number."""

    def __init__(self, storage: BackendStorage) -> None:
        self.storage = storage

    async def hold(self, request: PendingRequest) -> str | None:
        """Store (or replace) the user's request; the other user who holds the number
        already, in which case nothing is stored."""
        params = (request.user, request.number, json.dumps(request.data), request.requested_at)

        def op(conn: Transaction) -> str | None:
            row = conn.execute(_HOLDER, (request.number,)).fetchone()
            if row is not None and row[0] != request.user:
                return str(row[0])
            conn.execute(_HOLD, params)
            return None

        result: str | None = await self.storage.transaction(op)
        return result

    async def holder(self, number: str) -> str | None:
        row = await self.storage.read_one(_HOLDER, (number,))
        return None if row is None else str(row[0])

    async def get(self, user: str) -> PendingRequest | None:
        row = await self.storage.read_one(_GET, (user,))
        return None if row is None else _request(row)

    async def all(self) -> list[PendingRequest]:
        return [_request(row) for row in await self.storage.read(_LIST)]

    async def count(self) -> int:
        row = await self.storage.read_one("SELECT count(*) FROM sms_pending")
        return int(row[0]) if row is not None else 0

    async def drop(self, user: str, number: str | None = None) -> bool:
        """Delete the user's request (only if it is for ``number``, when given)."""
        if number is None:
            return bool(await self.storage.write("DELETE FROM sms_pending WHERE user = ?", (user,)))
        return bool(await self.storage.write(
            "DELETE FROM sms_pending WHERE user = ? AND number = ?", (user, number)))


def _request(row: Any) -> PendingRequest:
    return PendingRequest(str(row[0]), str(row[1]), json.loads(row[2]), float(row[3]))


class Registrar:
    """Applies the registration mode; the admin commands decide through it."""

    def __init__(
        self, ctx: Any, mode: RegistrationMode, pending: PendingRepo, repo: SmsRepo,
        media: MediaStore,
    ) -> None:
        self.ctx = ctx
        self.mode = mode
        self.pending = pending
        self.repo = repo
        self.media = media

    def check_may_request(self, user: str) -> None:
        """In ``admin`` mode only admins bind numbers themselves."""
        if self.mode == "admin" and not self.ctx.is_admin(user):
            raise RegistrationRefused(
                "Numbers on this gateway are assigned by its admins: ask one to assign you "
                "a number", "not-allowed", "cancel")

    async def hold(self, user: str, registration: Registration) -> PendingRegistration | None:
        """None: bind now; else the request is kept for an admin. Raises ``conflict`` for a
        number another user's request reserves (or, when held, another user owns)."""
        number = registration.legacy_key or ""
        holder = await self.pending.holder(number)
        if holder is not None and holder != user:
            raise _reserved()
        if self.mode != "approval" or self.ctx.is_admin(user):
            if holder == user:
                await self.pending.drop(user)  # bound now: the old request is moot
            return None
        owner = await self.ctx.user_by_legacy_key(number)
        if owner == user:
            await self.pending.drop(user)
            return None  # already theirs: nothing to approve
        if owner is not None:
            raise RegistrationRefused("This number is already registered by another user",
                                      "conflict", "cancel")
        request = PendingRequest(user, number, dict(registration.data), time.time())
        if await self.pending.hold(request) is not None:
            raise _reserved()
        log.info("%s asked for %s; waiting for an admin's approval", user, number)
        return PendingRegistration(
            f"Your request to use {number} on {self.ctx.component_jid} waits for an admin's "
            "approval. You will get a message here once it is decided.")

    async def withdraw(self, user: str) -> bool:
        return await self.pending.drop(user)

    async def approve(self, request: PendingRequest) -> str:
        """Bind the request's number to its user and tell them; a line for the admin."""
        if not await self.pending.drop(request.user, request.number):
            return f"{request.user}: the request for {request.number} is no longer pending"
        try:
            await self.ctx.bind_registration(
                request.user, Registration(request.number, dict(request.data)))
        except GatewayError as exc:
            await self._tell(request.user, f"Your request to use {request.number} on "
                             f"{self.ctx.component_jid} could not be approved: {exc.text}.")
            return f"{request.user}: not approved ({exc.text})"
        log.info("%s approved for %s", request.user, request.number)
        await self._tell(request.user, f"An admin approved your request: {request.number} is "
                         f"yours on {self.ctx.component_jid}, and texts to it reach you here.")
        return f"{request.user}: approved for {request.number}"

    async def reject(self, request: PendingRequest) -> str:
        if not await self.pending.drop(request.user, request.number):
            return f"{request.user}: the request for {request.number} is no longer pending"
        log.info("%s rejected for %s", request.user, request.number)
        await self._tell(request.user, f"An admin rejected your request to use "
                         f"{request.number} on {self.ctx.component_jid}.")
        return f"{request.user}: rejected"

    async def assign(self, user: str, registration: Registration) -> str:
        """An admin binds ``registration`` to ``user``; a line for the admin, or a
        ``GatewayError`` saying why not (``conflict``)."""
        number = registration.legacy_key or ""
        holder = await self.pending.holder(number)
        if holder is not None and holder != user:
            raise RegistrationRefused(f"a pending request of {holder} reserves it; reject "
                                      "that first", "conflict", "cancel")
        await self.ctx.bind_registration(user, registration)
        await self.pending.drop(user)
        log.info("%s was assigned %s", user, number)
        await self._tell(user, f"An admin assigned you {number} on {self.ctx.component_jid}; "
                         "texts to it reach you here.")
        return f"{number} is now {user}'s."

    async def release(self, user: str, registration: Registration) -> None:
        """``user`` unregistered: delete what the sms tables keep of them and their number."""
        await self.pending.drop(user)
        number = registration.legacy_key
        if not number:
            return
        texts = await self.repo.purge_unrouted_to(number)
        files = await self.media.purge_number(number)
        log.info("%s released %s: %d held text(s) and %d media file(s) deleted",
                 user, number, texts, files)

    async def _tell(self, user: str, text: str) -> None:
        await self.ctx.deliver(XmppMessage(to=user, sender=self.ctx.component_jid, body=text))


def _reserved() -> RegistrationRefused:
    return RegistrationRefused("This number is reserved by another user's pending request",
                               "conflict", "cancel")
