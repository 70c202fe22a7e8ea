"""The Secret Manager emulator: a real aiohttp server on loopback.

Served, as Google serves them:

- ``GET /v1/projects/{project}/secrets/{id}/versions/{version}:access`` with a bearer
  token: ``{"name", "payload": {"data": <base64>, "dataCrc32c": "<int64>"}}``; 401
  without a token it issued, 404 ``NOT_FOUND`` for an unknown secret or version, 403
  ``PERMISSION_DENIED`` for another project.
- ``POST /token``: the OAuth2 JWT-bearer grant. The assertion must be signed (RS256)
  by the private key of :meth:`service_account_key` and name this endpoint as its
  audience; a bad one is 400 ``invalid_grant``, as Google answers.
- ``GET /computeMetadata/v1/instance/service-accounts/default/token`` with
  ``Metadata-Flavor: Google``: the metadata server's token.

Controls for tests: :meth:`add_version` (also ``POST /_emulator/secrets/{id}`` with
the value as body), :attr:`accesses`.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from adapters.outbound.secrets.crc32c import crc32c

logger = logging.getLogger("sandbox.secretmanager")

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_SECONDS = 3600
SERVICE_ACCOUNT = "paygate@emulated-project.iam.gserviceaccount.com"


def _google_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": status, "status": code, "message": message}}, status=status
    )


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretManagerEmulator:
    def __init__(self, project: str = "emulated-project") -> None:
        self.project = project
        self._versions: dict[str, list[bytes]] = {}
        self._tokens: set[str] = set()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self.accesses: list[str] = []
        """Every secret version read, as ``id/version`` asked for, in order."""

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the emulator is not running")
        return self._base_url

    def add_version(self, secret_id: str, value: str) -> int:
        """A new version of ``secret_id`` (created if new); its number."""
        versions = self._versions.setdefault(secret_id, [])
        versions.append(value.encode("utf-8"))
        return len(versions)

    def add_secrets(self, values: Mapping[str, str]) -> None:
        for secret_id, value in values.items():
            self.add_version(secret_id, value)

    def service_account_key(self) -> dict[str, str]:
        """A key file as the console downloads it, for this emulator's token endpoint."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        return {
            "type": "service_account",
            "project_id": self.project,
            "private_key_id": "emulated",
            "private_key": pem,
            "client_email": SERVICE_ACCOUNT,
            "token_uri": f"{self.base_url}/token",
        }

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (port 0: any free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        app = web.Application()
        app.router.add_get(
            "/v1/projects/{project}/secrets/{secret}/versions/{version_action}", self._access
        )
        app.router.add_post("/token", self._token)
        app.router.add_get(
            "/computeMetadata/v1/instance/service-accounts/default/token", self._metadata
        )
        app.router.add_post("/_emulator/secrets/{secret}", self._control_add)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self._base_url = f"http://{host}:{runner.addresses[0][1]}"
        logger.info("Secret Manager emulator listening on %s", self._base_url)
        return self._base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._base_url = None

    async def __aenter__(self) -> SecretManagerEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _issue(self) -> web.Response:
        token = "emulated-" + secrets.token_urlsafe(24)
        self._tokens.add(token)
        return web.json_response(
            {"access_token": token, "expires_in": TOKEN_SECONDS, "token_type": "Bearer"}
        )

    async def _metadata(self, request: web.Request) -> web.Response:
        if request.headers.get("Metadata-Flavor") != "Google":
            return web.Response(status=403, text="Missing Metadata-Flavor:Google header.")
        return self._issue()

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != JWT_BEARER:
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        claims = self._verified_claims(str(form.get("assertion", "")))
        if claims is None:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                status=400,
            )
        return self._issue()

    def _verified_claims(self, assertion: str) -> dict[str, Any] | None:
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(_unb64(header_b64))
            claims = json.loads(_unb64(claims_b64))
            if header.get("alg") != "RS256":
                return None
            self._key.public_key().verify(
                _unb64(signature_b64),
                f"{header_b64}.{claims_b64}".encode("ascii"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (ValueError, InvalidSignature, AttributeError):
            return None
        now = time.time()
        valid = (
            isinstance(claims, dict)
            and claims.get("iss") == SERVICE_ACCOUNT
            and claims.get("aud") == f"{self.base_url}/token"
            and "cloud-platform" in str(claims.get("scope", ""))
            and float(claims.get("iat", 0)) <= now + 60
            and float(claims.get("exp", 0)) > now
        )
        return claims if valid else None

    async def _access(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        if header.removeprefix("Bearer ") not in self._tokens:
            return _google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
            )
        project, secret_id = request.match_info["project"], request.match_info["secret"]
        version, _, action = request.match_info["version_action"].partition(":")
        if action != "access":
            return _google_error(404, "NOT_FOUND", "Unknown method.")
        if project != self.project:
            return _google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'secretmanager.versions.access' denied on project {project}",
            )
        self.accesses.append(f"{secret_id}/{version}")
        versions = self._versions.get(secret_id)
        if not versions:
            return _google_error(404, "NOT_FOUND", f"Secret [{secret_id}] not found.")
        number = len(versions) if version == "latest" else int(version) if version.isdigit() else 0
        if not 1 <= number <= len(versions):
            return _google_error(404, "NOT_FOUND", f"Secret Version [{version}] not found.")
        data = versions[number - 1]
        return web.json_response(
            {
                "name": f"projects/{project}/secrets/{secret_id}/versions/{number}",
                "payload": {
                    "data": base64.b64encode(data).decode("ascii"),
                    "dataCrc32c": str(crc32c(data)),
                },
            }
        )

    async def _control_add(self, request: web.Request) -> web.Response:
        number = self.add_version(request.match_info["secret"], await request.text())
        return web.json_response({"version": number})
