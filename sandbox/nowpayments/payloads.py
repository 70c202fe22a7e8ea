"""How the provider describes an invoice and a payment in its JSON answers and IPNs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.nowpayments.model import EmulatedInvoice, EmulatedPayment, in_coin

__all__ = ["SERVICE_FEE", "invoice_json", "iso", "payment_payload"]

SERVICE_FEE = Decimal("0.005")


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def invoice_json(invoice: EmulatedInvoice, base_url: str) -> dict[str, Any]:
    """The answer to ``POST /v1/invoice``; ``invoice_url`` is the pay page at ``base_url``."""
    stamp = iso(invoice.created_at)
    # The provider's own example answers with the id and the price as strings.
    return {
        "id": invoice.id,
        "token_id": f"emu{invoice.id}",
        "order_id": invoice.order_id,
        "order_description": invoice.order_description,
        "price_amount": f"{invoice.price_amount:f}",
        "price_currency": invoice.price_currency,
        "pay_currency": invoice.pay_currency,
        "ipn_callback_url": invoice.ipn_callback_url,
        "invoice_url": f"{base_url}/payment/?iid={invoice.id}",
        "success_url": invoice.success_url,
        "cancel_url": invoice.cancel_url,
        "is_fixed_rate": invoice.is_fixed_rate,
        "is_fee_paid_by_user": invoice.is_fee_paid_by_user,
        "created_at": stamp,
        "updated_at": stamp,
    }


def payment_payload(payment: EmulatedPayment, status: str, step: int | None) -> dict[str, object]:
    """A payment as the provider describes it at ``status``, in the provider's own
    key order (not sorted: the signature is over the sorted form). ``step`` is the
    status's place in the payment's life for an IPN, None for a look-up."""
    invoice = payment.invoice
    paid = Decimal(0) if status == "waiting" else payment.actually_paid
    fee = in_coin(paid * SERVICE_FEE)
    payload: dict[str, object] = {
        "payment_id": payment.payment_id,
        "parent_payment_id": payment.parent_payment_id,
        "invoice_id": int(invoice.id),
        "payment_status": status,
        "pay_address": payment.pay_address,
        "payin_extra_id": None,
        "price_amount": invoice.price_amount,
        "price_currency": invoice.price_currency,
        "pay_amount": payment.pay_amount,
        "actually_paid": paid,
        "actually_paid_at_fiat": Decimal(0),
        "pay_currency": payment.pay_currency,
        "order_id": invoice.order_id,
        "order_description": invoice.order_description,
        "purchase_id": payment.purchase_id,
        "outcome_amount": paid - fee,
        "outcome_currency": payment.pay_currency,
        "payment_extra_ids": None,
        "fee": {
            "currency": payment.pay_currency,
            "depositFee": Decimal(0),
            "withdrawalFee": Decimal(0),
            "serviceFee": fee,
        },
    }
    if step is None:
        payload["created_at"] = iso(payment.created_at)
        payload["updated_at"] = iso(payment.updated_at)
    else:
        # Notifications carry updated_at as epoch milliseconds.
        payload["updated_at"] = int(payment.created_at.timestamp() * 1000) + step
    return payload
