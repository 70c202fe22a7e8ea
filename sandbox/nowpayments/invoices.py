"""What ``POST /v1/invoice`` accepts: the checks the provider makes on a new invoice."""

from __future__ import annotations

import json
from collections.abc import Container, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from sandbox.nowpayments.errors import BadRequest
from sandbox.nowpayments.model import EmulatedInvoice

__all__ = ["PRICE_CURRENCIES", "invoice_from"]

PRICE_CURRENCIES = frozenset(
    {"usd", "eur", "gbp", "chf", "cad", "aud", "jpy", "uah", "btc", "eth", "usdttrc20"}
)
_URL_FIELDS = ("ipn_callback_url", "success_url", "cancel_url", "partially_paid_url")


def invoice_from(body: bytes, *, coins: Container[str], ids: Iterator[int]) -> EmulatedInvoice:
    """The invoice ``body`` asks for, paid in one of ``coins`` if it names one; its id
    is drawn from ``ids`` only once the body is accepted, so refusals leave no gaps.
    Raises BadRequest."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except ValueError:
        raise BadRequest("body must be JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    price = _price(data.get("price_amount"))
    currency = data.get("price_currency")
    if not isinstance(currency, str) or currency.lower() not in PRICE_CURRENCIES:
        raise BadRequest('"price_currency" is not supported')
    pay_currency = data.get("pay_currency")
    if pay_currency is not None and (
        not isinstance(pay_currency, str) or pay_currency.lower() not in coins
    ):
        raise BadRequest('"pay_currency" is not supported')
    texts = {}
    for field in ("order_id", "order_description", *_URL_FIELDS):
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f'"{field}" must be a string')
        texts[field] = value
    for field in _URL_FIELDS:
        url = texts[field]
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise BadRequest(f'"{field}" must be a valid uri')
    flags = {}
    for field in ("is_fixed_rate", "is_fee_paid_by_user"):
        value = data.get(field, False)
        if not isinstance(value, bool):
            raise BadRequest(f'"{field}" must be a boolean')
        flags[field] = value
    return EmulatedInvoice(
        id=str(next(ids)),
        price_amount=price,
        price_currency=currency.lower(),
        order_id=texts["order_id"],
        order_description=texts["order_description"],
        pay_currency=pay_currency.lower() if isinstance(pay_currency, str) else None,
        ipn_callback_url=texts["ipn_callback_url"],
        success_url=texts["success_url"],
        cancel_url=texts["cancel_url"],
        is_fixed_rate=flags["is_fixed_rate"],
        is_fee_paid_by_user=flags["is_fee_paid_by_user"],
        created_at=datetime.now(UTC),
    )


def _price(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise BadRequest('"price_amount" must be a number')
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise BadRequest('"price_amount" must be a number') from None
    if not price.is_finite() or price <= 0:
        raise BadRequest('"price_amount" must be greater than 0')
    return price
