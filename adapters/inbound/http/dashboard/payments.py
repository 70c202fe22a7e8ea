"""The dashboard's Payments section: find a payment by our order id, the provider's
payment id or the invoice id; a payment's page with its status history and what it
bought; and the grant by hand of money that arrived after the payment was closed
(:class:`~core.services.dashboard_payments.DashboardPayments`)."""

from __future__ import annotations

import attrs
from aiohttp import web

from adapters.inbound.http.dashboard.pages import Dashboard
from adapters.inbound.http.routes import Route
from core.domain.errors import Why
from core.domain.ids import IntentId
from core.services.dashboard_payments import DashboardPayments, UnknownPayment

__all__ = ["PaymentsSection"]

NOTICES = ("granted", "already-granted")
MAX_ID = 64


@attrs.define(eq=False)
class PaymentsSection:
    _payments: DashboardPayments

    def routes(self, site: Dashboard) -> list[Route]:
        async def search(request: web.Request) -> web.StreamResponse:
            session, viewer = await site.signed_in(request)
            query = request.query.get("q", "")
            found = await self._payments.search(viewer, query)
            context = {"viewer": viewer, "session": session, "query": query, "found": found}
            return site.render(request, "payments.html", context)

        async def payment(request: web.Request) -> web.StreamResponse:
            session, viewer = await site.signed_in(request)
            view = await self._payments.payment(viewer, _intent_id(request))
            notice = request.query.get("notice", "")
            context = {
                "viewer": viewer,
                "session": session,
                "view": view,
                "notice": notice if notice in NOTICES else "",
            }
            return site.render(request, "payment.html", context)

        async def grant(request: web.Request) -> web.StreamResponse:
            _session, viewer, form = await site.checked_form(request)
            intent_id = _intent_id(request)
            granted = await self._payments.grant_by_hand(viewer, intent_id, form.get("reason", ""))
            notice = "granted" if granted else "already-granted"
            raise web.HTTPSeeOther(f"/dashboard/payments/{intent_id}?notice={notice}")

        return [
            Route("GET", "/dashboard/payments", site.page(search), "dashboard.payments"),
            Route(
                "GET",
                "/dashboard/payments/{intent_id}",
                site.page(payment),
                "dashboard.payment",
            ),
            Route(
                "POST",
                "/dashboard/payments/{intent_id}/grant",
                site.page(grant),
                "dashboard.payment_grant",
            ),
        ]


def _intent_id(request: web.Request) -> IntentId:
    """An id as stored (any short text: it is only ever compared); a longer one names
    no payment."""
    text = request.match_info["intent_id"]
    if not 0 < len(text) <= MAX_ID:
        raise UnknownPayment(Why.NO_SUCH_PAYMENT)
    return IntentId(text)
