"""``POST /api/v1/jobs/{name}/run``: an external scheduler (cron, Cloud Scheduler)
triggers a worker job — a sweep, a broadcast, a reconciliation — now.

Only signed machine requests reach it (key id, timestamp, nonce, HMAC; see
:mod:`adapters.inbound.http.signed_requests`), in the MACHINE rate-limit class. The
run itself is the same one the worker loops make, never two of one job at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from adapters.inbound.http.errors import json_error
from adapters.inbound.http.routes import Route, RouteClass, RoutePolicy
from adapters.inbound.http.signed_requests import SIGNED_KEY_ID

JobRunner = Callable[[str, str], Awaitable[object]]
"""Runs the job ``name`` for the caller ``key_id`` and returns a printable report."""


class JobsEndpoint:
    def __init__(self, run: JobRunner, names: Sequence[str]) -> None:
        self._run = run
        self._names = tuple(names)

    async def trigger(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._names:
            return json_error(404, f"no job named {name!r}; jobs: {', '.join(self._names)}")
        key_id = request.get(SIGNED_KEY_ID) or "?"
        report = await self._run(name, key_id)
        return web.json_response({"job": name, "status": "done", "report": str(report)})


def job_routes(endpoint: JobsEndpoint) -> list[Route]:
    return [
        Route(
            "POST",
            "/api/v1/jobs/{name}/run",
            endpoint.trigger,
            "jobs.run",
            # Signed, and (where configured) only from the private allowlist: a
            # scheduler inside the deployment, never the open internet.
            RoutePolicy(route_class=RouteClass.MACHINE, allowlist="jobs", signed=True),
        )
    ]
