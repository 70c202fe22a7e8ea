"""Liveness and readiness.

``/healthz`` answers while the process serves requests at all. ``/readyz`` says what a
load balancer needs to know: whether this process can take its traffic. It runs every
configured probe concurrently, each under a timeout, and names the ones that failed,
never their error text (the details go to the log):

* a *required* dependency that fails (the database, its schema) makes it 503
  ``not ready``;
* a *degradable* one (Redis: webhooks fall back to per-process rate limits) only makes
  it ``degraded``, still 200, listed under ``degraded``.

Each probe's result is also the gauge ``paygate_dependency_up{name}`` (1 or 0, as of
the latest ``/readyz``), so a degraded dependency shows in metrics and alerts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from adapters.inbound.http.metrics import HttpMetrics
from core.ports.repositories import UnitOfWorkFactory

__all__ = ["Health", "Probe", "unit_of_work_probe"]

logger = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[None]]
"""Returns when the dependency answers; raises otherwise."""


def unit_of_work_probe(factory: UnitOfWorkFactory) -> Probe:
    """The store answers: a unit of work can begin (and is rolled back at once)."""

    async def probe() -> None:
        async with factory():
            pass

    return probe


class Health:
    def __init__(
        self,
        probes: Mapping[str, Probe],
        timeout: float,
        degradable: Mapping[str, Probe] | None = None,
        metrics: HttpMetrics | None = None,
    ) -> None:
        self._degradable = dict(degradable or {})
        self._probes = {**probes, **self._degradable}
        self._timeout = timeout
        self._metrics = metrics

    async def live(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(self, request: web.Request) -> web.Response:
        names = list(self._probes)
        results = await asyncio.gather(*(self._check(name) for name in names))
        checks = dict(zip(names, results, strict=True))
        failed = [name for name, result in checks.items() if result != "ok"]
        degraded = [name for name in failed if name in self._degradable]
        if self._metrics is not None:
            for name, result in checks.items():
                self._metrics.dependency_up.labels(name).set(1 if result == "ok" else 0)
        ready = len(degraded) == len(failed)
        status = "not ready" if not ready else ("degraded" if degraded else "ready")
        body: dict[str, object] = {"status": status, "checks": checks}
        if degraded:
            body["degraded"] = degraded
        return web.json_response(body, status=200 if ready else 503)

    async def _check(self, name: str) -> str:
        try:
            async with asyncio.timeout(self._timeout):
                await self._probes[name]()
        except TimeoutError:
            logger.warning("readiness: %s did not answer within %g s", name, self._timeout)
            return "timeout"
        except Exception as exc:
            logger.warning("readiness: %s is unavailable: %s: %s", name, type(exc).__name__, exc)
            return "unavailable"
        return "ok"
