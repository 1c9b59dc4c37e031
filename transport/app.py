"""Builds the store and every enabled component, runs them until a signal, stops cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import TYPE_CHECKING

from transport.config import Settings
from transport.core.errors import StartupError
from transport.core.policy import AccessPolicy
from transport.observe.components import ComponentCollector
from transport.observe.health import HealthCheck
from transport.observe.metrics import GatewayMetrics
from transport.service_status import ServiceStatus
from transport.store import DatabaseUnusable, Store
from transport.store.depths import QueueDepths
from transport.store.retention import Retention
from transport.systemd_notify import SystemdNotifier
from transport.watchdog import LoopMonitor
from transport.xmpp.component import GatewayComponent
from transport.xmpp.runtime import ComponentRuntime

if TYPE_CHECKING:
    from transport.observe.server import OpsServer

log = logging.getLogger(__name__)


class Application:
    """All components of one process, sharing one store and one event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: Store | None = None
        self.retention: Retention | None = None
        self.runtimes: list[ComponentRuntime] = []
        self.loop_monitor: LoopMonitor | None = None  # set by ``serve``
        self.metrics = GatewayMetrics()
        self.ops: OpsServer | None = None

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
        self.store.db.on_commit = self.metrics.store_commit_seconds.observe
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
                xmpp, component.backend, component.backend_settings, self.store, policy,
                self.metrics,
            )
            self.runtimes.append(runtime)
        self._watch(self.store)
        for runtime in self.runtimes:
            await runtime.start()
        self.retention.start()
        if settings.metrics is not None:
            # aiohttp is a third of the idle footprint: loaded only when it serves something.
            from transport.observe.server import OpsServer

            self.ops = OpsServer(
                settings.metrics.listen_host, settings.metrics.listen_port, self.metrics,
                self.health(), [(r.backend_name, r.gateway.component_jid) for r in self.runtimes])
            await self.ops.start()
        log.info("Started %d component(s): %s", len(self.runtimes),
                 ", ".join(c.jid for c in settings.components))

    async def status_details(self) -> str:
        """Users online and messages waiting, for systemd's ``STATUS=`` line."""
        await self.metrics.refresh()
        online = len({user for r in self.runtimes for user in r.presence.online})
        queued = int(self.metrics.value("queue_depth"))
        return f"{online} users online; {queued} messages queued"

    def health(self) -> HealthCheck:
        """Healthy while every component stream is up and the loop keeps time."""
        return HealthCheck([(r.gateway.component_jid, r.xmpp.online) for r in self.runtimes],
                           self.loop_monitor)

    def _watch(self, store: Store) -> None:
        """Figures read at each scrape: live counters, queue depths, the loop's lag."""
        self.metrics.register_collector(ComponentCollector(self.runtimes))
        depths = QueueDepths(store.db)
        metrics = self.metrics

        async def refresh() -> None:
            for runtime in self.runtimes:
                name, jid = runtime.backend_name, runtime.gateway.component_jid
                for queue, (count, age) in (("xmpp", await depths.xmpp(jid)),
                                            ("outbox", await depths.outbox(jid))):
                    metrics.queue_depth.labels(name, queue).set(count)
                    metrics.queue_oldest_seconds.labels(name, queue).set(age)
            if self.loop_monitor is not None:
                metrics.loop_lag_seconds.set(self.loop_monitor.lag)
                metrics.loop_lag_max_seconds.set(self.loop_monitor.max_lag)

        metrics.on_scrape(refresh)

    async def stop(self) -> None:
        if self.ops is not None:
            await self.ops.stop()
            self.ops = None
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

    The loop is watched all along (a stall is logged with what was running); under systemd
    ``Type=notify`` the process reports readiness, component status and, from the loop
    itself, watchdog heartbeats, so a stuck loop gets the process restarted.

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
    notifier = SystemdNotifier.from_environment()
    monitor = _loop_monitor(notifier)
    app = Application(settings)
    app.loop_monitor = monitor
    status: ServiceStatus | None = None
    reporting: asyncio.Task[None] | None = None
    try:
        monitor.start()
        await app.start()
        if notifier is not None:
            status = ServiceStatus(notifier, [(r.xmpp.boundjid.bare, r.xmpp.online)
                                              for r in app.runtimes], app.status_details)
            reporting = asyncio.ensure_future(status.run())
        if freeze_startup_objects:
            gc.collect()
            gc.freeze()
        await stop.wait()
        log.info("Shutting down")
    finally:
        if reporting is not None:
            reporting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporting
        if status is not None:
            status.stopping()
        await app.stop()
        monitor.stop()
        if notifier is not None:
            notifier.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _loop_monitor(notifier: SystemdNotifier | None) -> LoopMonitor:
    """A monitor that also sends systemd's ``WATCHDOG=1`` when the unit asked for it."""
    if notifier is None or notifier.watchdog_interval is None:
        return LoopMonitor()
    return LoopMonitor(heartbeat=lambda: notifier.notify("WATCHDOG=1"),
                       heartbeat_interval=notifier.watchdog_interval)


def run(settings: Settings) -> int:
    """The ``run`` command: serve until a signal, exit 0 after a clean shutdown."""
    asyncio.run(serve(settings, freeze_startup_objects=True))
    return 0
