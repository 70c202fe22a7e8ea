"""An OpenID Connect provider over HTTP: its discovery document
(``{issuer}/.well-known/openid-configuration``, read once and checked to name the
same issuer), its JWKS (cached; re-read when a token names an unknown key, at most
once a minute), the authorization URL of a login (response type ``code``, scope
``openid profile``, PKCE S256) and the code exchange at the token endpoint
(``client_secret_basic``), whose ID token :class:`IdTokenVerifier` checks.

Telegram's provider is ``https://oauth.telegram.org``; the client id is the bot's
id and the secret the one BotFather shows under the bot's web login settings."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import attrs
import jwt

from adapters.outbound.oidc.id_token import IdTokenVerifier
from core.domain.ids import UserId
from core.ports.clock import Clock
from core.ports.errors import Unavailable
from core.ports.security import Secret
from core.ports.web_login import AuthorizationRequest, CodeExchange, login_refused

__all__ = ["TELEGRAM_ISSUER", "Discovery", "OpenIdConnectProvider"]

logger = logging.getLogger(__name__)

TELEGRAM_ISSUER = "https://oauth.telegram.org"
SCOPE = "openid profile"
TIMEOUT = aiohttp.ClientTimeout(total=10)
REFRESH_AT_MOST_EVERY = timedelta(minutes=1)
"""An unknown ``kid`` re-reads the JWKS, but not more often than this: a stream of
forged tokens cannot turn us into a client hammering the provider."""
MAX_BODY = 256 * 1024


@attrs.frozen
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class OpenIdConnectProvider:
    """The :class:`~core.ports.web_login.WebLoginProvider` of one issuer and client."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        issuer: str,
        client_id: str,
        client_secret: Secret,
    ) -> None:
        self._session = session
        self._clock = clock
        self._issuer = issuer.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._discovery: Discovery | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_read = False
        self._refreshed_at: datetime | None = None
        """When an unknown ``kid`` last made us re-read the key set."""
        self._lock = asyncio.Lock()
        self.verifier = IdTokenVerifier(self._issuer, client_id, self, clock)
        self.key_reads = 0
        """How often the JWKS was read (for tests and the log)."""

    @property
    def issuer(self) -> str:
        return self._issuer

    # ------------------------------------------------------------ the port
    async def authorization_url(self, request: AuthorizationRequest) -> str:
        discovery = await self.discovery()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "redirect_uri": request.redirect_uri,
                "scope": SCOPE,
                "state": request.state,
                "nonce": request.nonce,
                "code_challenge": request.code_challenge,
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in discovery.authorization_endpoint else "?"
        return f"{discovery.authorization_endpoint}{separator}{query}"

    async def identify(self, exchange: CodeExchange) -> UserId:
        discovery = await self.discovery()
        form = {
            "grant_type": "authorization_code",
            "code": exchange.code,
            "redirect_uri": exchange.redirect_uri,
            "client_id": self._client_id,
            "code_verifier": exchange.code_verifier,
        }
        # RFC 6749 2.3.1: each part form-encoded, then base64 of "id:secret".
        credentials = (
            f"{quote(self._client_id, safe='')}:{quote(self._client_secret.reveal(), safe='')}"
        )
        basic = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
        status, body = await self._request(
            "POST", discovery.token_endpoint, data=form, headers={"Authorization": basic}
        )
        if status >= 500:
            raise Unavailable(f"the login provider's token endpoint answered {status}")
        if status != 200:
            error = body.get("error") if isinstance(body, dict) else None
            if error == "invalid_client":
                logger.warning("the login provider refused our client credentials")
            raise login_refused(f"the login provider refused the code ({error or status})")
        token = body.get("id_token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            raise login_refused("the login provider answered without an identity token")
        claims = await self.verifier.verify(token, exchange.nonce)
        return claims.user_id

    # ------------------------------------------------------------ discovery and keys
    async def discovery(self) -> Discovery:
        if self._discovery is not None:
            return self._discovery
        url = f"{self._issuer}/.well-known/openid-configuration"
        status, body = await self._request("GET", url)
        if status != 200 or not isinstance(body, dict):
            raise Unavailable(f"the login provider's discovery document answered {status}")
        fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if not all(isinstance(body.get(name), str) for name in fields):
            raise Unavailable("the login provider's discovery document lacks its endpoints")
        if body["issuer"].rstrip("/") != self._issuer:
            # OpenID Connect Discovery 4.3: the document must name the issuer we asked.
            raise Unavailable("the login provider's discovery document names another issuer")
        self._discovery = Discovery(*(str(body[name]) for name in fields))
        return self._discovery

    async def key(self, kid: str, *, refresh: bool) -> jwt.PyJWK | None:
        if kid in self._keys and not refresh:
            return self._keys[kid]
        async with self._lock:
            now = self._clock.now()
            if not self._keys_read:
                await self._read_keys()
            elif refresh and kid not in self._keys:
                recent = self._refreshed_at is not None and (
                    now - self._refreshed_at < REFRESH_AT_MOST_EVERY
                )
                if not recent:
                    self._refreshed_at = now
                    await self._read_keys()
        return self._keys.get(kid)

    async def _read_keys(self) -> None:
        discovery = await self.discovery()
        status, body = await self._request("GET", discovery.jwks_uri)
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise Unavailable(f"the login provider's key set answered {status}")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in body["keys"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            if entry.get("use", "sig") != "sig":
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                logger.warning("the login provider's key %s is not usable", entry["kid"])
        self._keys = keys
        self._keys_read = True
        self.key_reads += 1

    async def _request(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            async with self._session.request(
                method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs
            ) as response:
                raw = await response.content.read(MAX_BODY + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable("the login provider cannot be reached") from exc
        if len(raw) > MAX_BODY:
            raise Unavailable("the login provider's answer is too large")
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, None
