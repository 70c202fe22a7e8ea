"""What each route is, for the middlewares that treat routes differently.

Every route is registered with a :class:`RoutePolicy`: its rate-limit class, the CIDR
allowlist that guards it (if any), whether it takes signed machine requests, and how
large a body it reads. Requests that match no route (404, 405) get the default policy,
so a scanner is rate limited like anyone else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum

import attrs
from aiohttp import web

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "Handler",
    "Route",
    "RouteClass",
    "RoutePolicy",
    "RouteTable",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DEFAULT_BODY_LIMIT = 64 * 1024


class RouteClass(StrEnum):
    """Rate-limit classes: each has buckets of its own, per client IP."""

    WEBHOOK = "webhook"
    """Signed by the sender (payment provider, Telegram): charged for failures only, and
    on a limiter outage they keep working on per-process buckets, since their
    signature still guards them."""
    MACHINE = "machine"
    """Signed machine requests (schedulers triggering jobs, partner systems)."""
    PROBE = "probe"
    """Liveness, readiness and metrics."""
    DEFAULT = "default"
    """Everything else, unknown paths included."""


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be positive")


@attrs.frozen
class RoutePolicy:
    route_class: RouteClass = RouteClass.DEFAULT
    allowlist: str | None = None
    """Name of the CIDR allowlist that guards the route; off unless that list is configured."""
    signed: bool = False
    """Only signed machine requests (key id, timestamp, nonce, HMAC) reach the handler."""
    body_limit: int = attrs.field(default=DEFAULT_BODY_LIMIT, validator=_positive)
    """Bytes of request body the route reads at most; more is answered 413."""


DEFAULT_POLICY = RoutePolicy()


@attrs.frozen
class Route:
    method: str
    path: str
    handler: Handler
    name: str
    policy: RoutePolicy = DEFAULT_POLICY


class RouteTable:
    """Registers routes on a router and tells a request's policy."""

    def __init__(self) -> None:
        self._policies: dict[web.AbstractRoute, RoutePolicy] = {}

    def add(self, router: web.UrlDispatcher, route: Route) -> None:
        registered = router.add_route(route.method, route.path, route.handler, name=route.name)
        self._policies[registered] = route.policy

    def policy(self, request: web.Request) -> RoutePolicy:
        return self._policies.get(request.match_info.route, DEFAULT_POLICY)
