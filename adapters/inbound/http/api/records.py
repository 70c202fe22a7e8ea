"""The JSON forms of the records several groups of operations answer with (a
subscription, a payment intent, an audit event, an amount), each with its schema
beside the function that writes it, so the two are read together.

Amounts are decimal strings (exact), times ISO 8601 with their offset (UTC), enums
their stored values. Invite links are never shown: a join-request link is the
subscriber's, and ``has_link`` says whether one was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.inbound.http.api.schema import JsonSchema
from core.domain.audit import AuditEvent
from core.domain.grant import AccessGrant, GrantMode, GrantStatus
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import EventOutcome, PaymentEvent, PaymentIntent, Purpose
from core.domain.subscription import Subscription, SubscriptionStatus
from core.services.dashboard import MAX_REASON

__all__ = [
    "AUDIT_EVENT",
    "GRANT",
    "INTENT",
    "MONEY",
    "PAYMENT_EVENT",
    "SUBSCRIPTION",
    "audit_json",
    "event_json",
    "grant_json",
    "intent_json",
    "money_json",
    "reason_body",
    "subscription_json",
]


def _values(enum: Any) -> list[str]:
    return [member.value for member in enum]


_TIME: JsonSchema = {"type": "string", "format": "date-time"}
_MAYBE_TIME: JsonSchema = {"type": ["string", "null"], "format": "date-time"}
_MAYBE_TEXT: JsonSchema = {"type": ["string", "null"]}

MONEY: JsonSchema = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "string", "description": "A decimal number, exact."},
        "currency": {"type": "string"},
    },
}
_MAYBE_MONEY: JsonSchema = {**MONEY, "type": ["object", "null"]}


def money_json(money: Money | None) -> dict[str, str] | None:
    return None if money is None else {"amount": str(money.amount), "currency": money.currency}


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


SUBSCRIPTION: JsonSchema = {
    "type": "object",
    "required": [
        "id",
        "user_id",
        "channel_id",
        "tier",
        "status",
        "starts_at",
        "expires_at",
        "period",
    ],
    "properties": {
        "id": {"type": "string"},
        "user_id": {"type": "integer"},
        "channel_id": {"type": "string"},
        "tier": {"type": "integer"},
        "status": {"type": "string", "enum": _values(SubscriptionStatus)},
        "starts_at": _TIME,
        "expires_at": _TIME,
        "period": {"type": "integer", "minimum": 1, "description": "How often it began."},
    },
}


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "user_id": sub.user_id,
        "channel_id": sub.channel_id,
        "tier": sub.tier,
        "status": sub.status.value,
        "starts_at": sub.starts_at.isoformat(),
        "expires_at": sub.expires_at.isoformat(),
        "period": sub.period,
    }


INTENT: JsonSchema = {
    "type": "object",
    "required": [
        "id",
        "channel_id",
        "user_id",
        "purpose",
        "tier",
        "price",
        "provider",
        "status",
        "invoice_id",
        "payment_id",
        "actually_paid",
        "created_at",
        "updated_at",
        "fulfilled_at",
    ],
    "properties": {
        "id": {"type": "string"},
        "channel_id": {"type": "string"},
        "user_id": {"type": "integer"},
        "purpose": {"type": "string", "enum": _values(Purpose)},
        "tier": {"type": ["integer", "null"]},
        "price": MONEY,
        "provider": {"type": "string"},
        "status": {"type": "string", "enum": _values(IntentStatus)},
        "invoice_id": _MAYBE_TEXT,
        "payment_id": _MAYBE_TEXT,
        "actually_paid": _MAYBE_MONEY,
        "created_at": _TIME,
        "updated_at": _TIME,
        "fulfilled_at": _MAYBE_TIME,
    },
}


def intent_json(intent: PaymentIntent) -> dict[str, Any]:
    return {
        "id": intent.id,
        "channel_id": intent.channel_id,
        "user_id": intent.user_id,
        "purpose": intent.purpose.value,
        "tier": intent.tier,
        "price": money_json(intent.price),
        "provider": intent.provider,
        "status": intent.status.value,
        "invoice_id": intent.invoice_id,
        "payment_id": intent.payment_id,
        "actually_paid": money_json(intent.actually_paid),
        "created_at": intent.created_at.isoformat(),
        "updated_at": intent.updated_at.isoformat(),
        "fulfilled_at": _time(intent.fulfilled_at),
    }


PAYMENT_EVENT: JsonSchema = {
    "type": "object",
    "required": ["provider", "payment_id", "status", "received_at", "outcome", "actually_paid"],
    "properties": {
        "provider": {"type": "string"},
        "payment_id": {"type": "string"},
        "status": {"type": "string", "enum": _values(IntentStatus)},
        "received_at": _TIME,
        "outcome": {"type": "string", "enum": _values(EventOutcome)},
        "actually_paid": _MAYBE_MONEY,
    },
}


def event_json(event: PaymentEvent) -> dict[str, Any]:
    return {
        "provider": event.provider,
        "payment_id": event.payment_id,
        "status": event.status.value,
        "received_at": event.received_at.isoformat(),
        "outcome": event.outcome.value,
        "actually_paid": money_json(event.actually_paid),
    }


GRANT: JsonSchema = {
    "type": "object",
    "required": ["id", "period", "mode", "status", "created_at", "has_link", "link_expires_at"],
    "properties": {
        "id": {"type": "string"},
        "period": {"type": "integer", "minimum": 1},
        "mode": {"type": "string", "enum": _values(GrantMode)},
        "status": {"type": "string", "enum": _values(GrantStatus)},
        "created_at": _TIME,
        "has_link": {"type": "boolean"},
        "link_expires_at": _MAYBE_TIME,
    },
}


def grant_json(grant: AccessGrant) -> dict[str, Any]:
    return {
        "id": grant.id,
        "period": grant.period,
        "mode": grant.mode.value,
        "status": grant.status.value,
        "created_at": grant.created_at.isoformat(),
        "has_link": grant.invite_link is not None,
        "link_expires_at": _time(grant.link_expires_at),
    }


AUDIT_EVENT: JsonSchema = {
    "type": "object",
    "required": ["seq", "at", "actor", "action", "subject", "details"],
    "properties": {
        "seq": {"type": "integer"},
        "at": _TIME,
        "actor": {"type": "string"},
        "action": {"type": "string"},
        "subject": {"type": "string"},
        "details": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def audit_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": dict(event.details),
    }


def reason_body(**more: JsonSchema) -> JsonSchema:
    """The body of an action: the required ``reason`` (kept in the audit log), and
    ``more`` required fields; nothing else."""
    return {
        "type": "object",
        "required": ["reason", *more],
        "additionalProperties": False,
        "properties": {
            "reason": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_REASON,
                "description": "Why; kept in the audit log.",
            },
            **more,
        },
    }
