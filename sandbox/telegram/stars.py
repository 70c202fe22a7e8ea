"""Telegram Stars in the emulator: invoice links, the pre-checkout query a payer's
tap sends (answered within 10 s, or the payment fails), the ``successful_payment``
message, and refunds.

Checked as the Bot API documents: ``currency`` ``XTR`` with exactly one price item
and no provider token; ``payload`` 1-128 bytes; title 1-32 and description 1-255
characters; ``subscription_period`` only 2592000 (30 days), and then a price of at
most 10,000 Stars; an amount a positive whole number of Stars.

Subscriptions: the first payment of a subscription invoice starts it (its
``successful_payment`` carries ``is_recurring``, ``is_first_recurring`` and
``subscription_expiration_date``); at each period's end Telegram charges again and
sends another ``successful_payment`` with a new charge id, ``is_recurring`` and not
first, and the expiration a period later; no pre-checkout query is asked for a
renewal. ``editUserStarSubscription`` (the charge id of the first payment) cancels
or re-enables the renewal; a canceled subscription lasts to its end and is not
renewed. The user may cancel too (their app), and re-enable only what the bot did
not cancel.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sandbox.telegram.errors import bad_request

STARS = "XTR"
MAX_TITLE = 32
MAX_DESCRIPTION = 255
MAX_PAYLOAD_BYTES = 128
SUBSCRIPTION_PERIOD = 2_592_000
MAX_STARS = 100_000
MAX_SUBSCRIPTION_STARS = 10_000
PRE_CHECKOUT_DEADLINE = 10.0
"""Seconds Telegram waits for answerPreCheckoutQuery before failing the payment."""
INVOICE_LINK_PREFIX = "https://t.me/$"

CURRENCY_INVALID = "CURRENCY_TOTAL_AMOUNT_INVALID"
PRICES_INVALID = "STARS_INVOICE_INVALID"
PROVIDER_GIVEN_FOR_STARS = "PAYMENT_PROVIDER_INVALID"
PAYLOAD_INVALID = "INVOICE_PAYLOAD_INVALID"
TITLE_INVALID = "TITLE_INVALID"
DESCRIPTION_INVALID = "DESCRIPTION_INVALID"
SUBSCRIPTION_PERIOD_INVALID = "SUBSCRIPTION_PERIOD_INVALID"
QUERY_ID_INVALID = "QUERY_ID_INVALID"
ERROR_MESSAGE_EMPTY = "error_message is empty"
CHARGE_NOT_FOUND = "CHARGE_NOT_FOUND"
CHARGE_ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"
CHARGE_ID_INVALID = "CHARGE_ID_INVALID"
SUBSCRIPTION_PRICE_INVALID = "SUBSCRIPTION_PRICE_INVALID"
"""The emulator's word for a subscription over 10,000 Stars (the limit is documented,
the error is not)."""
SUBSCRIPTION_EXPIRED = "SUBSCRIPTION_EXPIRED"
"""The emulator's word for editing a subscription past its end (Telegram documents
that it must still be active; it names no error)."""


class PayOutcome(StrEnum):
    PAID = "paid"
    REFUSED = "refused"  # the bot answered ok=False
    TIMED_OUT = "timed_out"  # no answer within 10 s: Telegram fails the payment
    UNKNOWN_INVOICE = "unknown_invoice"
    CANCELED = "canceled"  # a renewal that did not happen: the subscription was canceled


@dataclass
class StarsInvoice:
    url: str
    title: str
    description: str
    payload: str
    amount: int
    subscription_period: int | None = None


@dataclass
class Charge:
    charge_id: str
    user_id: int
    invoice: StarsInvoice
    refunded: bool = False
    subscription: StarSubscription | None = None
    first: bool = False
    """The payment that started its subscription."""
    expires: int | None = None
    """The subscription's end this payment paid up to (subscriptions only)."""


@dataclass
class StarSubscription:
    """A user's subscription to a subscription invoice, named by its first charge."""

    charge_id: str
    user_id: int
    invoice: StarsInvoice
    until: int
    canceled: bool = False
    bot_canceled: bool = False
    renewals: list[str] = field(default_factory=list)


@dataclass
class PayResult:
    outcome: PayOutcome
    charge_id: str | None = None
    error_message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "charge_id": self.charge_id,
            "error_message": self.error_message,
        }


@dataclass
class _PendingQuery:
    user_id: int
    invoice: StarsInvoice
    answer: asyncio.Future[tuple[bool, str | None]]


@dataclass
class StarsLedger:
    invoices: dict[str, StarsInvoice] = field(default_factory=dict)
    charges: dict[str, Charge] = field(default_factory=dict)
    pending: dict[str, _PendingQuery] = field(default_factory=dict)
    answers: list[tuple[str, bool, str | None]] = field(default_factory=list)
    """Every answerPreCheckoutQuery taken: (query id, ok, error message)."""
    subscriptions: dict[str, StarSubscription] = field(default_factory=dict)

    def create_invoice_link(
        self,
        *,
        title: str,
        description: str,
        payload: str,
        currency: str,
        prices: Any,
        provider_token: str | None,
        subscription_period: int | None,
    ) -> str:
        if not 1 <= len(title) <= MAX_TITLE:
            raise bad_request(TITLE_INVALID)
        if not 1 <= len(description) <= MAX_DESCRIPTION:
            raise bad_request(DESCRIPTION_INVALID)
        if not 1 <= len(payload.encode("utf-8")) <= MAX_PAYLOAD_BYTES:
            raise bad_request(PAYLOAD_INVALID)
        if currency != STARS:
            # The emulator sells for Stars only, as a bot without a provider does.
            raise bad_request(CURRENCY_INVALID)
        if provider_token:
            raise bad_request(PROVIDER_GIVEN_FOR_STARS)
        amount = _one_price(prices)
        if subscription_period is not None and subscription_period != SUBSCRIPTION_PERIOD:
            raise bad_request(SUBSCRIPTION_PERIOD_INVALID)
        if subscription_period is not None and amount > MAX_SUBSCRIPTION_STARS:
            raise bad_request(SUBSCRIPTION_PRICE_INVALID)
        url = INVOICE_LINK_PREFIX + secrets.token_urlsafe(12)
        self.invoices[url] = StarsInvoice(
            url, title, description, payload, amount, subscription_period
        )
        return url

    def ask(self, user_id: int, invoice: StarsInvoice) -> tuple[str, _PendingQuery]:
        query_id = str(secrets.randbits(63))
        pending = _PendingQuery(user_id, invoice, asyncio.get_running_loop().create_future())
        self.pending[query_id] = pending
        return query_id, pending

    def answer(self, query_id: str, ok: bool, error_message: str | None) -> None:
        pending = self.pending.pop(query_id, None)
        if pending is None or pending.answer.done():
            raise bad_request(QUERY_ID_INVALID)
        if not ok and not error_message:
            self.pending[query_id] = pending
            raise bad_request(ERROR_MESSAGE_EMPTY)
        self.answers.append((query_id, ok, error_message))
        pending.answer.set_result((ok, error_message))

    def charge(self, user_id: int, invoice: StarsInvoice, now: int) -> Charge:
        charge = Charge("stx" + secrets.token_urlsafe(18), user_id, invoice)
        self.charges[charge.charge_id] = charge
        if invoice.subscription_period is not None:
            until = now + invoice.subscription_period
            charge.subscription = StarSubscription(charge.charge_id, user_id, invoice, until)
            charge.first, charge.expires = True, until
            self.subscriptions[charge.charge_id] = charge.subscription
        return charge

    def renew(self, charge_id: str) -> Charge | None:
        """The period of the subscription ``charge_id`` started ends: Telegram charges
        the next one, unless the subscription was canceled (None then)."""
        subscription = self.subscriptions[charge_id]
        if subscription.canceled or subscription.invoice.subscription_period is None:
            return None
        subscription.until += subscription.invoice.subscription_period
        charge = Charge(
            "stx" + secrets.token_urlsafe(18),
            subscription.user_id,
            subscription.invoice,
            subscription=subscription,
            expires=subscription.until,
        )
        self.charges[charge.charge_id] = charge
        subscription.renewals.append(charge.charge_id)
        return charge

    def edit_subscription(self, user_id: int, charge_id: str, canceled: bool, now: int) -> None:
        """editUserStarSubscription: the bot cancels the renewal, or lets the user
        re-enable one the bot canceled (it is not renewed until they do)."""
        subscription = self.subscriptions.get(charge_id)
        if subscription is None or subscription.user_id != user_id:
            raise bad_request(CHARGE_ID_INVALID)
        if subscription.until <= now:
            raise bad_request(SUBSCRIPTION_EXPIRED)
        if canceled:
            subscription.canceled = subscription.bot_canceled = True
        else:
            subscription.bot_canceled = False

    def user_edits_subscription(self, user_id: int, charge_id: str, canceled: bool) -> bool:
        """The user cancels or re-enables in their app; False when they may not (not
        theirs, or canceled by the bot)."""
        subscription = self.subscriptions.get(charge_id)
        if subscription is None or subscription.user_id != user_id:
            return False
        if not canceled and subscription.bot_canceled:
            return False
        subscription.canceled = canceled
        return True

    def refund(self, user_id: int, charge_id: str) -> None:
        charge = self.charges.get(charge_id)
        if charge is None or charge.user_id != user_id:
            raise bad_request(CHARGE_NOT_FOUND)
        if charge.refunded:
            raise bad_request(CHARGE_ALREADY_REFUNDED)
        charge.refunded = True


def _one_price(prices: Any) -> int:
    """Stars invoices take exactly one price item, a positive whole number of Stars."""
    if not isinstance(prices, list) or len(prices) != 1 or not isinstance(prices[0], dict):
        raise bad_request(PRICES_INVALID)
    item = prices[0]
    label, amount = item.get("label"), item.get("amount")
    if not isinstance(label, str) or not label:
        raise bad_request(PRICES_INVALID)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_STARS:
        raise bad_request(PRICES_INVALID)
    return amount


def successful_payment_json(charge: Charge) -> dict[str, Any]:
    invoice = charge.invoice
    body: dict[str, Any] = {
        "currency": STARS,
        "total_amount": invoice.amount,
        "invoice_payload": invoice.payload,
        "telegram_payment_charge_id": charge.charge_id,
        "provider_payment_charge_id": "",
    }
    if charge.subscription is not None:
        body["subscription_expiration_date"] = charge.expires
        body["is_recurring"] = True
        if charge.first:
            body["is_first_recurring"] = True
    return body
