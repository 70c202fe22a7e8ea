"""The subscribers' operations, as the dashboard's Subscribers section offers them:
find subscribers (by Telegram user id or @username, status and channel) in keyset
pages, one person's record in one channel, and grant days, revoke or resend the
access link with a reason (``write`` scope).

Who may see and change what is decided in the core
(:mod:`core.services.dashboard_subscribers`): someone else's channel or subscriber
is 404, exactly like one that does not exist; an operator looks at every channel
but acts only on their own (403).
"""

from __future__ import annotations

from typing import Any

import attrs

from adapters.inbound.http.api.operations import (
    CURSOR_PARAMETER,
    ID_PARAMETER,
    PRINTABLE,
    ApiCall,
    Operation,
    page_of,
)
from adapters.inbound.http.api.records import (
    AUDIT_EVENT,
    GRANT,
    INTENT,
    SUBSCRIPTION,
    audit_json,
    grant_json,
    intent_json,
    reason_body,
    subscription_json,
)
from adapters.inbound.http.api.schema import JsonSchema
from core.domain.errors import Why
from core.domain.ids import ChannelId, UserId
from core.domain.outbox import OutboxStatus
from core.domain.subscription import SubscriptionStatus
from core.ports.api_tokens import ApiScope
from core.services.dashboard_subscriber_actions import MAX_COMP_DAYS, SubscriberActions
from core.services.dashboard_subscribers import (
    InvalidSearch,
    SubscriberRecord,
    SubscriberSearch,
    UnknownSubscriber,
    user_id_of,
)

__all__ = ["SubscriberOperations"]

_USER_ID: JsonSchema = {
    "type": "string",
    "pattern": "^[0-9]{1,19}$",
    "description": "A Telegram user id.",
}
_ROW: JsonSchema = {
    "type": "object",
    "required": ["subscription", "username"],
    "properties": {
        "subscription": SUBSCRIPTION,
        "username": {
            "type": ["string", "null"],
            "description": "The username the person last showed the bot, without @.",
        },
    },
}
_ROWS = page_of("subscribers", _ROW)
_PAGE: JsonSchema = {
    **_ROWS,
    "required": [*_ROWS["required"], "named"],
    "properties": {
        **_ROWS["properties"],
        "named": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "The people `q` named, whether or not they subscribe.",
        },
    },
}
_SEARCH: dict[str, JsonSchema] = {
    "q": {
        "type": "string",
        "maxLength": 64,
        "pattern": PRINTABLE,
        "description": "A Telegram user id, or a username with or without @.",
    },
    "status": {"type": "string", "enum": [s.value for s in SubscriptionStatus]},
    "channel_id": {**ID_PARAMETER, "description": "Only this channel's subscribers."},
    "cursor": CURSOR_PARAMETER,
}
_REMOVAL: JsonSchema = {
    "type": "object",
    "required": ["created_at", "status"],
    "properties": {
        "created_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": [s.value for s in OutboxStatus]},
    },
}
RECORD: JsonSchema = {
    "type": "object",
    "required": [
        "channel_id",
        "channel_title",
        "user_id",
        "username",
        "subscription",
        "payments",
        "grants",
        "removals",
        "audit",
        "can_act",
        "active_link",
    ],
    "properties": {
        "channel_id": {"type": "string"},
        "channel_title": {"type": "string"},
        "user_id": {"type": "integer"},
        "username": {"type": ["string", "null"]},
        "subscription": {**SUBSCRIPTION, "type": ["object", "null"]},
        "payments": {"type": "array", "items": INTENT},
        "grants": {"type": "array", "items": GRANT},
        "removals": {
            "type": "array",
            "items": _REMOVAL,
            "description": "Removals from the closed channel queued for them, oldest first.",
        },
        "audit": {"type": "array", "items": AUDIT_EVENT, "description": "Newest first."},
        "can_act": {"type": "boolean", "description": "Whether you may act on them."},
        "active_link": {"type": "boolean", "description": "Whether a link can be resent."},
    },
}
_ONE = {"channel_id": ID_PARAMETER, "user_id": _USER_ID}
_GRANT = reason_body(
    days={"type": "integer", "minimum": 1, "maximum": MAX_COMP_DAYS, "description": "Days free."}
)


def record_json(record: SubscriberRecord) -> dict[str, Any]:
    sub = record.subscription
    return {
        "channel_id": record.channel_id,
        "channel_title": record.title,
        "user_id": record.user_id,
        "username": record.username,
        "subscription": None if sub is None else subscription_json(sub),
        "payments": [intent_json(intent) for intent in record.intents],
        "grants": [grant_json(grant) for grant in record.grants],
        "removals": [
            {"created_at": m.created_at.isoformat(), "status": m.status.value}
            for m in record.removals
        ],
        "audit": [audit_json(event) for event in record.audit],
        "can_act": record.can_act,
        "active_link": record.active_link,
    }


@attrs.define(eq=False)
class SubscriberOperations:
    _search: SubscriberSearch
    _actions: SubscriberActions

    def operations(self) -> list[Operation]:
        read, write = ApiScope.READ, ApiScope.WRITE
        one = "/channels/{channel_id}/subscribers/{user_id}"
        return [
            Operation("GET", "/subscribers", "listSubscribers",
                      "Find subscribers (by id or username, status, channel), newest end first",
                      read, self.find, _PAGE, errors=(404,), query=_SEARCH),
            Operation("GET", one, "getSubscriber", "One person's record in one channel",
                      read, self.record, RECORD, parameters=_ONE),
            Operation("POST", one + "/grant", "grantDays",
                      "Give days free (a new subscription or the one they have extended)",
                      write, self.grant, RECORD, _GRANT, _ONE),
            Operation("POST", one + "/revoke", "revokeSubscription",
                      "End the subscription now: removed and told goodbye, as at expiry",
                      write, self.revoke, RECORD, reason_body(), _ONE, errors=(409,)),
            Operation("POST", one + "/resend", "resendAccess",
                      "Send the access link again, good until the subscription's end",
                      write, self.resend, RECORD, reason_body(), _ONE, errors=(409,)),
        ]  # fmt: skip

    async def find(self, call: ApiCall) -> object:
        given = call.parameters
        channel = given.get("channel_id")
        status = given.get("status")
        page = await self._search.find(
            call.viewer,
            given.get("q", ""),
            None if status is None else SubscriptionStatus(status),
            None if channel is None else ChannelId(channel),
            given.get("cursor"),
        )
        return {
            "subscribers": [
                {"subscription": subscription_json(row.subscription), "username": row.username}
                for row in page.rows
            ],
            "next": page.next_key,
            "named": list(page.named),
        }

    async def record(self, call: ApiCall) -> object:
        channel_id, user_id = _who(call)
        return record_json(await self._search.record(call.viewer, channel_id, user_id))

    async def grant(self, call: ApiCall) -> object:
        channel_id, user_id = _who(call)
        body = call.body
        await self._actions.grant(call.viewer, channel_id, user_id, body["days"], body["reason"])
        return await self.record(call)

    async def revoke(self, call: ApiCall) -> object:
        channel_id, user_id = _who(call)
        await self._actions.revoke(call.viewer, channel_id, user_id, call.body["reason"])
        return await self.record(call)

    async def resend(self, call: ApiCall) -> object:
        channel_id, user_id = _who(call)
        await self._actions.resend(call.viewer, channel_id, user_id, call.body["reason"])
        return await self.record(call)


def _who(call: ApiCall) -> tuple[ChannelId, UserId]:
    try:
        user_id = user_id_of(call.parameters["user_id"])
    except InvalidSearch:
        raise UnknownSubscriber(Why.NO_SUCH_SUBSCRIBER) from None
    return ChannelId(call.parameters["channel_id"]), user_id
