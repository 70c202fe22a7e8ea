"""The dashboard's sign-in page (``/dashboard/signin``) and "Log in with Telegram":
the OpenID Connect authorization code flow with PKCE (S256) against Telegram's
provider, beside the bot's ``/dashboard`` button.

``/dashboard/oidc/start`` makes a random state, nonce and PKCE verifier, keeps them
in a short-lived cookie bound to this browser (HttpOnly, SameSite=Lax, ``__Host-``
over HTTPS) and MAC-tagged with the deployment's MAC keys, and sends the browser to
the provider with the state, the nonce and the verifier's S256 hash. The callback
(``/dashboard/oidc/callback``) takes the cookie back (deleting it), requires the
state to match it and to be seen for the first time (the nonce store, so a callback
replayed in time is refused), and has the provider exchange the code with the
verifier; the provider's ID token must carry the nonce. Then the person is logged in
exactly as with the bot's link (:meth:`Dashboard.start_session`). Anything refused
is a 403 page; nothing is logged in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets

import attrs
from aiohttp import web

from adapters.catalog.language import _
from adapters.catalog.refusals import refusal
from adapters.inbound.http.dashboard.pages import SIGNIN_PATH, SIGNIN_ROUTE, Dashboard
from adapters.inbound.http.routes import Route
from core.domain.errors import NotAuthorized, Why
from core.domain.ids import UserId
from core.domain.signing import MacKeyring
from core.ports.clock import Clock
from core.ports.security import NonceStore
from core.ports.web_login import (
    AuthorizationRequest,
    CodeExchange,
    WebLoginProvider,
    WebLoginRefused,
)

__all__ = ["CALLBACK_PATH", "START_PATH", "SignIn", "SignInSettings", "flow_cookie_name"]

logger = logging.getLogger(__name__)

START_PATH = "/dashboard/oidc/start"
CALLBACK_PATH = "/dashboard/oidc/callback"
FLOW_SECONDS = 600
"""A login started must come back within ten minutes."""
FLOW_PURPOSE = "dashboard-oidc-flow"
STATE_SCOPE = "dashboard-oidc-state"


def flow_cookie_name(secure: bool) -> str:
    return "__Host-paygate-oidc" if secure else "paygate-oidc"


def _random() -> str:
    return secrets.token_urlsafe(32)  # 43 characters: a valid PKCE verifier too


def code_challenge(verifier: str) -> str:
    """RFC 7636's S256: the verifier's SHA-256, base64url without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@attrs.frozen
class SignInSettings:
    public_url: str
    """Our own address, as the browser reaches it: the callback is under it."""
    secure_cookie: bool = True
    bot_username: str | None = None
    """Named on the page beside /dashboard ("send /dashboard to @bot")."""

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + CALLBACK_PATH


@attrs.frozen
class _Flow:
    state: str
    nonce: str
    verifier: str
    expires: int

    def message(self) -> str:
        return f"{self.state}.{self.nonce}.{self.verifier}.{self.expires}"


class _Refused(NotAuthorized):
    """The callback does not belong to a login this browser started."""


def _refused(detail: str) -> _Refused:
    return _Refused(Why.WEB_LOGIN, detail=detail)


@attrs.define(eq=False)
class SignIn:
    """A dashboard :class:`~adapters.inbound.http.dashboard.pages.Section`. Without a
    ``provider`` (no OpenID Connect client configured) the page offers only the bot."""

    _provider: WebLoginProvider | None
    _keyring: MacKeyring
    _nonces: NonceStore
    _clock: Clock
    _settings: SignInSettings

    @property
    def _cookie(self) -> str:
        return flow_cookie_name(self._settings.secure_cookie)

    def routes(self, site: Dashboard) -> list[Route]:
        async def signin(request: web.Request) -> web.StreamResponse:
            try:
                await site.signed_in(request)
            except NotAuthorized:
                pass  # logged out (or no longer admitted): the page
            else:
                raise web.HTTPSeeOther("/dashboard")
            return site.render(
                request,
                "signin.html",
                {"oidc": self._provider is not None, "bot": self._settings.bot_username},
            )

        async def start(request: web.Request) -> web.StreamResponse:
            return await self._start(request)

        async def callback(request: web.Request) -> web.StreamResponse:
            try:
                user_id = await self._finish(request)
            except NotAuthorized as exc:
                logger.info("dashboard web login refused: %s", exc)
                response = site.message(request, 403, _("Login refused"), self._why(exc))
                response.del_cookie(self._cookie, path="/")
                return response
            response = await site.start_session(request, user_id)
            response.del_cookie(self._cookie, path="/")
            raise response

        routes = [Route("GET", SIGNIN_PATH, site.page(signin), SIGNIN_ROUTE)]
        if self._provider is not None:
            routes += [
                Route("GET", START_PATH, site.page(start), "dashboard.oidc.start"),
                Route("GET", CALLBACK_PATH, site.page(callback), "dashboard.oidc.callback"),
            ]
        return routes

    async def _start(self, request: web.Request) -> web.StreamResponse:
        assert self._provider is not None
        expires = int(self._clock.now().timestamp()) + FLOW_SECONDS
        flow = _Flow(_random(), _random(), _random(), expires)
        url = await self._provider.authorization_url(
            AuthorizationRequest(
                flow.state, flow.nonce, code_challenge(flow.verifier), self._settings.redirect_uri
            )
        )
        response = web.HTTPSeeOther(url)
        response.set_cookie(
            self._cookie,
            f"{flow.message()}.{self._keyring.sign(FLOW_PURPOSE, flow.message())}",
            path="/",
            max_age=FLOW_SECONDS,
            secure=self._settings.secure_cookie,
            httponly=True,
            samesite="Lax",
        )
        raise response

    async def _finish(self, request: web.Request) -> UserId:
        assert self._provider is not None
        flow = self._flow(request.cookies.get(self._cookie, ""))
        state = request.query.get("state", "")
        if not hmac.compare_digest(state.encode(), flow.state.encode()):
            raise _refused("state_mismatch")
        if not await self._nonces.remember(STATE_SCOPE, flow.state, FLOW_SECONDS + 60):
            raise _refused("state_used")
        error = request.query.get("error")
        if error is not None:
            raise _Declined(Why.WEB_LOGIN, detail=f"provider_error={error[:64]!r}")
        code = request.query.get("code", "")
        if not code:
            raise _refused("no_code")
        exchange = CodeExchange(code, flow.verifier, self._settings.redirect_uri, flow.nonce)
        return await self._provider.identify(exchange)

    def _flow(self, cookie: str) -> _Flow:
        parts = cookie.split(".")
        if len(parts) != 5 or not parts[3].isdecimal():
            raise _refused("no_flow_cookie")
        flow = _Flow(parts[0], parts[1], parts[2], int(parts[3]))
        if not self._keyring.verify(FLOW_PURPOSE, flow.message(), parts[4]):
            raise _refused("no_flow_cookie")
        if flow.expires < self._clock.now().timestamp():
            raise _refused("flow_expired")
        return flow

    @staticmethod
    def _why(exc: NotAuthorized) -> str:
        if isinstance(exc, _Declined):
            return _("The login was declined in Telegram.")
        if isinstance(exc, _Refused):
            return _(
                "This login was not started here, was already used or took too long. "
                "Start again from the sign-in page."
            )
        if isinstance(exc, WebLoginRefused):
            return _("Telegram did not confirm who you are. Start again from the sign-in page.")
        return refusal(exc)  # the core's refusal, as the bot's link shows it


class _Declined(_Refused):
    """The person refused the login at the provider."""
