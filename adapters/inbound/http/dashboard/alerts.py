"""The dashboard's Alerts section: the recent alerts of the viewer's channels (an
operator's: every alert), newest first."""

from __future__ import annotations

import attrs
from aiohttp import web

from adapters.inbound.http.dashboard.pages import Dashboard
from adapters.inbound.http.routes import Route
from core.services.dashboard_alerts import DashboardAlerts

__all__ = ["AlertsSection"]


@attrs.define(eq=False)
class AlertsSection:
    _alerts: DashboardAlerts

    def routes(self, site: Dashboard) -> list[Route]:
        async def alerts(request: web.Request) -> web.StreamResponse:
            session, viewer = await site.signed_in(request)
            recent = await self._alerts.recent(viewer)
            context = {"viewer": viewer, "session": session, "alerts": recent}
            return site.render(request, "alerts.html", context)

        return [Route("GET", "/dashboard/alerts", site.page(alerts), "dashboard.alerts")]
