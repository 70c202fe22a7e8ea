"""Refusals a secret store can give besides the port's NotFound and Unavailable.

They are PortErrors, so a caller that handles every port failure handles these; they
are not Unavailable because retrying will not help until someone fixes the set-up."""

from __future__ import annotations

from core.ports.errors import PortError


class SecretStoreRefused(PortError):
    """The store answered, and the answer was no (bad request, unreadable value)."""


class SecretAccessDenied(SecretStoreRefused):
    """Our credentials may not read this secret (HTTP 401/403, file permissions)."""
