"""Secrets mounted as files, one per secret (Docker secrets, Kubernetes secret volumes)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from adapters.outbound.secrets.errors import SecretAccessDenied, SecretStoreRefused
from adapters.outbound.secrets.names import check_secret_name
from core.ports.errors import NotFound, Unavailable
from core.ports.security import Secret


class FileSecretStore:
    """Implements SecretStore: secret ``bot_token`` is the file ``<directory>/bot_token``.

    The file is read on every call, so a rotated mount is seen at once. Trailing line
    breaks are dropped because ``echo value > file`` and most editors add one, and no
    token, key or password we use ends in one.

    ``files`` names a file for some secrets outright (``PAYGATE_<NAME>_FILE``, the
    Docker convention); those are read from there instead of the directory."""

    def __init__(self, directory: Path, files: Mapping[str, Path] | None = None) -> None:
        self._directory = directory
        self._files = dict(files or {})

    async def get(self, name: str) -> Secret:
        path = self._files.get(name) or self._directory / check_secret_name(name)
        # A mounted file is local, but a network filesystem can stall; keep the loop free.
        return await asyncio.to_thread(self._read, name, path)

    def _read(self, name: str, path: Path) -> Secret:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            if name in self._files:
                raise NotFound(f"secret {name!r} is missing: no file {path}") from None
            if not self._directory.is_dir():
                raise NotFound(
                    f"secret {name!r} is missing: the secrets directory {self._directory} "
                    "does not exist"
                ) from None
            raise NotFound(f"secret {name!r} is missing: no file {path}") from None
        except IsADirectoryError:
            raise SecretStoreRefused(f"secret {name!r}: {path} is a directory") from None
        except PermissionError:
            raise SecretAccessDenied(f"secret {name!r}: this process may not read {path}") from None
        except OSError as exc:
            raise Unavailable(f"secret {name!r}: cannot read {path} ({exc.strerror})") from exc
        try:
            value = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise SecretStoreRefused(f"secret {name!r}: {path} is not UTF-8 text") from None
        if not value:
            raise NotFound(f"secret {name!r} is missing: {path} is empty")
        return Secret(value)
