"""The payment provider: hosted invoices in, verified notifications out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs

from core.domain.ids import UserId
from core.domain.money import Money
from core.domain.payment import ProviderNotification
from core.ports.errors import PortError, Unavailable

__all__ = [
    "InvalidSignature",
    "Invoice",
    "InvoiceRequest",
    "MalformedNotification",
    "NotConfigured",
    "PaymentGateway",
    "PaymentRefunds",
    "ProviderRejected",
    "RefundingGateway",
    "Unavailable",
]


class InvalidSignature(PortError):
    """The notification's signature is missing or does not verify: believe nothing."""


class MalformedNotification(PortError):
    """The notification is signed correctly but its fields are unusable."""


class NotConfigured(PortError):
    """The provider account is not set up for this call (no credentials for it): a
    setting to make, not an outage to wait out."""


class ProviderRejected(PortError):
    """The provider answered our request with a client error (bad key, bad currency)."""


@attrs.frozen
class InvoiceRequest:
    order_id: str
    price: Money
    description: str
    """ASCII only: it takes part in the provider's signature."""
    renews: bool = False
    """A subscription the provider charges again every period until canceled (only
    Telegram Stars sells these: its gateway refuses it otherwise)."""


@attrs.frozen
class Invoice:
    invoice_id: str
    url: str


class PaymentGateway(Protocol):
    @property
    def name(self) -> str:
        """The provider's stable name, stored with intents and events (e.g. 'nowpayments')."""
        ...

    async def create_invoice(self, request: InvoiceRequest) -> Invoice:
        """Raises ProviderRejected or Unavailable."""
        ...

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> ProviderNotification:
        """Check the signature over the raw body before reading any business field.

        Raises InvalidSignature, then MalformedNotification."""
        ...

    async def lookup_payment(self, payment_id: str) -> ProviderNotification:
        """The provider's current view of a payment (reconciliation). Raises
        NotFound, ProviderRejected or Unavailable."""
        ...

    async def payments_for_invoice(self, invoice_id: str) -> Sequence[ProviderNotification]:
        """The provider's current view of every payment made on one of our invoices,
        oldest first (reconciliation of an invoice no notification ever reported:
        the payer paid, every webhook was lost). Raises NotConfigured (the account
        cannot list payments), ProviderRejected or Unavailable."""
        ...


class PaymentRefunds(Protocol):
    """A provider that refunds on our request (Telegram Stars); the refund's
    notification then takes back what the payment bought."""

    async def refund(self, user_id: UserId, payment_id: str) -> None:
        """Give ``user_id`` back the money of ``payment_id``. A payment refunded before
        is no error (the refund stands: asking again after a crash is safe). Raises
        ProviderRejected (no such payment of that user) or Unavailable."""
        ...


class RefundingGateway(PaymentGateway, PaymentRefunds, Protocol):
    """A provider we both sell through and refund through (Telegram Stars)."""
