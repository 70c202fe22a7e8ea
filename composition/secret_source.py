"""Where the secret settings come from: ``PAYGATE_SECRETS`` = env | files | gsm.

- ``env`` (default): the environment, then ``.env``, like every other setting.
- ``files``: ``PAYGATE_<NAME>_FILE`` names a file holding ``PAYGATE_<NAME>``, as
  Docker secrets and Kubernetes secret volumes mount them.
- ``gsm``: Google Cloud Secret Manager, secret ``<prefix><name>`` of
  ``PAYGATE_GSM_PROJECT`` (``PAYGATE_TELEGRAM_BOT_TOKEN`` is ``telegram_bot_token``),
  with a service-account key (``PAYGATE_GSM_CREDENTIALS_FILE``) or the metadata
  server's token.

Only the variables in :data:`SECRET_VARIABLES` are secrets; the others always come
from the environment and ``.env``. The values read are merged over those, and
:func:`composition.config.load_config` validates them as one configuration.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from adapters.outbound.secrets import FileSecretStore, GcpSecretManagerStore
from adapters.outbound.secrets.gcp_auth import (
    DEFAULT_METADATA_URL,
    MetadataServerToken,
    ServiceAccountToken,
)
from adapters.outbound.secrets.gcp_store import DEFAULT_BASE_URL, AccessTokenProvider
from core.ports.errors import NotFound, PortError

T = TypeVar("T")

SECRET_VARIABLES = (
    "PAYGATE_TELEGRAM_BOT_TOKEN",
    "PAYGATE_TELEGRAM_WEBHOOK_SECRET",
    "PAYGATE_TELEGRAM_WEBHOOK_SECRET_PREVIOUS",
    "PAYGATE_NOWPAYMENTS_API_KEY",
    "PAYGATE_NOWPAYMENTS_IPN_SECRET",
    "PAYGATE_NOWPAYMENTS_IPN_SECRET_PREVIOUS",
    "PAYGATE_NOWPAYMENTS_PASSWORD",
    "PAYGATE_ENCRYPTION_KEYS",
    "PAYGATE_MAC_KEYS",
    "PAYGATE_JOB_KEYS",
    "PAYGATE_OIDC_CLIENT_SECRET",
    "PAYGATE_API_SIGNING_KEYS",
)
"""The settings that are secrets, read through the chosen store."""

FILE_SUFFIX = "_FILE"


class SecretSourceError(ValueError):
    """The secret store is misconfigured or refused; the message names the variable."""


class SecretsKind(StrEnum):
    ENV = "env"
    FILES = "files"
    GSM = "gsm"


def secret_name(variable: str) -> str:
    """``PAYGATE_TELEGRAM_BOT_TOKEN`` -> ``telegram_bot_token`` (a file or secret id)."""
    return variable.removeprefix("PAYGATE_").lower()


def _value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _kind(env: Mapping[str, str]) -> SecretsKind:
    raw = _value(env, "PAYGATE_SECRETS") or SecretsKind.ENV.value
    try:
        return SecretsKind(raw)
    except ValueError:
        raise SecretSourceError(f"PAYGATE_SECRETS must be env, files or gsm, got {raw!r}") from None


def _file_variables(env: Mapping[str, str]) -> dict[str, Path]:
    return {
        variable: Path(path)
        for variable in SECRET_VARIABLES
        if (path := _value(env, variable + FILE_SUFFIX)) is not None
    }


def _versions(env: Mapping[str, str]) -> dict[str, str]:
    """``PAYGATE_GSM_VERSIONS``: ``name=version`` pairs, comma-separated."""
    raw = _value(env, "PAYGATE_GSM_VERSIONS")
    pins: dict[str, str] = {}
    if raw is None:
        return pins
    known = {secret_name(variable) for variable in SECRET_VARIABLES}
    for position, pair in enumerate(raw.split(","), start=1):
        name, _, version = (part.strip() for part in pair.partition("="))
        if name not in known or not version:
            raise SecretSourceError(
                f"PAYGATE_GSM_VERSIONS: entry {position} must be name=version with a name "
                "such as nowpayments_ipn_secret and a version number"
            )
        pins[name] = version
    return pins


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end from synchronous code, inside a running event
    loop or not (the demo loads its configuration from a coroutine)."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="secrets") as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _from_files(files: Mapping[str, Path]) -> dict[str, str]:
    names = {secret_name(variable): path for variable, path in files.items()}
    store = FileSecretStore(Path("/nonexistent"), names)
    values: dict[str, str] = {}
    for variable in files:
        try:
            values[variable] = (await store.get(secret_name(variable))).reveal()
        except PortError as exc:
            raise SecretSourceError(f"{variable}{FILE_SUFFIX}: {exc}") from exc
    return values


async def _from_gsm(env: Mapping[str, str]) -> dict[str, str]:
    project = _value(env, "PAYGATE_GSM_PROJECT")
    if project is None:
        raise SecretSourceError(
            "PAYGATE_GSM_PROJECT is not set: PAYGATE_SECRETS=gsm reads secrets from "
            "that Google Cloud project's Secret Manager"
        )
    credentials = _value(env, "PAYGATE_GSM_CREDENTIALS_FILE")
    async with aiohttp.ClientSession() as session:
        token: AccessTokenProvider
        try:
            if credentials is not None:
                token = ServiceAccountToken.from_file(session, Path(credentials))
            else:
                token = MetadataServerToken(
                    session, _value(env, "PAYGATE_GSM_METADATA_URL") or DEFAULT_METADATA_URL
                )
        except PortError as exc:
            raise SecretSourceError(f"PAYGATE_GSM_CREDENTIALS_FILE: {exc}") from exc
        try:
            store = GcpSecretManagerStore(
                session,
                project,
                token,
                base_url=_value(env, "PAYGATE_GSM_URL") or DEFAULT_BASE_URL,
                secret_prefix=_value(env, "PAYGATE_GSM_PREFIX") or "",
                cache_ttl=0,
                versions=_versions(env),
            )
        except ValueError as exc:
            raise SecretSourceError(f"PAYGATE_GSM_*: {exc}") from exc
        values: dict[str, str] = {}
        for variable in SECRET_VARIABLES:
            try:
                values[variable] = (await store.get(secret_name(variable))).reveal()
            except NotFound:
                continue  # unset, as an absent variable would be
            except PortError as exc:
                raise SecretSourceError(f"{variable} (from Secret Manager): {exc}") from exc
        return values


def read_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """The secret variables' values from the store ``env`` chooses, to merge over
    ``env``; raises SecretSourceError naming the variable. With ``env`` as the store,
    nothing (``env`` already holds them)."""
    kind = _kind(env)
    files = _file_variables(env)
    if kind is not SecretsKind.FILES and files:
        first = next(iter(files))
        raise SecretSourceError(
            f"{first}{FILE_SUFFIX} is set but PAYGATE_SECRETS is {kind.value}: "
            "set PAYGATE_SECRETS=files to read secrets from files"
        )
    if kind is SecretsKind.ENV:
        return {}
    if kind is SecretsKind.FILES:
        for variable in files:
            if _value(env, variable) is not None:
                raise SecretSourceError(
                    f"{variable} and {variable}{FILE_SUFFIX} are both set: keep one"
                )
        return _run(_from_files(files))
    for variable in SECRET_VARIABLES:
        if _value(env, variable) is not None:
            raise SecretSourceError(
                f"{variable} is set but PAYGATE_SECRETS=gsm reads it from Secret Manager "
                f"(secret {secret_name(variable)}): unset it"
            )
    return _run(_from_gsm(env))
