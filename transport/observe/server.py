"""The ``[metrics]`` HTTP listener: ``/metrics``, ``/healthz`` and ``/status``.

It binds where the admin said (loopback by default): the figures are not secret, but nothing
here is meant for the public internet. ``/healthz`` answers 200 or 503 with a JSON body, so a
load balancer in front of the webhooks can use it as is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from transport.core.errors import StartupError
from transport.observe import status_page
from transport.observe.health import HealthCheck
from transport.observe.metrics import GatewayMetrics

log = logging.getLogger(__name__)


class OpsServer:
    """Serves the gateway's metrics, health and status page on one address."""

    def __init__(self, host: str, port: int, metrics: GatewayMetrics, health: HealthCheck,
                 backends: Sequence[tuple[str, str]]) -> None:
        self.host = host
        self.port = port
        self.metrics = metrics
        self.health = health
        self.backends = backends
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/status", self._status)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                    shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise StartupError("metrics.listen_port",
                               f"cannot listen on {self.host}:{self.port}: {exc.strerror}") \
                from exc
        self.port = int(self._runner.addresses[0][1])
        log.info("Metrics, health and status on %s", self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        await self.metrics.refresh()
        response = web.Response(body=self.metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def _healthz(self, _request: web.Request) -> web.Response:
        problems = self.health.problems()
        body = {"status": "ok"} if not problems else {
            "status": "unhealthy",
            "reasons": [{"component": p.component, "problem": p.problem} for p in problems],
        }
        return web.Response(status=503 if problems else 200, text=json.dumps(body),
                            content_type="application/json")

    async def _status(self, _request: web.Request) -> web.Response:
        await self.metrics.refresh()
        page = status_page.render(self.metrics, self.backends, self.health.problems())
        return web.Response(text=page, content_type="text/html")
