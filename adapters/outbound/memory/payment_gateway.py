"""A fake payment provider: hosted invoices recorded, notifications signed with
HMAC-SHA256 over the raw body in ``x-fake-sig``.

The body uses NowPayments' field names, so code written against the fake reads the
same fields the real provider sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.outbound.memory.scripted_failures import ScriptedFailures
from core.domain.errors import InvalidMoney
from core.domain.ids import UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import ProviderNotification
from core.ports.errors import NotFound
from core.ports.payments import (
    InvalidSignature,
    Invoice,
    InvoiceRequest,
    MalformedNotification,
    NotConfigured,
    ProviderRejected,
    Unavailable,
)
from core.ports.security import Secret

SIGNATURE_HEADER = "x-fake-sig"


def _literal(value: object) -> str:
    # Decimals are written as JSON numbers digit for digit (json.dumps cannot).
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)


def _optional_text(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedNotification(f"{field} is not a string or an integer")
    if value == "":
        raise MalformedNotification(f"{field} is empty")
    return str(value)


def _required_text(data: Mapping[str, Any], field: str) -> str:
    value = _optional_text(data, field)
    if value is None:
        raise MalformedNotification(f"{field} is missing")
    return value


def _money(data: Mapping[str, Any], amount: str, currency: str) -> Money | None:
    if data.get(amount) is None:
        return None
    code = data.get(currency)
    if not isinstance(code, str):
        raise MalformedNotification(f"{currency} is missing")
    try:
        return Money(data[amount], code)
    except InvalidMoney as exc:
        raise MalformedNotification(f"{amount}/{currency}: {exc}") from exc


def _amount_of(money: Money | None) -> Decimal | None:
    return None if money is None else money.amount


def _currency_of(money: Money | None) -> str | None:
    return None if money is None else money.currency.lower()


class InMemoryPaymentGateway:
    """Implements PaymentGateway for tests and the demo's scripted journey."""

    def __init__(
        self,
        secret: Secret | str,
        name: str = "fakepay",
        base_url: str = "https://pay.example.test",
        *,
        lists_payments: bool = True,
    ) -> None:
        """``lists_payments=False``: an account without the credentials that listing
        an invoice's payments needs (:meth:`payments_for_invoice` is NotConfigured)."""
        self._secret = secret if isinstance(secret, Secret) else Secret(secret)
        self._name = name
        self._base_url = base_url.rstrip("/")
        self.requests: list[InvoiceRequest] = []
        """Every invoice asked for, in order (failed attempts included)."""
        self.failures = ScriptedFailures()
        self._payments: dict[str, ProviderNotification] = {}
        self._lists_payments = lists_payments
        self.refunds: list[tuple[UserId, str]] = []
        """Every refund asked for and taken, in order (PaymentRefunds)."""
        self.stopped: list[tuple[UserId, str]] = []
        """Every subscription whose renewals were stopped (RenewalControl)."""

    @property
    def name(self) -> str:
        return self._name

    def fail_next(self, error: ProviderRejected | Unavailable, count: int = 1) -> None:
        """The next ``count`` calls to the provider (invoices, lookups) raise ``error``."""
        self.failures.arm(error, count)

    async def create_invoice(self, request: InvoiceRequest) -> Invoice:
        self.requests.append(request)
        self.failures.check()
        invoice_id = f"inv{len(self.requests)}"
        return Invoice(invoice_id=invoice_id, url=f"{self._base_url}/invoice/{invoice_id}")

    async def stop_renewal(self, user_id: UserId, charge_id: str) -> None:
        """RenewalControl: the subscription ``charge_id`` started renews no more."""
        self.failures.check()
        if (user_id, charge_id) not in self.stopped:
            self.stopped.append((user_id, charge_id))

    async def refund(self, user_id: UserId, payment_id: str) -> None:
        """PaymentRefunds: a payment is refunded once; asking again changes nothing."""
        self.failures.check()
        if all(refunded != payment_id for _, refunded in self.refunds):
            self.refunds.append((user_id, payment_id))

    # -- notifications -------------------------------------------------------------

    def sign(self, body: bytes) -> str:
        """The signature the provider would send with ``body`` (lowercase hex)."""
        key = self._secret.reveal().encode("utf-8")
        return hmac.new(key, body, hashlib.sha256).hexdigest()

    def signed_headers(self, body: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json", SIGNATURE_HEADER: self.sign(body)}

    @staticmethod
    def notification_body(notification: ProviderNotification) -> bytes:
        """The JSON the provider would post for ``notification`` (amounts as exact
        numbers; the provider field is implied by who signs)."""
        paid = [m for m in (notification.pay_amount, notification.actually_paid) if m]
        if len({m.currency for m in paid}) > 1:
            raise ValueError("pay_amount and actually_paid share the pay currency")
        fields: dict[str, object] = {
            "payment_id": notification.payment_id,
            "parent_payment_id": notification.parent_payment_id,
            "invoice_id": notification.invoice_id,
            "order_id": notification.order_id,
            "payment_status": str(notification.status),
            "price_amount": notification.price.amount,
            "price_currency": _currency_of(notification.price),
            "pay_amount": _amount_of(notification.pay_amount),
            "actually_paid": _amount_of(notification.actually_paid),
            "pay_currency": _currency_of(paid[0]) if paid else None,
            "outcome_amount": _amount_of(notification.outcome),
            "outcome_currency": _currency_of(notification.outcome),
        }
        pairs = (f"{json.dumps(k)}:{_literal(v)}" for k, v in sorted(fields.items()))
        return ("{" + ",".join(pairs) + "}").encode("utf-8")

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> ProviderNotification:
        given = next(
            (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER), None
        )
        if not given:
            raise InvalidSignature(f"the {SIGNATURE_HEADER} header is missing")
        expected = self.sign(body).encode("ascii")
        if not hmac.compare_digest(expected, given.strip().lower().encode("utf-8")):
            raise InvalidSignature("the signature does not match the body")
        try:
            data = json.loads(body, parse_float=Decimal)
        except ValueError as exc:
            raise MalformedNotification("the body is not JSON") from exc
        if not isinstance(data, dict):
            raise MalformedNotification("the body is not a JSON object")
        return self._parse(data)

    def _parse(self, data: Mapping[str, Any]) -> ProviderNotification:
        reported = data.get("payment_status")
        if not isinstance(reported, str) or reported not in set(IntentStatus):
            raise MalformedNotification("payment_status is not a known status")
        status = IntentStatus(reported)
        price = _money(data, "price_amount", "price_currency")
        if price is None:
            raise MalformedNotification("price_amount is missing")
        return ProviderNotification(
            provider=self._name,
            payment_id=_required_text(data, "payment_id"),
            order_id=_required_text(data, "order_id"),
            status=status,
            price=price,
            pay_amount=_money(data, "pay_amount", "pay_currency"),
            actually_paid=_money(data, "actually_paid", "pay_currency"),
            outcome=_money(data, "outcome_amount", "outcome_currency"),
            invoice_id=_optional_text(data, "invoice_id"),
            parent_payment_id=_optional_text(data, "parent_payment_id"),
        )

    # -- reconciliation ------------------------------------------------------------

    def set_payment(self, notification: ProviderNotification) -> None:
        """What :meth:`lookup_payment` (and, under its invoice id,
        :meth:`payments_for_invoice`) reports for this payment from now on."""
        self._payments[notification.payment_id] = notification

    async def lookup_payment(self, payment_id: str) -> ProviderNotification:
        self.failures.check()
        try:
            return self._payments[payment_id]
        except KeyError:
            raise NotFound(f"the provider knows no payment {payment_id!r}") from None

    async def payments_for_invoice(self, invoice_id: str) -> Sequence[ProviderNotification]:
        if not self._lists_payments:
            raise NotConfigured(f"{self._name}: this account cannot list payments")
        self.failures.check()
        # Payments in the order they were first set: the provider lists oldest first.
        return [p for p in self._payments.values() if p.invoice_id == invoice_id]
