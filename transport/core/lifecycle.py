"""Each user's life on one component: registered, online, offline, unregistered.

The XMPP side reports what presences say (a resource available to a JID under the domain,
unavailable again, failed, or the whole user gone); this state machine decides when the
user's first resource came and their last one went, and calls the backend's hooks.

- A resource counts as available while it has available presence at some JID under the
  domain (the domain itself, a contact, a room): presence reaches the component through
  the XEP-0100 subscription, subscriptions to contacts, and directed presence (MUC joins).
  Leaving one room therefore does not make the user offline; leaving the last place that
  saw them does.
- Only users who may use the gateway (an allowed domain, and registered where the backend
  needs it) are tracked; presences of others change nothing.
- Every event of one user runs in arrival order through a ``SerialRunner``, hooks
  included: a hook that raises is logged with the user and the next event still comes.
  Once ``FOLD_AFTER`` events wait for a user's turn (their hooks are slower than their
  presences), further presences fold into one pending change, applied as a whole: a
  flood costs one entry per resource and JID, and the backend sees where the user ended
  up, not every flap it was too slow to watch.
- Who was announced online is kept in the store (``online_users``). Stopping the gateway
  announces nobody offline (nobody logged out). After a start or a reconnect of the
  stream, the XMPP side probes those users (``begin_resync`` .. ``end_resync``): a user
  who answers with an available resource stays online without a second
  ``on_user_online``; one who does not by the end gets ``on_user_offline``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from transport.core.backend import Backend
from transport.core.events import Registration
from transport.core.fold import PresenceFold
from transport.core.serial import SerialRunner

log = logging.getLogger(__name__)

#: Events that may wait in order for one user's turn before presences fold (see above).
FOLD_AFTER = 8


class OnlineUsersStore(Protocol):
    """Where the lifecycle keeps who was announced online (``transport.store.online``)."""

    async def list(self, component: str) -> list[str]: ...

    async def add(self, component: str, user: str) -> None: ...

    async def remove(self, component: str, user: str) -> bool: ...


@dataclass(slots=True)
class _User:
    """What the lifecycle knows of one user."""

    # resource -> the bare JIDs under the domain that hold its available presence
    resources: dict[str, set[str]] = field(default_factory=dict)
    # ``on_user_online`` was called and ``on_user_offline`` not since
    online: bool = False
    # the resync that has yet to hear from this user (None: nothing to confirm)
    unconfirmed: int | None = None


class UserLifecycle:
    """The per-user state machine of one component and the hooks it calls."""

    def __init__(
        self,
        component: str,
        backend: Backend[Any],
        online_store: OnlineUsersStore,
        may_use: Callable[[str], Awaitable[bool]],
    ) -> None:
        self.component = component
        self._backend = backend
        self._store = online_store
        self._may_use = may_use
        self._users: dict[str, _User] = {}
        self._runner = SerialRunner(f"lifecycle {component}")
        # per user, the fold that is the last job in their queue and has not started
        self._folds: dict[str, PresenceFold] = {}
        self._generation = 0
        self._resynced = asyncio.Event()
        self._resynced.set()

    # -- what the gateway sees ---------------------------------------------------------

    @property
    def online(self) -> dict[str, frozenset[str]]:
        """Users announced online, with the resources seen since (empty until a resync
        after a restart heard from them)."""
        return {user: frozenset(state.resources)
                for user, state in self._users.items() if state.online}

    @property
    def longest_backlog(self) -> int:
        """The most events ever waiting at once for one user's turn."""
        return self._runner.longest_queue

    async def start(self) -> None:
        """Take up the users announced online before the last stop, as yet unconfirmed."""
        for user in await self._store.list(self.component):
            self._users[user] = _User(online=True, unconfirmed=self._generation)
        if self._users:
            log.info("%s: %d user(s) were online at the last stop", self.component,
                     len(self._users))

    async def stop(self, timeout: float = 3.0) -> None:
        """Let queued events finish for ``timeout`` s; nobody is announced offline."""
        await self._runner.stop(timeout)

    async def settled(self) -> None:
        """Return once the current resync has ended and every queued event ran."""
        await self._resynced.wait()
        await self._runner.idle()

    # -- events, in the order they happened --------------------------------------------

    def available(self, user: str, resource: str, target: str) -> None:
        """``user/resource`` sent available presence to ``target`` (a bare JID of ours)."""
        if (fold := self._fold(user)) is not None:
            fold.add(resource, target, available=True)
            return
        self._runner.submit(user, lambda: self._available(user, resource, target))

    def unavailable(self, user: str, resource: str, target: str) -> None:
        """``user/resource`` sent unavailable presence to ``target``."""
        if (fold := self._fold(user)) is not None:
            fold.add(resource, target, available=False)
            return
        self._runner.submit(user, lambda: self._unavailable(user, resource, target))

    def resource_failed(self, user: str, resource: str) -> None:
        """An error presence came from ``user/resource``: that resource is gone."""
        if (fold := self._fold(user)) is not None:
            fold.fail(resource)
            return
        self._runner.submit(user, lambda: self._drop(user, resource))

    def gone(self, user: str) -> None:
        """The server said ``user`` has no available resource (unavailable or error
        presence from the bare JID, as a probe is answered)."""
        if (fold := self._fold(user)) is not None:
            fold.drop_all()
            return
        self._runner.submit(user, lambda: self._drop(user, None))

    def _fold(self, user: str) -> PresenceFold | None:
        """Where a presence of ``user`` folds: the open fold (the last job queued, not
        started), or a new one once ``FOLD_AFTER`` events wait; None: queue it as it is."""
        fold = self._folds.get(user)
        if fold is None:
            if self._runner.waiting(user) < FOLD_AFTER:
                return None
            fold = PresenceFold()
            self._submit(user, functools.partial(self._apply_fold, user, fold))
            self._folds[user] = fold
        return fold

    def _submit(self, user: str, job: Callable[[], Awaitable[None]]) -> Awaitable[None]:
        """Queue a job of ``user``'s (a fold queued before it is closed: order holds)."""
        self._folds.pop(user, None)
        return self._runner.submit(user, job)

    def registered(
        self, user: str, registration: Registration, previous: Registration | None
    ) -> None:
        """``user``'s registration was stored (``previous``: what it replaced, if any)."""
        self._submit(user, lambda: self._hook(
            "on_registered", user, self._backend.on_registered(user, registration, previous)))

    async def unregistered(self, user: str, registration: Registration) -> None:
        """``user``'s registration is gone: offline first if they were online, then
        ``on_unregistered``; returns once both hooks ran (at once, when stopping)."""
        if self._runner.stopped:
            await self._unregistered(user, registration)  # the backend's data must go
            return
        await self._submit(user, lambda: self._unregistered(user, registration))

    def begin_resync(self) -> tuple[int, list[str]]:
        """A new stream: forget the resources (presences may have been missed) and wait to
        hear again from every user announced online; returns the resync's number and
        the users to probe (those online once their events queued so far ran)."""
        self._generation += 1
        generation = self._generation
        self._resynced.clear()
        users = sorted((set(self._users) | self._runner.busy_keys()) - {""})
        for user in users:
            self._submit(user, functools.partial(self._unconfirm, user, generation))
        return generation, users

    def end_resync(self, generation: int, users: Collection[str]) -> None:
        """Every answer to resync ``generation``'s probes is in (or never will be): the
        users among ``users`` not heard from since are offline."""
        if generation != self._generation:
            return  # a newer stream started its own resync
        for user in users:
            self._submit(user, functools.partial(self._confirm, user, generation))
        self._runner.submit("", self._mark_resynced(generation))

    # -- the transitions (each runs in its user's turn) --------------------------------

    async def _available(self, user: str, resource: str, target: str) -> None:
        state = self._users.get(user)
        if state is None:
            if not await self._may_use(user):
                return
            state = self._users.setdefault(user, _User())
        state.resources.setdefault(resource, set()).add(target)
        state.unconfirmed = None
        if not state.online:
            state.online = True
            await self._remember(user, online=True)
            log.info("%s came online on %s", user, self.component)
            await self._hook("on_user_online", user, self._backend.on_user_online(user))

    async def _unavailable(self, user: str, resource: str, target: str) -> None:
        state = self._users.get(user)
        if state is None:
            return
        targets = state.resources.get(resource)
        if targets is None:
            return
        targets.discard(target)
        if not targets:
            del state.resources[resource]
            await self._settle(user, state)

    async def _drop(self, user: str, resource: str | None) -> None:
        state = self._users.get(user)
        if state is None:
            return
        if resource is None:
            state.resources.clear()
            state.unconfirmed = None
        else:
            state.resources.pop(resource, None)
        await self._settle(user, state)

    async def _apply_fold(self, user: str, fold: PresenceFold) -> None:
        """The folded presences in one turn: the same end state as one by one, and at
        most one hook (online if a resource is left, offline if none)."""
        if self._folds.get(user) is fold:
            del self._folds[user]  # later presences queue (or fold) behind this turn
        state = self._users.get(user)
        if state is None:
            if not fold.adds or not await self._may_use(user):
                return
            state = self._users.setdefault(user, _User())
        fold.apply(state.resources)
        if fold.heard:
            state.unconfirmed = None
        if not state.resources:
            await self._settle(user, state)
        elif not state.online:
            state.online = True
            await self._remember(user, online=True)
            log.info("%s came online on %s", user, self.component)
            await self._hook("on_user_online", user, self._backend.on_user_online(user))

    async def _unconfirm(self, user: str, generation: int) -> None:
        state = self._users.get(user)
        if state is not None and state.online:
            state.resources.clear()
            state.unconfirmed = generation

    async def _confirm(self, user: str, generation: int) -> None:
        state = self._users.get(user)
        if state is not None and state.unconfirmed == generation:
            state.unconfirmed = None
            await self._settle(user, state)

    def _mark_resynced(self, generation: int) -> Callable[[], Awaitable[None]]:
        async def mark() -> None:
            if generation == self._generation:
                self._resynced.set()
        return mark

    async def _settle(self, user: str, state: _User) -> None:
        """After a resource went: offline once none is left (unless a resync still waits
        to hear from the user); forget users with nothing to remember."""
        if state.resources or state.unconfirmed is not None:
            return
        del self._users[user]
        if state.online:
            await self._offline(user)

    async def _offline(self, user: str) -> None:
        await self._remember(user, online=False)
        log.info("%s went offline on %s", user, self.component)
        await self._hook("on_user_offline", user, self._backend.on_user_offline(user))

    async def _unregistered(self, user: str, registration: Registration) -> None:
        state = self._users.pop(user, None)
        if state is not None and state.online:
            await self._offline(user)
        await self._hook("on_unregistered", user,
                         self._backend.on_unregistered(user, registration))

    async def _remember(self, user: str, *, online: bool) -> None:
        """Keep the change in the store; if that fails (logged), the hook runs all the same
        and only a restart's resync may repeat or miss it."""
        try:
            if online:
                await self._store.add(self.component, user)
            else:
                await self._store.remove(self.component, user)
        except Exception:
            log.exception("%s: could not record that %s is %s", self.component, user,
                          "online" if online else "offline")

    async def _hook(self, name: str, user: str, call: Awaitable[None]) -> None:
        """Run a backend hook; its failure is the backend's, logged, and changes no state."""
        try:
            await call
        except Exception:
            log.exception("%s: %s failed for %s", self.component, name, user)
