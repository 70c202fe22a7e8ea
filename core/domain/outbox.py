"""The transactional outbox: side effects written in the same transaction as the state
change that calls for them, performed later by the dispatcher with retries.

Each message has a unique ``key`` naming the effect (e.g. ``remove:<sub>:<period>``),
so queuing the same effect twice is a no-op: a crash and a retry never double it.
Effects are plain values that round-trip through a JSON-able payload.

An effect may be performed long after it was queued (Telegram asked for a pause, or
was down), so whatever acts on a membership or speaks of a subscription is judged
again when it runs: a removal, a join-request answer and a message carrying a
:class:`Standing` go out only while what they assume still holds.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from core.domain.errors import InvalidTransition, Why
from core.domain.ids import ChannelId, ChatId, GrantId, OutboxId, SubscriptionId, UserId
from core.domain.messages import (
    Notice,
    Verbatim,
    VerbatimButton,
    notice_from_payload,
    notice_to_payload,
)


class EffectKind(StrEnum):
    SEND_MESSAGE = "send_message"
    ISSUE_INVITE = "issue_invite"
    APPROVE_JOIN = "approve_join"
    DECLINE_JOIN = "decline_join"
    REMOVE_MEMBER = "remove_member"
    REFRESH_INVITE = "refresh_invite"
    ISSUE_BUNDLE_INVITE = "issue_bundle_invite"
    LEAVE_BUNDLE = "leave_bundle"


@attrs.frozen
class Standing:
    """What a message assumes of a subscription, checked when it goes out: it is sent
    only while the subscription is active (``active``) or not (``not active``) and,
    with ``expires_at``, still ends at that moment. A reminder of an end that a
    renewal moved, or a goodbye to someone who paid again, is dropped."""

    subscription_id: SubscriptionId
    active: bool
    expires_at: datetime | None = None


@attrs.frozen
class SendMessage:
    chat_id: ChatId
    message: Notice
    kind: EffectKind = EffectKind.SEND_MESSAGE
    standing: Standing | None = attrs.field(default=None, kw_only=True)
    fold: str | None = attrs.field(default=None, kw_only=True)
    """Messages to one chat with the same ``fold`` that wait together go out as one
    digest (an owner told of many payments at once)."""


@attrs.frozen
class IssueInvite:
    """Create the grant's invite link and send it to the subscriber."""

    grant_id: GrantId
    kind: EffectKind = EffectKind.ISSUE_INVITE


@attrs.frozen
class RefreshInvite:
    """Make the subscription's access link work until its current end (a renewal moved
    the end past the link's expiry, or a one-use link was spent) and, with
    ``send_key``, send it to the subscriber under that outbox key."""

    subscription_id: SubscriptionId
    send_key: str | None = None
    kind: EffectKind = EffectKind.REFRESH_INVITE


@attrs.frozen
class ApproveJoin:
    """Answered by the subscription as it stands when the answer goes out: approved
    while it is active, declined otherwise."""

    chat_id: ChatId
    user_id: UserId
    kind: EffectKind = EffectKind.APPROVE_JOIN


@attrs.frozen
class DeclineJoin:
    chat_id: ChatId
    user_id: UserId
    kind: EffectKind = EffectKind.DECLINE_JOIN


@attrs.frozen
class RemoveMember:
    """The member leaves and may come back by paying again. Dropped when it runs if
    the member's subscription to the chat's channel is active again by then."""

    chat_id: ChatId
    user_id: UserId
    kind: EffectKind = EffectKind.REMOVE_MEMBER


@attrs.frozen
class IssueBundleInvite:
    """Let the subscriber of a bundle's home channel into the member channel's closed
    chat for ``period`` of their subscription: a link of their own, sent to them.
    Dropped when it runs if the subscription has moved on from that period (or
    ended), or the channel left the bundle meanwhile."""

    subscription_id: SubscriptionId
    period: int
    channel_id: ChannelId
    resend: str | None = None
    """A subscriber asked for their links again: a chat granted already gets a new
    link, sent under this outbox key and the channel's id."""
    kind: EffectKind = EffectKind.ISSUE_BUNDLE_INVITE


@attrs.frozen
class LeaveBundle:
    """The subscription to ``channel_id`` ended: remove ``user_id`` from the closed chat
    of every channel in its bundle when this runs (one :class:`RemoveMember` each,
    queued under ``key`` and the member channel's id, so each chat once)."""

    channel_id: ChannelId
    user_id: UserId
    key: str
    kind: EffectKind = EffectKind.LEAVE_BUNDLE


Effect = (
    SendMessage
    | IssueInvite
    | RefreshInvite
    | ApproveJoin
    | DeclineJoin
    | RemoveMember
    | IssueBundleInvite
    | LeaveBundle
)


def effect_to_payload(effect: Effect) -> dict[str, Any]:
    """A JSON-able dict (ints, strings, lists) that :func:`effect_from_payload` reverses."""
    if isinstance(effect, SendMessage):
        payload: dict[str, Any] = {
            "chat_id": effect.chat_id,
            "notice": notice_to_payload(effect.message),
        }
        if effect.fold is not None:
            payload["fold"] = effect.fold
        if (standing := effect.standing) is not None:
            ends = standing.expires_at
            payload["standing"] = {
                "subscription_id": standing.subscription_id,
                "active": standing.active,
                "expires_at": None if ends is None else ends.isoformat(),
            }
        return payload
    if isinstance(effect, IssueInvite):
        return {"grant_id": effect.grant_id}
    if isinstance(effect, RefreshInvite):
        return {"subscription_id": effect.subscription_id, "send_key": effect.send_key}
    if isinstance(effect, IssueBundleInvite):
        return {
            "subscription_id": effect.subscription_id,
            "period": effect.period,
            "channel_id": effect.channel_id,
            "resend": effect.resend,
        }
    if isinstance(effect, LeaveBundle):
        return {"channel_id": effect.channel_id, "user_id": effect.user_id, "key": effect.key}
    return {"chat_id": effect.chat_id, "user_id": effect.user_id}


def effect_from_payload(kind: EffectKind | str, payload: dict[str, Any]) -> Effect:
    kind = EffectKind(kind)
    if kind is EffectKind.SEND_MESSAGE:
        return SendMessage(
            ChatId(int(payload["chat_id"])),
            _notice(payload),
            standing=_standing(payload.get("standing")),
            fold=payload.get("fold"),
        )
    if kind is EffectKind.ISSUE_INVITE:
        return IssueInvite(GrantId(str(payload["grant_id"])))
    if kind is EffectKind.REFRESH_INVITE:
        send_key = payload.get("send_key")
        return RefreshInvite(
            SubscriptionId(str(payload["subscription_id"])),
            None if send_key is None else str(send_key),
        )
    if kind is EffectKind.ISSUE_BUNDLE_INVITE:
        resend = payload.get("resend")
        return IssueBundleInvite(
            SubscriptionId(str(payload["subscription_id"])),
            int(payload["period"]),
            ChannelId(str(payload["channel_id"])),
            None if resend is None else str(resend),
        )
    if kind is EffectKind.LEAVE_BUNDLE:
        return LeaveBundle(
            ChannelId(str(payload["channel_id"])),
            UserId(int(payload["user_id"])),
            str(payload["key"]),
        )
    chat, user = ChatId(int(payload["chat_id"])), UserId(int(payload["user_id"]))
    if kind is EffectKind.APPROVE_JOIN:
        return ApproveJoin(chat, user)
    if kind is EffectKind.DECLINE_JOIN:
        return DeclineJoin(chat, user)
    return RemoveMember(chat, user)


def _notice(payload: dict[str, Any]) -> Notice:
    raw = payload.get("notice")
    if raw is not None:
        return notice_from_payload(raw)
    # A row queued by a release that wrote messages in words: it goes out as written.
    buttons = tuple(
        tuple(
            VerbatimButton(b["text"], url=b.get("url"), callback_data=b.get("callback_data"))
            for b in row
        )
        for row in payload.get("buttons", [])
    )
    return Verbatim(payload["text"], buttons)


def _standing(raw: dict[str, Any] | None) -> Standing | None:
    if raw is None:
        return None
    ends = raw.get("expires_at")
    return Standing(
        SubscriptionId(str(raw["subscription_id"])),
        bool(raw["active"]),
        None if ends is None else datetime.fromisoformat(ends),
    )


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


@attrs.define
class OutboxMessage:
    id: OutboxId
    key: str
    effect: Effect
    created_at: datetime
    available_at: datetime
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    last_error: str | None = None

    def mark_done(self) -> None:
        self.status = OutboxStatus.DONE

    def mark_failed(self, error: str, retry_at: datetime | None) -> None:
        """Record a failed try; with no ``retry_at`` the message is dead-lettered."""
        self.attempts += 1
        self.last_error = error[:500]
        if retry_at is None:
            self.status = OutboxStatus.DEAD
        else:
            self.available_at = retry_at

    def defer(self, until: datetime) -> None:
        """Put the message back untried, due at ``until``: its turn has not come (its
        chat was written to a moment ago). Not a failure: no attempt is counted."""
        if self.status is not OutboxStatus.PENDING:
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="outbox", source=self.status, target="deferred"
            )
        self.available_at = until
