"""Optional per-route CIDR allowlists (e.g. the senders' published ranges).

A route names its list in its policy; the check is on only when that list is
configured, so a deployment behind a proxy that rewrites addresses, or one that
cannot keep the lists current, simply leaves them out. The published ranges below
are what the providers document (see PROVIDERS.md); composition decides whether to
use them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from adapters.inbound.http.client_ip import (
    IPNetwork,
    client_ip_of,
    contains,
    parse_address,
    parse_networks,
)
from adapters.inbound.http.errors import error_answer
from adapters.inbound.http.routes import RouteTable

__all__ = ["NOWPAYMENTS_SENDERS", "TELEGRAM_SENDERS", "allowlist_middleware"]

logger = logging.getLogger(__name__)

TELEGRAM_SENDERS: tuple[IPNetwork, ...] = parse_networks("149.154.160.0/20 91.108.4.0/22")
NOWPAYMENTS_SENDERS: tuple[IPNetwork, ...] = parse_networks(
    "51.89.194.21 51.75.77.69 138.201.172.58 65.21.158.36"
)


def allowlist_middleware(
    table: RouteTable, allowlists: Mapping[str, tuple[IPNetwork, ...]]
) -> Middleware:
    """403 for a client outside the list its route names (when that list is set)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        name = table.policy(request).allowlist
        networks = allowlists.get(name) if name is not None else None
        if networks is not None:
            client = client_ip_of(request)
            address = parse_address(client)
            if address is None or not contains(networks, address):
                logger.warning(
                    "refused %s %s from %s: not in the %s allowlist",
                    request.method,
                    request.path,
                    client,
                    name,
                )
                return error_answer(request, 403, "forbidden")
        return await handler(request)

    return middleware
