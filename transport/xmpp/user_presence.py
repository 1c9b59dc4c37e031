"""Users' own presences, as the server routes them to the component, fed to the lifecycle.

The server sends us a user's presence through the XEP-0100 subscription to the domain,
subscriptions to contacts, and directed presence (MUC joins). Each is reported to
``UserLifecycle`` with the JID it reached; the lifecycle decides who is online.

Presences sent while the stream was down are lost, so each new stream (the first after a
start, and every reconnect) probes, from the domain, the users announced online and every
user who registered or subscribed here. The server answers a probe with the presence of
each available resource, or one unavailable presence from the bare JID; a ping to each
user's server afterwards returns once those answers are in (a stream is handled in
order), and then the users announced online who did not answer are offline.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from transport.core.lifecycle import UserLifecycle
from transport.xmpp.component import GatewayComponent

log = logging.getLogger(__name__)


class UserPresenceTracker:
    """Feeds one component's incoming user presences to its ``UserLifecycle``."""

    def __init__(self, xmpp: GatewayComponent, lifecycle: UserLifecycle, store: Any) -> None:
        self.xmpp = xmpp
        self.lifecycle = lifecycle
        self.store = store
        self.component = str(xmpp.boundjid.bare)
        self._resync: asyncio.Task[None] | None = None
        xmpp.add_event_handler("presence", self._on_presence)
        xmpp.add_event_handler("session_start", self._on_session_start)

    def _on_presence(self, pres: Any) -> None:
        ptype = pres.xml.get("type")
        if ptype not in (None, "unavailable", "error"):
            return  # subscriptions and probes: the PresenceHandler's
        sender = pres["from"]
        if not sender.user or sender.domain == self.component:
            return
        user = str(sender.bare)
        resource = str(sender.resource)
        if ptype is None:
            self.lifecycle.available(user, resource, str(pres["to"].bare))
        elif not resource:
            self.lifecycle.gone(user)
        elif ptype == "unavailable":
            self.lifecycle.unavailable(user, resource, str(pres["to"].bare))
        else:
            self.lifecycle.resource_failed(user, resource)

    def _on_session_start(self, _event: Any) -> None:
        # Synchronous up to here, so the resync begins before this stream's first presence.
        generation, online = self.lifecycle.begin_resync()
        if self._resync is not None:
            self._resync.cancel()
        self._resync = asyncio.ensure_future(self._probe(generation, online))

    async def _probe(self, generation: int, online: list[str]) -> None:
        try:
            users = set(online)
            users.update(r.jid for r in await self.store.users.list(self.component))
            users.update(await self.store.subscriptions.users(self.component))
            for user in sorted(users):
                self.xmpp.make_presence(pto=user, pfrom=self.component, ptype="probe").send()
            domains = sorted({user.rpartition("@")[2] for user in online})
            answered = await asyncio.gather(*(self.xmpp.barrier(d) for d in domains))
            if not all(answered):
                log.warning("%s: some users' servers did not answer; users of %s not heard "
                            "from are taken as offline", self.component,
                            ", ".join(d for d, ok in zip(domains, answered, strict=True)
                                      if not ok))
            log.info("%s probed %d user(s) after (re)connecting", self.component, len(users))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: probing users after (re)connecting failed", self.component)
        if self.xmpp.online.is_set():  # else the next stream's resync takes over
            self.lifecycle.end_resync(generation, online)

    async def stop(self) -> None:
        if self._resync is not None:
            self._resync.cancel()
            self._resync = None
