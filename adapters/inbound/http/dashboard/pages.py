"""The owners' dashboard under ``/dashboard``: login from the bot's link, server-side
sessions in a cookie, and server-rendered pages with plain HTML forms.

Every page carries the production CSP (its one ``<style>`` has the response's nonce;
there is no script). Every POST carries the session's CSRF token, compared in
constant time; without it the answer is 403 and nothing changes. Failures become
HTML pages here, in one place: an unknown (or someone else's) channel is 404, a
refused login or change 403, bad input 400, an unavailable dependency 503.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import aiohttp_jinja2
import attrs
import jinja2
from aiohttp import web

from adapters.catalog.language import _, current, n_, negotiate, speaking
from adapters.catalog.refusals import Worded, pause_reason, refusal
from adapters.catalog.words import money, number, tier_term, trial_setting, when
from adapters.inbound.http.dashboard.overview import charts
from adapters.inbound.http.dashboard.telegram_login import MAX_AGE_SECONDS, verify_login
from adapters.inbound.http.routes import Route
from adapters.inbound.http.security_headers import STRICT_CSP, csp_nonce
from core.domain.errors import DomainError, NotAuthorized
from core.domain.ids import ChannelId, ChatId, UserId
from core.ports.clock import Clock
from core.ports.dashboard import DashboardSession
from core.ports.errors import Unavailable
from core.ports.languages import LanguageBook
from core.ports.security import NonceStore
from core.services.dashboard import OwnerDashboard, Viewer
from core.services.dashboard_sessions import DashboardSessions
from core.services.overview import page_number, window_days

__all__ = [
    "LOGIN_PATH",
    "SIGNIN_PATH",
    "SIGNIN_ROUTE",
    "Dashboard",
    "DashboardSettings",
    "Section",
    "cookie_name",
]

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
LOGIN_SCOPE = "dashboard-login"
LOGIN_PATH = "/dashboard/login"
"""Where the bot's login button points; Telegram appends the signed identity."""
SIGNIN_PATH = "/dashboard/signin"
SIGNIN_ROUTE = "dashboard.signin"
"""The sign-in page's path and route name, when a section serves one."""


def cookie_name(secure: bool) -> str:
    """``__Host-paygate`` over HTTPS (browsers take a ``__Host-`` cookie only when it is
    Secure, host-only and for ``/``); plain ``paygate`` in development over http."""
    return "__Host-paygate" if secure else "paygate"


@attrs.frozen
class DashboardSettings:
    bot_tokens: tuple[str, ...]
    """The bot token that signs login links (and the previous one during a rotation)."""
    secure_cookie: bool = True


Page = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Section(Protocol):
    """A part of the dashboard in a module of its own (subscribers, payments, exports,
    ...): its routes, built on the site's plumbing (:meth:`Dashboard.page` for the
    error pages and the CSP, :meth:`Dashboard.signed_in`, :meth:`Dashboard.checked_form`
    for the CSRF check, :meth:`Dashboard.render`)."""

    def routes(self, site: Dashboard) -> list[Route]: ...


@attrs.define(eq=False)
class Dashboard:
    _dashboard: OwnerDashboard
    _sessions: DashboardSessions
    _nonces: NonceStore
    _clock: Clock
    _settings: DashboardSettings
    _sections: tuple[Section, ...] = ()
    _languages: LanguageBook | None = None
    """Where an owner's ``/language`` choice is kept: the pages speak it when they
    have one (before the browser's ``Accept-Language``)."""

    @property
    def _cookie(self) -> str:
        return cookie_name(self._settings.secure_cookie)

    def install(self, app: web.Application) -> None:
        aiohttp_jinja2.setup(
            app,
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=jinja2.select_autoescape(default=True),
            extensions=["jinja2.ext.i18n"],
        )
        environment = aiohttp_jinja2.get_env(app)
        environment.install_gettext_callables(  # type: ignore[attr-defined]
            gettext=_, ngettext=n_, newstyle=True
        )
        # Moments, amounts and prices as the reader's language writes them (Babel).
        environment.filters["when"] = when
        environment.filters["money"] = money
        environment.filters["number"] = lambda amount: number(Decimal(amount))
        environment.filters["pause_reason"] = lambda stored: pause_reason(stored or "")
        # Counted texts as in the code (``n_``), so the extraction finds them alike.
        environment.globals["n_"] = environment.globals["ngettext"]

    def routes(self) -> list[Route]:
        own = [
            Route("GET", LOGIN_PATH, self.page(self.login), "dashboard.login"),
            Route("GET", "/dashboard", self.page(self.overview), "dashboard.overview"),
            Route("GET", "/dashboard/channels", self.page(self.channels), "dashboard.channels"),
            Route(
                "POST",
                "/dashboard/channels/{channel_id}/{action:pause|resume}",
                self.page(self.change_sales),
                "dashboard.sales",
            ),
            Route("POST", "/dashboard/logout", self.page(self.logout), "dashboard.logout"),
        ]
        return own + [route for section in self._sections for route in section.routes(self)]

    # ---------------------------------------------------------------- plumbing

    def render(
        self, request: web.Request, template: str, context: dict[str, object], status: int = 200
    ) -> web.Response:
        """``template`` with ``context``, the response's CSP nonce and its language."""
        context = {"nonce": csp_nonce(request), "language": current(), **context}
        return aiohttp_jinja2.render_template(template, request, context, status=status)

    def page(self, handler: Page) -> Page:
        """``handler`` under the strict CSP, in the signed-in owner's chosen language or
        else the browser's, with the domain's failures as HTML pages."""

        async def page(request: web.Request) -> web.StreamResponse:
            request[STRICT_CSP] = True
            with speaking(await self._language(request)):
                return await self._answer(handler, request)

        return page

    async def _language(self, request: web.Request) -> str:
        """The language an owner chose in the bot (``/language``), when the request is
        signed in and they chose one; else the browser's ``Accept-Language``."""
        browser = _browser_language(request)
        token = request.cookies.get(self._cookie, "")
        if self._languages is None or not token:
            return browser
        try:
            session = await self._sessions.resume(token)
            stored = None if session is None else await self._languages.get(ChatId(session.user_id))
        except Unavailable:
            return browser  # the page itself says so if it needs the store
        if stored is None or not stored.chosen:
            return browser
        return negotiate(stored.language, browser)

    async def _answer(self, handler: Page, request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotAuthorized as exc:
            return self.message(request, 403, _("Not for you"), refusal(exc))
        except DomainError as exc:
            status = 404 if type(exc).__name__.startswith("Unknown") else 400
            title = _("Not found") if status == 404 else _("Cannot do that")
            return self.message(request, status, title, refusal(exc))
        except Unavailable:
            logger.warning("dashboard %s: a dependency is unavailable", request.path)
            return self.message(
                request, 503, _("Try again soon"), _("A service we depend on is unavailable.")
            )

    def message(self, request: web.Request, status: int, title: str, text: str) -> web.Response:
        return self.render(request, "message.html", {"title": title, "text": text}, status)

    async def _session(self, request: web.Request) -> tuple[DashboardSession, Viewer] | None:
        session = await self._sessions.resume(request.cookies.get(self._cookie, ""))
        if session is None:
            return None
        return session, await self._dashboard.admit(session.user_id)

    async def signed_in(self, request: web.Request) -> tuple[DashboardSession, Viewer]:
        found = await self._session(request)
        if found is None:
            raise _LoggedOut()
        return found

    async def checked_form(
        self, request: web.Request
    ) -> tuple[DashboardSession, Viewer, dict[str, str]]:
        session, viewer = await self.signed_in(request)
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if not hmac.compare_digest(form.get("csrf", ""), session.csrf):
            raise _Refused(_("This form has expired; reload the page and try again."))
        return session, viewer, form

    # ---------------------------------------------------------------- pages

    async def login(self, request: web.Request) -> web.StreamResponse:
        identity = verify_login(request.query, self._settings.bot_tokens, self._clock.now())
        if not await self._nonces.remember(LOGIN_SCOPE, identity.hash, MAX_AGE_SECONDS + 120):
            raise _Refused(_("This login link was used already; open /dashboard in the bot."))
        raise await self.start_session(request, identity.user_id)

    async def start_session(self, request: web.Request, user_id: UserId) -> web.HTTPSeeOther:
        """Log ``user_id`` in, however they proved who they are (the bot's link, the
        OpenID Connect login): admitted by the core (NotAuthorized otherwise), a new
        session id replacing the browser's old one, and the redirect to the overview
        that sets its cookie."""
        viewer = await self._dashboard.admit(user_id)
        started = await self._sessions.start(viewer.user_id, request.cookies.get(self._cookie))
        response = web.HTTPSeeOther("/dashboard")
        response.set_cookie(
            self._cookie,
            started.token,
            path="/",
            secure=self._settings.secure_cookie,
            httponly=True,
            samesite="Lax",
        )
        return response

    async def overview(self, request: web.Request) -> web.StreamResponse:
        found = await self._session(request)
        if found is None and SIGNIN_ROUTE in request.app.router.named_resources():
            raise web.HTTPSeeOther(SIGNIN_PATH)  # logged out: the sign-in page, not a 403
        session, viewer = found or await self.signed_in(request)
        days = window_days(request.query.get("days"))
        chosen = request.query.get("channel") or None
        page = page_number(request.query.get("page"))
        figures = await self._dashboard.overview(
            viewer, days, None if chosen is None else ChannelId(chosen), page
        )
        return self.render(
            request,
            "overview.html",
            {
                "viewer": viewer,
                "session": session,
                "figures": figures,
                "charts": charts(figures),
                "chosen": chosen,
            },
        )

    async def channels(self, request: web.Request) -> web.StreamResponse:
        session, viewer = await self.signed_in(request)
        channels = await self._dashboard.channels(viewer)
        bundles = await self._dashboard.bundles(channels)
        notice = request.query.get("notice", "")
        return self.render(
            request,
            "channels.html",
            {
                "viewer": viewer,
                "session": session,
                "channels": channels,
                "bundles": bundles,
                "notice": notice,
                "now": self._clock.now(),
                "term": tier_term,
                "trial": trial_setting,
            },
        )

    async def change_sales(self, request: web.Request) -> web.StreamResponse:
        _session, viewer, form = await self.checked_form(request)
        channel_id = ChannelId(request.match_info["channel_id"])
        reason = form.get("reason", "")
        if request.match_info["action"] == "pause":
            changed = await self._dashboard.pause(viewer, channel_id, reason)
            notice = "paused" if changed else "already-paused"
        else:
            outcome = await self._dashboard.resume(viewer, channel_id, reason)
            notice = "resumed" if outcome.resumed else "not-resumed"
        raise web.HTTPSeeOther(f"/dashboard/channels?notice={notice}")

    async def logout(self, request: web.Request) -> web.StreamResponse:
        _session, viewer, form = await self.checked_form(request)
        if form.get("everywhere"):
            await self._sessions.end_everywhere(viewer.user_id)
        else:
            await self._sessions.end(request.cookies.get(self._cookie, ""))
        response = self.message(
            request, 200, _("Logged out"), _("Open /dashboard in the bot to return.")
        )
        response.del_cookie(self._cookie, path="/")
        return response


def _browser_language(request: web.Request) -> str:
    """The first language of the browser's ``Accept-Language`` the catalog speaks."""
    wanted: list[tuple[float, int, str]] = []
    for part in request.headers.get("Accept-Language", "").split(","):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            wanted.append((-quality, len(wanted), tag))
    return negotiate(*(tag for _q, _i, tag in sorted(wanted)))


class _Refused(Worded, NotAuthorized):
    """The dashboard refuses, in its reader's language."""


class _LoggedOut(_Refused):
    def __init__(self) -> None:
        super().__init__(
            _("You are not logged in: send /dashboard to the bot and open its button.")
        )
