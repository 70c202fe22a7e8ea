"""Telegram's OpenID Connect provider as the emulator plays it (``oauth.telegram.org``
in production): discovery at ``/.well-known/openid-configuration``, the key set at
``/.well-known/jwks.json`` (an RSA key made at start), the authorization endpoint
``/auth`` and the token endpoint ``/token``, served beside the Bot API.

The browser's Telegram user is whoever :meth:`OidcProvider.sign_in` names (the
control API: ``PUT /_emulator/oidc/user``): ``/auth`` asks nothing more of them and
sends the browser back to the client with a code, as a person tapping "Accept"
would; :attr:`OidcProvider.declines` makes them refuse instead. Clients are
registered with their secret and redirect URIs (``PUT /_emulator/oidc/clients``).

Strict as the rest of the emulator, by RFC 6749 and RFC 7636: an unknown client or a
redirect URI not registered is an error page, never a redirect; other faults of the
authorization request go back to the client as ``error=...``; the token endpoint
checks the client's secret (HTTP Basic or form), that the code is known, unexpired,
unused, the client's and issued for this redirect URI, and that the PKCE verifier
hashes to the challenge; every failure is the RFC's JSON error.

Written here, not imported: the emulator plays Telegram, and must not share the
code that checks it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import unquote_plus, urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.telegram.model import User

__all__ = ["OidcProvider"]

CODE_SECONDS = 300
"""How long an authorization code may wait for its exchange."""
ID_TOKEN_SECONDS = 600


@dataclass
class Client:
    client_id: str
    secret: str
    redirect_uris: frozenset[str]


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    nonce: str | None
    user_id: int
    expires_at: int
    used: bool = False


@dataclass
class OidcProvider:
    """The provider's state: its key, clients, codes and the browser's user."""

    issuer: Callable[[], str]
    users: Callable[[int], User]
    now: Callable[[], int]
    clients: dict[str, Client] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    signed_in: int | None = None
    """The Telegram user logged in in the browser that opens ``/auth``."""
    declines: bool = False
    """The user refuses the login (``error=access_denied``)."""
    exchanges: list[tuple[str, int]] = field(default_factory=list)
    """Every token request answered: (error or "ok", status)."""

    _key: rsa.RSAPrivateKey | None = None
    kid: str = ""

    @property
    def key(self) -> rsa.RSAPrivateKey:
        """The signing key, made on first use (most emulators never need one)."""
        if self._key is None:
            self.rotate_key()
        assert self._key is not None
        return self._key

    # ------------------------------------------------------------- set-up
    def register_client(self, client_id: str, secret: str, redirect_uris: list[str]) -> None:
        if not client_id or not secret or not redirect_uris:
            raise ValueError("a client needs an id, a secret and at least one redirect URI")
        self.clients[client_id] = Client(client_id, secret, frozenset(redirect_uris))

    def sign_in(self, user_id: int | None) -> None:
        """``user_id`` is logged in to Telegram in the browser (None: nobody)."""
        if user_id is not None:
            self.users(user_id)
        self.signed_in = user_id

    def rotate_key(self) -> None:
        """A new signing key (and kid): tokens signed before no longer verify."""
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)

    # ------------------------------------------------------------- documents
    def discovery(self) -> dict[str, Any]:
        issuer = self.issuer()
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "grant_types_supported": ["authorization_code"],
        }

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [public | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}

    # ------------------------------------------------------------- /auth
    def authorize(self, query: Mapping[str, str]) -> web.Response:
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            return _page(400, "Unknown client", "client_id is missing or not registered.")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _page(400, "Bad redirect URI", "redirect_uri is not registered for this bot.")

        def back(**params: str) -> web.Response:
            if "state" in query:
                params["state"] = query["state"]
            location = f"{redirect_uri}?{urlencode(params)}"
            return web.Response(status=302, headers={"Location": location})

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "openid" not in query.get("scope", "").split():
            return back(error="invalid_scope", error_description="scope must include openid")
        challenge, method = query.get("code_challenge", ""), query.get("code_challenge_method")
        if not 43 <= len(challenge) <= 128 or method not in ("S256", "plain"):
            return back(error="invalid_request", error_description="PKCE is required")
        if self.signed_in is None:
            return _page(401, "Log in to Telegram", "No Telegram user is logged in here.")
        if self.declines:
            return back(error="access_denied")
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            client.client_id,
            redirect_uri,
            challenge,
            method,
            query.get("nonce"),
            self.signed_in,
            self.now() + CODE_SECONDS,
        )
        return back(code=code)

    # ------------------------------------------------------------- /token
    def token(self, form: Mapping[str, str], authorization: str | None) -> web.Response:
        client, error = self._client(form, authorization)
        if client is None:
            return self._error(401, error)
        if form.get("grant_type") != "authorization_code":
            return self._error(400, "unsupported_grant_type")
        code, verifier = form.get("code", ""), form.get("code_verifier", "")
        if not code or not verifier:
            return self._error(400, "invalid_request")
        grant = self.grants.get(code)
        if grant is None or grant.client_id != client.client_id:
            return self._error(400, "invalid_grant")
        if grant.used or grant.expires_at < self.now():
            grant.used = True
            return self._error(400, "invalid_grant")
        grant.used = True  # one presentation, whatever its outcome
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._error(400, "invalid_grant")
        if not hmac.compare_digest(_challenge(verifier, grant.method), grant.challenge):
            return self._error(400, "invalid_grant")
        self.exchanges.append(("ok", 200))
        body = {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": ID_TOKEN_SECONDS,
            "id_token": self.id_token(client.client_id, grant.user_id, grant.nonce),
        }
        return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def id_token(self, client_id: str, user_id: int, nonce: str | None, **changes: Any) -> str:
        """An ID token as Telegram signs it; ``changes`` override claims (tests)."""
        user = self.users(user_id)
        now = self.now()
        subject = hashlib.sha256(f"{client_id}:{user_id}".encode()).hexdigest()[:24]
        claims: dict[str, Any] = {
            "iss": self.issuer(),
            "aud": client_id,
            "sub": subject,
            "iat": now,
            "exp": now + ID_TOKEN_SECONDS,
            "id": user.id,
            "name": user.first_name,
        }
        if user.username:
            claims["preferred_username"] = user.username
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(changes)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def _client(
        self, form: Mapping[str, str], authorization: str | None
    ) -> tuple[Client | None, str]:
        if authorization is not None and "client_secret" in form:
            return None, "invalid_request"  # RFC 6749 2.3: one method at a time
        if authorization is not None:
            scheme, _, encoded = authorization.partition(" ")
            try:
                decoded = base64.b64decode(encoded, validate=True).decode()
            except ValueError:
                return None, "invalid_client"
            client_id, _, secret = (unquote_plus(part) for part in decoded.partition(":"))
            if scheme.lower() != "basic":
                return None, "invalid_client"
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        client = self.clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            return None, "invalid_client"
        if form.get("client_id", client_id) != client_id:
            return None, "invalid_client"
        return client, ""

    def _error(self, status: int, error: str) -> web.Response:
        self.exchanges.append((error, status))
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="oauth.telegram.org"'
        return web.json_response({"error": error}, status=status, headers=headers)

    # ------------------------------------------------------------- routes
    def add_routes(self, app: web.Application) -> None:
        async def discovery(_: web.Request) -> web.Response:
            return web.json_response(self.discovery())

        async def jwks(_: web.Request) -> web.Response:
            return web.json_response(self.jwks())

        async def auth(request: web.Request) -> web.Response:
            return self.authorize(request.query)

        async def token(request: web.Request) -> web.Response:
            if request.content_type != "application/x-www-form-urlencoded":
                return self._error(400, "invalid_request")
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
            return self.token(form, request.headers.get("Authorization"))

        app.router.add_get("/.well-known/openid-configuration", discovery)
        app.router.add_get("/.well-known/jwks.json", jwks)
        app.router.add_get("/auth", auth)
        app.router.add_post("/token", token)


def _challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _page(status: int, title: str, text: str) -> web.Response:
    title, text = escape(title), escape(text)
    body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>"
    return web.Response(status=status, text=body, content_type="text/html")
