"""The dashboard's API tokens page (``/dashboard/tokens``): make a token with a name
and a scope (shown once, on the page that answers the form), see your tokens (name,
scope, made, last used, first characters) and revoke one with a reason.

Every POST carries the session's CSRF token (:meth:`Dashboard.checked_form`); making
and revoking are audited by the core (:class:`~core.services.api_tokens.ApiTokens`).
While the API is off (``PAYGATE_API=off``) the page says so and makes no tokens.
"""

from __future__ import annotations

import attrs
from aiohttp import web

from adapters.catalog.language import _
from adapters.catalog.refusals import Worded
from adapters.inbound.http.dashboard.pages import Dashboard
from adapters.inbound.http.routes import Route
from core.ports.api_tokens import ApiScope
from core.services.api_tokens import MAX_NAME, ApiTokens, CreatedToken

__all__ = ["TokensSection"]

PATH = "/dashboard/tokens"


@attrs.define(eq=False)
class TokensSection:
    _tokens: ApiTokens
    _api_on: bool = True
    _site: Dashboard | None = None

    def routes(self, site: Dashboard) -> list[Route]:
        self._site = site
        return [
            Route("GET", PATH, site.page(self.show), "dashboard.tokens"),
            Route("POST", PATH, site.page(self.create), "dashboard.tokens.create"),
            Route(
                "POST",
                PATH + "/{token_id}/revoke",
                site.page(self.revoke),
                "dashboard.tokens.revoke",
            ),
        ]

    @property
    def site(self) -> Dashboard:
        assert self._site is not None  # set by routes()
        return self._site

    async def _page(
        self, request: web.Request, created: CreatedToken | None = None, notice: str = ""
    ) -> web.Response:
        session, viewer = await self.site.signed_in(request)
        response = self.site.render(
            request,
            "tokens.html",
            {
                "viewer": viewer,
                "session": session,
                "tokens": await self._tokens.tokens(viewer),
                "created": created,
                "notice": notice,
                "api_on": self._api_on,
                "scopes": [scope.value for scope in ApiScope],
                "max_name": MAX_NAME,
            },
        )
        # The page may show a token once: no cache keeps it.
        response.headers["Cache-Control"] = "no-store"
        return response

    async def show(self, request: web.Request) -> web.StreamResponse:
        notice = _("Token revoked.") if request.query.get("notice") == "revoked" else ""
        return await self._page(request, notice=notice)

    async def create(self, request: web.Request) -> web.StreamResponse:
        _session, viewer, form = await self.site.checked_form(request)
        if not self._api_on:
            raise Worded(_("The API is off on this PayGate: no tokens are made."))
        created = await self._tokens.create(viewer, form.get("name", ""), form.get("scope", ""))
        return await self._page(request, created=created)

    async def revoke(self, request: web.Request) -> web.StreamResponse:
        _session, viewer, form = await self.site.checked_form(request)
        await self._tokens.revoke(viewer, request.match_info["token_id"], form.get("reason", ""))
        raise web.HTTPSeeOther(f"{PATH}?notice=revoked")
