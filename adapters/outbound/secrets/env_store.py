"""Secrets from the process environment, with a ``.env`` file as fallback (the embedded
default: one machine, no secret manager)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from adapters.outbound.secrets.dotenv import load_dotenv
from adapters.outbound.secrets.names import env_var_for
from core.ports.errors import NotFound
from core.ports.security import Secret


class EnvSecretStore:
    """Implements SecretStore: secret ``bot_token`` is ``PAYGATE_BOT_TOKEN``.

    The environment wins over the file, as with docker compose and most tools, so a
    deployment can override one value without editing ``.env``. The file is read once,
    here, so a malformed line stops the process at start-up rather than at the first
    payment. An empty value counts as missing: a blank placeholder is never a secret.
    """

    def __init__(self, environ: Mapping[str, str], dotenv: Path | None = None) -> None:
        self._environ = environ
        self._dotenv_path = dotenv
        self._dotenv = load_dotenv(dotenv) if dotenv is not None else {}

    async def get(self, name: str) -> Secret:
        variable = env_var_for(name)
        if variable in self._environ:
            value, origin = self._environ[variable], "the environment"
        elif variable in self._dotenv:
            value, origin = self._dotenv[variable], str(self._dotenv_path)
        else:
            places = "the environment"
            if self._dotenv_path is not None:
                places += f" nor in {self._dotenv_path}"
            raise NotFound(f"secret {name!r} is missing: {variable} is not set in {places}")
        if not value:
            raise NotFound(f"secret {name!r} is missing: {variable} is empty in {origin}")
        return Secret(value)
