"""Logging in with an OpenID Connect provider (Telegram's): discovery, JWKS, the code
exchange and the ID token's checks."""

from adapters.outbound.oidc.id_token import IdTokenClaims, IdTokenVerifier
from adapters.outbound.oidc.provider import TELEGRAM_ISSUER, Discovery, OpenIdConnectProvider

__all__ = [
    "TELEGRAM_ISSUER",
    "Discovery",
    "IdTokenClaims",
    "IdTokenVerifier",
    "OpenIdConnectProvider",
]
