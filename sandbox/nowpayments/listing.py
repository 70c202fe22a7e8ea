"""``GET /v1/payment/``: the payment list's query and the page it answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType

import attrs

from sandbox.nowpayments.errors import BadRequest
from sandbox.nowpayments.model import EmulatedPayment
from sandbox.nowpayments.payloads import payment_payload

__all__ = ["MAX_PAGE_SIZE", "SORT_KEYS", "ListQuery", "list_query_from", "payment_page"]

MAX_PAGE_SIZE = 500
SORT_KEYS: Mapping[str, Callable[[EmulatedPayment], tuple[object, ...]]] = MappingProxyType(
    {
        # The id breaks ties, so that a descending list is the ascending one reversed.
        "created_at": lambda p: (p.created_at, p.payment_id),
        "updated_at": lambda p: (p.updated_at, p.payment_id),
        "payment_id": lambda p: (p.payment_id,),
    }
)


@attrs.frozen
class ListQuery:
    """What ``GET /v1/payment/`` was asked for, checked."""

    invoice_id: str | None
    limit: int
    page: int
    sort_by: str
    descending: bool
    date_from: datetime | None
    date_to: datetime | None


def list_query_from(query: Mapping[str, str]) -> ListQuery:
    """``invoiceId``, ``limit`` (1 to MAX_PAGE_SIZE, default 10), ``page`` (from 0),
    ``sortBy``, ``orderBy`` (asc or desc), ``dateFrom`` and ``dateTo``, checked.
    Raises BadRequest."""
    invoice_id = query.get("invoiceId")
    limit = _whole_number(query, "limit", 10)
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadRequest(f'"limit" must be from 1 to {MAX_PAGE_SIZE}')
    page = _whole_number(query, "page", 0)
    sort_by = query.get("sortBy", "created_at")
    if sort_by not in SORT_KEYS:
        raise BadRequest(f'"sortBy" must be one of {", ".join(sorted(SORT_KEYS))}')
    order_by = query.get("orderBy", "asc")
    if order_by not in ("asc", "desc"):
        raise BadRequest('"orderBy" must be asc or desc')
    return ListQuery(
        invoice_id=invoice_id,
        limit=limit,
        page=page,
        sort_by=sort_by,
        descending=order_by == "desc",
        date_from=_moment(query, "dateFrom"),
        date_to=_moment(query, "dateTo"),
    )


def payment_page(payments: Iterable[EmulatedPayment], query: ListQuery) -> dict[str, object]:
    """One page of the matching payments, extra deposits included, each exactly as
    ``GET /v1/payment/{payment_id}`` describes it now. ``dateFrom`` is inclusive and
    ``dateTo`` exclusive, both on the payment's creation time."""
    matching = [
        payment
        for payment in payments
        if (query.invoice_id is None or payment.invoice.id == query.invoice_id)
        and (query.date_from is None or payment.created_at >= query.date_from)
        and (query.date_to is None or payment.created_at < query.date_to)
    ]
    matching.sort(key=SORT_KEYS[query.sort_by], reverse=query.descending)
    start = query.page * query.limit
    return {
        "data": [
            payment_payload(payment, payment.status, None)
            for payment in matching[start : start + query.limit]
        ],
        "limit": query.limit,
        "page": query.page,
        "pagesCount": -(-len(matching) // query.limit),
        "total": len(matching),
    }


def _whole_number(query: Mapping[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    # int() alone would also take " 7", "+7", "7_0" and non-ASCII digits, and past
    # 4300 digits it raises an error of its own; no real page is that far anyway.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise BadRequest(f'"{name}" must be a whole number')
    return int(text)


def _moment(query: Mapping[str, str], name: str) -> datetime | None:
    """``YYYY-MM-DD`` (midnight UTC starting that day) or an ISO 8601 timestamp
    (UTC when it names no offset)."""
    text = query.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f'"{name}" must be a date (YYYY-MM-DD) or an ISO 8601 time') from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
