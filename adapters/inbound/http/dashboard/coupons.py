"""The dashboard's list of an owner's coupons (``/dashboard/coupons``, issue 21):
read-only, the viewer's own codes only (nothing in the URL names a code or an
owner, so there is nobody else's to ask for); codes are made and switched off in
the bot."""

from __future__ import annotations

import attrs
from aiohttp import web

from adapters.inbound.http.dashboard.pages import Dashboard
from adapters.inbound.http.routes import Route
from core.services.coupons import OwnerCoupons
from core.services.dashboard import OwnerDashboard

COUPONS_PATH = "/dashboard/coupons"


@attrs.define(eq=False)
class CouponsSection:
    """A :class:`~adapters.inbound.http.dashboard.pages.Section`."""

    _coupons: OwnerCoupons
    _dashboard: OwnerDashboard

    def routes(self, site: Dashboard) -> list[Route]:
        async def coupons(request: web.Request) -> web.StreamResponse:
            session, viewer = await site.signed_in(request)
            mine = await self._coupons.list(viewer.user_id)
            titles = {c.id: c.title for c in await self._dashboard.channels(viewer)}
            return site.render(
                request,
                "coupons.html",
                {"viewer": viewer, "session": session, "coupons": mine, "titles": titles},
            )

        return [Route("GET", COUPONS_PATH, site.page(coupons), "dashboard.coupons")]
