"""Builds the store and every enabled component, runs them until a signal, stops cleanly."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from transport.config import Settings
from transport.core.errors import StartupError
from transport.core.policy import AccessPolicy
from transport.store import DatabaseUnusable, Store
from transport.store.retention import Retention
from transport.xmpp.component import GatewayComponent
from transport.xmpp.runtime import ComponentRuntime

log = logging.getLogger(__name__)


class Application:
    """All components of one process, sharing one store and one event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: Store | None = None
        self.retention: Retention | None = None
        self.runtimes: list[ComponentRuntime] = []

    async def start(self) -> None:
        settings = self.settings
        migrations = {c.name: c.backend.migrations() for c in settings.components}
        try:
            self.store = await Store.open(
                settings.database.path,
                synchronous=settings.database.synchronous,
                extra_migrations={k: v for k, v in migrations.items() if v},
            )
        except DatabaseUnusable as exc:
            raise StartupError("database.path", str(exc)) from None
        self.retention = Retention(self.store, settings.database.retention_days)
        policy = AccessPolicy.build(settings.xmpp.allowed_domains, settings.xmpp.admins)
        for component in settings.components:
            xmpp = GatewayComponent(
                component.jid,
                component.secret,
                settings.xmpp.host,
                settings.xmpp.port,
                reconnect_max_delay=settings.xmpp.reconnect_max_delay,
                keepalive_interval=settings.xmpp.keepalive_interval,
                ping_timeout=settings.xmpp.ping_timeout,
            )
            runtime = ComponentRuntime(
                xmpp, component.backend, component.backend_settings, self.store, policy
            )
            self.runtimes.append(runtime)
        for runtime in self.runtimes:
            await runtime.start()
        self.retention.start()
        log.info("Started %d component(s): %s", len(self.runtimes),
                 ", ".join(c.jid for c in settings.components))

    async def stop(self) -> None:
        if self.retention is not None:
            await self.retention.stop()
        await asyncio.gather(*(r.stop() for r in self.runtimes), return_exceptions=True)
        if self.store is None:
            return  # nothing was started: the cause is reported by whoever called start()
        await self.store.close()
        self.store = None
        log.info("Stopped")


async def serve(settings: Settings, stop: asyncio.Event | None = None, *,
                freeze_startup_objects: bool = False) -> None:
    """Run until ``stop`` is set or SIGTERM/SIGINT arrives.

    ``freeze_startup_objects`` (the ``run`` command; not for a process that starts and stops
    gateways over and over, like the tests): once started, move what exists then (modules,
    classes, functions, the components: about 90 % of the heap's objects, and never garbage)
    out of the collector's sight. Each full collection otherwise walked them all and
    stalled the loop for 15-40 ms, several times a minute under load.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = Application(settings)
    try:
        await app.start()
        if freeze_startup_objects:
            gc.collect()
            gc.freeze()
        await stop.wait()
        log.info("Shutting down")
    finally:
        await app.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def run(settings: Settings) -> int:
    """The ``run`` command: serve until a signal, exit 0 after a clean shutdown."""
    asyncio.run(serve(settings, freeze_startup_objects=True))
    return 0
