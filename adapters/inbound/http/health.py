"""Liveness and readiness.

``/healthz`` answers while the process serves requests at all. ``/readyz`` runs every
configured probe (the database; Redis when configured) concurrently, each under a
timeout, and answers 503 naming the ones that failed, never their error text: the
details go to the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

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
    def __init__(self, probes: Mapping[str, Probe], timeout: float) -> None:
        self._probes = dict(probes)
        self._timeout = timeout

    async def live(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(self, request: web.Request) -> web.Response:
        names = list(self._probes)
        results = await asyncio.gather(*(self._check(name) for name in names))
        checks = dict(zip(names, results, strict=True))
        ready = all(result == "ok" for result in results)
        return web.json_response(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status=200 if ready else 503,
        )

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
