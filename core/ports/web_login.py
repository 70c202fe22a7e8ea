"""Logging in on the web through an OpenID Connect provider (Telegram's, by default):
the authorization code flow with PKCE, as the dashboard's sign-in page starts it and
its callback finishes it.

The provider proves who the person is; whether they may see the dashboard is still
the dashboard's rule (``OwnerDashboard.admit``)."""

from __future__ import annotations

from typing import Protocol

import attrs

from core.domain.errors import NotAuthorized, Why
from core.domain.ids import UserId


class WebLoginRefused(NotAuthorized):
    """The provider refused the code, or its ID token failed a check (signature,
    issuer, audience, expiry, nonce, the user's id): nobody is logged in."""


def login_refused(detail: str) -> WebLoginRefused:
    """The refusal, with ``detail`` for the logs (people read that the login failed)."""
    return WebLoginRefused(Why.WEB_LOGIN, detail=detail)


@attrs.frozen
class AuthorizationRequest:
    """What a login sends the browser to the provider with. ``state`` and ``nonce``
    are random and single use; ``code_challenge`` is the S256 hash of the verifier
    kept on our side."""

    state: str
    nonce: str
    code_challenge: str
    redirect_uri: str


@attrs.frozen
class CodeExchange:
    """What the callback hands back: the provider's one-time ``code`` with the PKCE
    verifier and nonce of the login it belongs to."""

    code: str
    code_verifier: str
    redirect_uri: str
    nonce: str


class WebLoginProvider(Protocol):
    async def authorization_url(self, request: AuthorizationRequest) -> str:
        """Where to send the browser. Raises Unavailable when the provider's
        discovery document cannot be read."""
        ...

    async def identify(self, exchange: CodeExchange) -> UserId:
        """The Telegram user the provider vouches for. Raises WebLoginRefused, or
        Unavailable when the provider cannot be reached."""
        ...
