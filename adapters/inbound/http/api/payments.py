"""The payments' operations, as the dashboard's Payments section offers them: find a
payment by our order id, its intent id, the invoice id or the provider's payment id;
one payment's record; and the grant by hand of money that arrived after the payment
was closed unpaid (``write`` scope, with a reason; exactly once, see
:mod:`core.services.dashboard_payments`).

A payment of someone else's channel is 404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

import attrs

from adapters.inbound.http.api.operations import ID_PARAMETER, PRINTABLE, ApiCall, Operation
from adapters.inbound.http.api.records import (
    AUDIT_EVENT,
    INTENT,
    MONEY,
    PAYMENT_EVENT,
    SUBSCRIPTION,
    audit_json,
    event_json,
    intent_json,
    money_json,
    reason_body,
    subscription_json,
)
from adapters.inbound.http.api.schema import JsonSchema
from core.domain.ids import IntentId
from core.ports.api_tokens import ApiScope
from core.services.dashboard_payments import MAX_QUERY, DashboardPayments, PaymentView

__all__ = ["PAYMENT", "PaymentOperations"]

_DONATION: JsonSchema = {
    "type": ["object", "null"],
    "required": ["id", "amount", "received_at"],
    "properties": {
        "id": {"type": "string"},
        "amount": MONEY,
        "received_at": {"type": "string", "format": "date-time"},
    },
}
PAYMENT: JsonSchema = {
    "type": "object",
    "required": [
        "intent",
        "channel_title",
        "events",
        "audit",
        "donation",
        "subscription",
        "late_payment_id",
    ],
    "properties": {
        "intent": INTENT,
        "channel_title": {"type": "string"},
        "events": {
            "type": "array",
            "items": PAYMENT_EVENT,
            "description": "The provider's notifications as received, oldest first.",
        },
        "audit": {"type": "array", "items": AUDIT_EVENT, "description": "Oldest first."},
        "donation": _DONATION,
        "subscription": {
            **SUBSCRIPTION,
            "type": ["object", "null"],
            "description": "The payer's subscription to the channel (a subscription payment).",
        },
        "late_payment_id": {
            "type": ["string", "null"],
            "description": "The late payment a grant by hand would honour; null: none to grant.",
        },
    },
}
_FOUND: JsonSchema = {
    "type": "object",
    "required": ["payments"],
    "properties": {"payments": {"type": "array", "items": INTENT}},
}
_SEARCH: dict[str, JsonSchema] = {
    "q": {
        "type": "string",
        "maxLength": MAX_QUERY,
        "pattern": PRINTABLE,
        "description": "Our order id, an intent id, an invoice id or the provider's payment id.",
    }
}
_GRANTED: JsonSchema = {
    "type": "object",
    "required": ["granted", "payment"],
    "properties": {
        "granted": {
            "type": "boolean",
            "description": "False when it had been granted already (nothing was done again).",
        },
        "payment": PAYMENT,
    },
}
_INTENT_ID = {"intent_id": ID_PARAMETER}


def payment_json(view: PaymentView) -> dict[str, Any]:
    record, donation = view.record, view.record.donation
    return {
        "intent": intent_json(record.intent),
        "channel_title": view.channel_title,
        "events": [event_json(event) for event in record.events],
        "audit": [audit_json(event) for event in record.audit],
        "donation": None
        if donation is None
        else {
            "id": donation.id,
            "amount": money_json(donation.amount),
            "received_at": donation.received_at.isoformat(),
        },
        "subscription": None
        if record.subscription is None
        else subscription_json(record.subscription),
        "late_payment_id": None if view.late is None else view.late.payment_id,
    }


@attrs.define(eq=False)
class PaymentOperations:
    _payments: DashboardPayments

    def operations(self) -> list[Operation]:
        read, write = ApiScope.READ, ApiScope.WRITE
        return [
            Operation("GET", "/payments", "findPayments",
                      "The payments of your channels that any of their ids names",
                      read, self.find, _FOUND, query=_SEARCH),
            Operation("GET", "/payments/{intent_id}", "getPayment",
                      "One payment: its notifications, audit and what it bought",
                      read, self.payment, PAYMENT, parameters=_INTENT_ID),
            Operation("POST", "/payments/{intent_id}/grant", "grantLatePayment",
                      "Grant by hand the money that arrived after the payment was closed",
                      write, self.grant, _GRANTED, reason_body(), _INTENT_ID),
        ]  # fmt: skip

    async def find(self, call: ApiCall) -> object:
        found = await self._payments.search(call.viewer, call.parameters.get("q", ""))
        return {"payments": [intent_json(record.intent) for record in found]}

    async def payment(self, call: ApiCall) -> object:
        return payment_json(await self._payments.payment(call.viewer, _id(call)))

    async def grant(self, call: ApiCall) -> object:
        intent_id = _id(call)
        granted = await self._payments.grant_by_hand(call.viewer, intent_id, call.body["reason"])
        view = await self._payments.payment(call.viewer, intent_id)
        return {"granted": granted, "payment": payment_json(view)}


def _id(call: ApiCall) -> IntentId:
    return IntentId(call.parameters["intent_id"])
