"""What the emulated provider keeps: invoices, payments, the calls it received and
the IPNs it sent, and how a simulated payer pays."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType

import attrs

__all__ = [
    "DEFAULT_RATES",
    "EmulatedInvoice",
    "EmulatedPayment",
    "IpnDelivery",
    "PayPlan",
    "RecordedCall",
    "in_coin",
]

DEFAULT_RATES: Mapping[str, Decimal] = MappingProxyType(
    {
        # Units of the coin per unit of the invoice's price currency; any fiat alike.
        "btc": Decimal("0.0000161"),
        "eth": Decimal("0.00031"),
        "ltc": Decimal("0.0125"),
        "trx": Decimal("8.1"),
        "usdttrc20": Decimal("1"),
        "xmr": Decimal("0.0061"),
    }
)
_EIGHT_PLACES = Decimal("0.00000001")


def in_coin(amount: Decimal) -> Decimal:
    """A coin amount as the provider states it: to eight decimal places."""
    return amount.quantize(_EIGHT_PLACES)


@attrs.frozen
class PayPlan:
    """How a simulated payer pays an invoice and how the provider reports it.

    ``statuses`` is the payment's life at the provider; its last entry is what a
    look-up returns. IPNs follow it unless ``drop`` (statuses never notified),
    ``duplicate`` (statuses notified twice in a row) or ``order`` (a permutation of
    the indices of ``statuses``) say otherwise. ``actually_paid`` below
    ``pay_amount`` is an underpayment.
    """

    pay_currency: str = "btc"
    pay_amount: Decimal | None = None
    actually_paid: Decimal | None = None
    statuses: tuple[str, ...] = ("waiting", "confirming", "confirmed", "finished")
    drop: frozenset[str] = frozenset()
    duplicate: frozenset[str] = frozenset()
    order: tuple[int, ...] | None = None
    parent_payment_id: int | None = None

    def __attrs_post_init__(self) -> None:
        if not self.statuses or not all(s and s.replace("_", "").isalpha() for s in self.statuses):
            raise ValueError("statuses must be a non-empty list of status names")
        if self.order is not None and sorted(self.order) != list(range(len(self.statuses))):
            raise ValueError("order must be a permutation of the statuses' indices")
        for amount in (self.pay_amount, self.actually_paid):
            if amount is not None and (not amount.is_finite() or amount < 0):
                raise ValueError("amounts must be finite and not negative")

    def notifications(self) -> Iterator[int]:
        """The indices of ``statuses`` to notify, in the order the IPNs are sent."""
        for index in self.order or range(len(self.statuses)):
            status = self.statuses[index]
            if status not in self.drop:
                yield from itertools.repeat(index, 2 if status in self.duplicate else 1)


@attrs.frozen
class RecordedCall:
    method: str
    path: str
    status: int
    api_key_ok: bool
    body: bytes


@attrs.frozen
class IpnDelivery:
    payment_id: int
    status: str
    url: str
    body: bytes
    signature: str
    attempt: int
    response_status: int | None
    error: str | None


@attrs.define
class EmulatedInvoice:
    id: str
    price_amount: Decimal
    price_currency: str
    order_id: str | None
    order_description: str | None
    pay_currency: str | None
    ipn_callback_url: str | None
    success_url: str | None
    cancel_url: str | None
    is_fixed_rate: bool
    is_fee_paid_by_user: bool
    created_at: datetime


@attrs.define
class EmulatedPayment:
    payment_id: int
    invoice: EmulatedInvoice
    pay_currency: str
    pay_amount: Decimal
    actually_paid: Decimal
    pay_address: str
    purchase_id: str
    status: str
    parent_payment_id: int | None
    created_at: datetime
    updated_at: datetime
    deliveries: list[IpnDelivery] = attrs.Factory(list)
