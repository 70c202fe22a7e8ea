"""Security headers on every response, by environment.

Production: a strict Content-Security-Policy whose scripts and styles must carry the
response's nonce (fresh per response, never ``unsafe-inline``), HSTS, and framing
refused. Development: the same headers with a relaxed CSP (inline allowed, for
hand-written pages while building) and no HSTS (a browser would remember it for
``localhost``). Handlers that render HTML read the nonce with :func:`csp_nonce`.

The ``Server`` header is removed from every response the application prepares, so
no framework or version is announced. Requests aiohttp cannot even parse (a bad
method, an oversized header) are answered by its protocol layer before any
middleware or signal runs; for those, :func:`hide_server_software` replaces the
library's default ``Server`` value, which names Python's and aiohttp's versions.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from aiohttp import web, web_response
from aiohttp.typedefs import Handler, Middleware

__all__ = [
    "CSP_NONCE",
    "STRICT_CSP",
    "Environment",
    "csp_nonce",
    "hide_server_software",
    "security_headers",
    "security_headers_middleware",
    "strip_server_header",
]

CSP_NONCE = web.RequestKey("paygate.csp_nonce", str)
STRICT_CSP = web.RequestKey("paygate.strict_csp", bool)
"""Set by pages that must hold the production policy in every environment (the
owners' dashboard): what a developer sees is what production enforces."""

HSTS_MAX_AGE = 63_072_000  # two years, as the HSTS preload list asks


class Environment(StrEnum):
    PRODUCTION = "production"
    DEVELOPMENT = "development"


def csp_nonce(request: web.Request) -> str:
    """This response's CSP nonce (made on first use; the middleware makes one early)."""
    nonce: str | None = request.get(CSP_NONCE)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        request[CSP_NONCE] = nonce
    return nonce


def _csp(environment: Environment, nonce: str) -> str:
    if environment is Environment.PRODUCTION:
        directives = [
            "default-src 'none'",
            f"script-src 'nonce-{nonce}' 'strict-dynamic'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    else:
        directives = [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    return "; ".join(directives)


_STATIC = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
_HSTS = {"Strict-Transport-Security": f"max-age={HSTS_MAX_AGE}; includeSubDomains"}
_NONCE_MARK = "\x00nonce\x00"
# The policy is written once per environment and only the nonce filled in per response.
_CSP_PARTS = {env: _csp(env, _NONCE_MARK).split(_NONCE_MARK) for env in Environment}


def security_headers(environment: Environment, nonce: str) -> dict[str, str]:
    headers = {"Content-Security-Policy": nonce.join(_CSP_PARTS[environment]), **_STATIC}
    if environment is Environment.PRODUCTION:
        headers |= _HSTS
    return headers


def security_headers_middleware(environment: Environment) -> Middleware:
    """Outermost middleware: whatever the inner ones answer gets the headers."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonce = csp_nonce(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            # Only non-error HTTPExceptions (redirects) get past the error middleware.
            exc.headers.update(security_headers(environment, nonce))
            raise
        headers = security_headers(environment, nonce)
        if request.get(STRICT_CSP):
            strict = security_headers(Environment.PRODUCTION, nonce)
            headers["Content-Security-Policy"] = strict["Content-Security-Policy"]
        response.headers.update(headers)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return middleware


async def strip_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """An ``on_response_prepare`` hook: it runs after aiohttp set its default headers."""
    response.headers.popall("Server", None)


SERVER_NAME = "paygate"


def hide_server_software() -> None:
    """Process-wide: the ``Server`` value aiohttp falls back to says ``paygate`` and
    no versions. aiohttp reads this module attribute on every response it prepares."""
    # Imported there from aiohttp.http, not re-exported: typing does not know it.
    web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined]
