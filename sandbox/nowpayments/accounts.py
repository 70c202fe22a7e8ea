"""The merchant login of ``POST /v1/auth`` and the bearer tokens it issues."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable

from sandbox.nowpayments.errors import BadRequest

__all__ = ["MerchantAccount", "without_password"]

_MASKED = "***"


class MerchantAccount:
    """The one account the emulated provider knows, and its live tokens."""

    def __init__(
        self,
        email: str | None,
        password: str | None,
        *,
        token_ttl: float,
        clock: Callable[[], float],
    ) -> None:
        """Either credential None: every login is refused. Tokens live ``token_ttl``
        seconds of ``clock``, a monotonic clock that tests replace to expire tokens
        unslept."""
        self._credentials = (
            None if email is None or password is None else (email.encode(), password.encode())
        )
        self._token_ttl = token_ttl
        self._clock = clock
        self._tokens: dict[str, float] = {}

    def login(self, body: bytes) -> str | None:
        """A new token for the account's own email and password, and nothing else;
        None when refused. Raises BadRequest for a body that is not a JSON object
        with string ``email`` and ``password``."""
        if self._credentials is None:
            return None
        try:
            data = json.loads(body)
        except ValueError:
            raise BadRequest("body must be JSON") from None
        if not isinstance(data, dict):
            raise BadRequest("body must be a JSON object")
        email, password = data.get("email"), data.get("password")
        if not isinstance(email, str) or not isinstance(password, str):
            raise BadRequest('"email" and "password" must be strings')
        expected_email, expected_password = self._credentials
        # Both comparisons always run, so the time taken does not tell which one failed.
        email_ok = hmac.compare_digest(email.encode(), expected_email)
        password_ok = hmac.compare_digest(password.encode(), expected_password)
        if not (email_ok & password_ok):
            return None
        now = self._clock()
        # Forget expired tokens so a long demo does not accumulate them.
        self._tokens = {t: until for t, until in self._tokens.items() if until > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = now + self._token_ttl
        return token

    def bearer_ok(self, authorization: str) -> bool:
        """Whether an ``Authorization`` header carries a token issued and not expired."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        until = self._tokens.get(token.strip())
        return until is not None and self._clock() < until


def without_password(body: bytes) -> bytes:
    """A login body fit to record: its password masked, and nothing kept of a body
    that is not a JSON object."""
    # Recorded calls end up in test output and the control API; a password must not.
    try:
        data = json.loads(body)
    except ValueError:
        return b""
    if not isinstance(data, dict):
        return b""
    if "password" in data:
        data["password"] = _MASKED
    return json.dumps(data).encode()
