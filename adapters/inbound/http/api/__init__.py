"""The HTTP API under ``/api/v1`` (``PAYGATE_API=on``): a router, its access tokens,
and a module per group of operations (see :mod:`.operations` to add one)."""

from adapters.inbound.http.api.access import AccessTokens, ApiSigningKeys
from adapters.inbound.http.api.channels import ChannelOperations
from adapters.inbound.http.api.operations import ApiCall, Group, Operation
from adapters.inbound.http.api.router import BASE, Api, ApiSettings

__all__ = [
    "BASE",
    "AccessTokens",
    "Api",
    "ApiCall",
    "ApiSettings",
    "ApiSigningKeys",
    "ChannelOperations",
    "Group",
    "Operation",
]
