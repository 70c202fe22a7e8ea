"""The HTTP API under ``/api/v1`` (``PAYGATE_API=on``): a router, its access tokens,
and a module per group of operations (see :mod:`.operations` to add one)."""

from adapters.inbound.http.api.access import AccessTokens, ApiSigningKeys
from adapters.inbound.http.api.alerts import AlertOperations
from adapters.inbound.http.api.channels import ChannelOperations
from adapters.inbound.http.api.coupons import CouponOperations
from adapters.inbound.http.api.exports import ExportOperations
from adapters.inbound.http.api.operations import ApiCall, Group, Operation
from adapters.inbound.http.api.payments import PaymentOperations
from adapters.inbound.http.api.router import BASE, Api, ApiSettings
from adapters.inbound.http.api.subscribers import SubscriberOperations

__all__ = [
    "BASE",
    "AccessTokens",
    "AlertOperations",
    "Api",
    "ApiCall",
    "ApiSettings",
    "ApiSigningKeys",
    "ChannelOperations",
    "CouponOperations",
    "ExportOperations",
    "Group",
    "Operation",
    "PaymentOperations",
    "SubscriberOperations",
]
