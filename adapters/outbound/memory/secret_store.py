"""Secrets held in memory (tests, the demo), behind the same port as a secret manager."""

from __future__ import annotations

from collections.abc import Mapping

from core.ports.errors import NotFound
from core.ports.security import Secret


class InMemorySecretStore:
    """Implements SecretStore. Errors name the secret, never its value."""

    def __init__(self, secrets: Mapping[str, Secret | str] | None = None) -> None:
        self._secrets: dict[str, Secret] = {}
        for name, value in (secrets or {}).items():
            self.set(name, value)

    def set(self, name: str, value: Secret | str) -> None:
        """Add or replace a secret (a rotation, in tests)."""
        self._secrets[name] = value if isinstance(value, Secret) else Secret(value)

    async def get(self, name: str) -> Secret:
        try:
            return self._secrets[name]
        except KeyError:
            raise NotFound(f"no secret named {name!r}") from None
