"""The dashboard's actions on a subscriber, by a channel's owner, each with a reason
and audited with the person acting (see :mod:`core.services.dashboard_subscribers`
for who may do what).

A grant by hand is saved through the payment ledger exactly as a paid period is
(:func:`comp_changes`, the same shape :mod:`core.services.fulfilment` builds): the
subscription started or extended, a grant queued for a period it enters and its
invite sent by :class:`~core.services.grant_access.GrantAccess`. A revocation queues
the removal and goodbye that expiry queues; a resend, the refresh that the link
button of ``/status`` queues (:class:`~core.services.subscriber_status.ResendAccess`).
Each effect is judged again when the outbox runs it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.errors import InvalidChannel, Why
from core.domain.grant import AccessGrant, GrantMode, GrantStatus
from core.domain.ids import ChannelId, ChatId, GrantId, SubscriptionId, UserId
from core.domain.offer_token import OfferToken
from core.domain.outbox import (
    Effect,
    IssueInvite,
    RefreshInvite,
    RemoveMember,
    SendMessage,
    Standing,
)
from core.domain.signing import MacKeyring
from core.domain.subscription import Subscription
from core.ports.clock import Clock, IdGenerator
from core.ports.errors import Conflict
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWorkFactory
from core.services import notices
from core.services.bundle_access import leave_key
from core.services.dashboard import OwnerDashboard, Viewer, required_reason
from core.services.dashboard_subscribers import UnknownSubscriber
from core.services.fulfilment import FulfilmentSettings, fulfilment_settings
from core.services.subscriber_status import NoActiveSubscription

__all__ = ["MAX_COMP_DAYS", "SubscriberActions", "comp_changes"]


MAX_COMP_DAYS = 3650
_ATTEMPTS = 3
_RESEND_WINDOW = timedelta(minutes=1)


@attrs.define(eq=False)
class SubscriberActions:
    """What a channel's owner does to a subscriber by hand, each with a reason."""

    _uow: UnitOfWorkFactory
    _clock: Clock
    _ids: IdGenerator
    _keyring: MacKeyring
    _dashboard: OwnerDashboard
    _settings: FulfilmentSettings = attrs.field(default=None, converter=fulfilment_settings)

    async def _owned(self, viewer: Viewer, channel_id: ChannelId) -> Channel:
        channel = await self._dashboard.channel(viewer, channel_id)
        channel.ensure_owner(viewer.user_id)
        return channel

    async def grant(
        self, viewer: Viewer, channel_id: ChannelId, user_id: UserId, days: int, reason: str
    ) -> Subscription:
        """Give ``user_id`` ``days`` days free: a new subscription, or the one they have
        extended (from its end while active, from now otherwise), saved as a paid
        period is. A period it enters gets a grant and the invite goes out as after a
        payment; an active one gets its link moved to the new end and sent again.
        Raises UnknownChannel, NotAuthorized, InvalidChannel (no reason, bad days)."""
        why = required_reason(reason)
        if not 1 <= days <= MAX_COMP_DAYS:
            raise InvalidChannel(Why.GRANT_DAYS, most=MAX_COMP_DAYS)
        channel = await self._owned(viewer, channel_id)
        for attempt in range(_ATTEMPTS):
            try:
                return await self._grant(viewer, channel, user_id, days, why)
            except Conflict:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _grant(
        self, viewer: Viewer, channel: Channel, user_id: UserId, days: int, why: str
    ) -> Subscription:
        async with self._uow() as tx:
            now = self._clock.now()
            found = await tx.subscriptions.find(user_id, channel.id)
            sub, changes = comp_changes(
                channel,
                user_id,
                found,
                days,
                now,
                _Comp(viewer, why, self._ids, self._settings.grant_mode),
            )
            await tx.payments.save(changes, now)
            await tx.commit()
        return sub

    async def revoke(
        self, viewer: Viewer, channel_id: ChannelId, user_id: UserId, reason: str
    ) -> None:
        """End ``user_id``'s subscription now: removed from the closed channel and told
        goodbye, as at expiry (both dropped if they subscribe again before it runs).
        Raises UnknownChannel, NotAuthorized, InvalidChannel, UnknownSubscriber,
        InvalidTransition (revoked already)."""
        why = required_reason(reason)
        channel = await self._owned(viewer, channel_id)
        async with self._uow() as tx:
            now = self._clock.now()
            sub = await tx.subscriptions.find(user_id, channel.id)
            if sub is None:
                raise UnknownSubscriber(Why.NO_SUCH_SUBSCRIBER)
            sub.revoke()
            await tx.subscriptions.update(sub)
            await tx.outbox.enqueue(
                f"remove:{sub.id}:{sub.period}",
                RemoveMember(channel.closed_chat_id, sub.user_id),
                now,
            )
            await leave_key(tx, f"leave:{sub.id}:{sub.period}", sub, now)
            await tx.outbox.enqueue(
                f"ended:{sub.id}:{sub.period}",
                SendMessage(
                    ChatId(sub.user_id),
                    notices.ended_message(
                        channel.title, OfferToken(channel.id, sub.tier), self._keyring
                    ),
                    standing=Standing(sub.id, active=False),
                ),
                now,
            )
            await tx.audit.append(
                AuditRecord(
                    f"user:{viewer.user_id}",
                    "subscription.revoked",
                    f"subscription:{sub.id}",
                    {"reason": why, "user": str(user_id), "period": str(sub.period)},
                ),
                now,
            )
            await tx.commit()

    async def resend(
        self, viewer: Viewer, channel_id: ChannelId, user_id: UserId, reason: str
    ) -> None:
        """Send ``user_id`` their access link again, made good until their end, as the
        link button of the bot's ``/status`` does (one message per minute however
        often it is asked).
        Raises UnknownChannel, NotAuthorized, InvalidChannel, UnknownSubscriber,
        NoActiveSubscription."""
        why = required_reason(reason)
        channel = await self._owned(viewer, channel_id)
        async with self._uow() as tx:
            now = self._clock.now()
            sub = await tx.subscriptions.find(user_id, channel.id)
            if sub is None:
                raise UnknownSubscriber(Why.NO_SUCH_SUBSCRIBER)
            if not sub.is_active_at(now):
                raise NoActiveSubscription(Why.SUBSCRIPTION_NOT_ACTIVE)
            grant = await tx.grants.latest_for(sub.id)
            window = int(now.timestamp() // _RESEND_WINDOW.total_seconds())
            if grant is not None and grant.invite_link is not None and grant.period == sub.period:
                await tx.outbox.enqueue(
                    f"resend:{grant.id}:{window}",
                    RefreshInvite(sub.id, send_key=f"resent:{grant.id}:{window}"),
                    now,
                )
            elif grant is not None and grant.status is GrantStatus.QUEUED:
                await tx.outbox.enqueue(f"grant:{grant.id}", IssueInvite(grant.id), now)
            else:
                raise NoActiveSubscription(Why.ACCESS_PREPARING)
            await tx.audit.append(
                AuditRecord(
                    f"user:{viewer.user_id}",
                    "access.resent",
                    f"subscription:{sub.id}",
                    {"reason": why, "user": str(user_id)},
                ),
                now,
            )
            await tx.commit()


@attrs.frozen
class _Comp:
    viewer: Viewer
    reason: str
    ids: IdGenerator
    mode: GrantMode


def comp_changes(
    channel: Channel,
    user_id: UserId,
    found: Subscription | None,
    days: int,
    now: datetime,
    comp: _Comp,
) -> tuple[Subscription, PaymentChanges]:
    """What ``days`` days given by hand change, in the shape of a paid period's
    changes: ``found`` (or a new subscription at the channel's first tier) extended,
    a grant for a period it enters with its invite queued, else its link moved to
    the new end and sent again; audited with who gave it and why."""
    length, action = timedelta(days=days), comp.ids.new_id()
    if found is None:
        tier = channel.tiers[0].number if channel.tiers else 1
        sub = Subscription.start(
            SubscriptionId(comp.ids.new_id()), user_id, channel.id, tier, length, now
        )
        activated = True
    else:
        sub = attrs.evolve(found)
        activated = sub.extend(length, sub.tier, now)
    details = {
        "reason": comp.reason,
        "days": str(days),
        "user": str(user_id),
        "expires_at": sub.expires_at.isoformat(),
        "period": str(sub.period),
    }
    actor = f"user:{comp.viewer.user_id}"
    audit = [AuditRecord(actor, "subscription.comp", f"subscription:{sub.id}", details)]
    messages: list[tuple[str, Effect]] = []
    grants: list[AccessGrant] = []
    if activated:
        grant = AccessGrant(
            id=GrantId(comp.ids.new_id()),
            subscription_id=sub.id,
            user_id=user_id,
            channel_id=channel.id,
            period=sub.period,
            mode=comp.mode,
            created_at=now,
        )
        grants.append(grant)
        audit.append(AuditRecord("system", "grant.queued", f"grant:{grant.id}"))
        messages.append((f"grant:{grant.id}", IssueInvite(grant.id)))
    else:
        # The link was made to expire at the old end: it moves along, and is sent.
        messages.append((f"comp:{action}", RefreshInvite(sub.id, send_key=f"comp-sent:{action}")))
    changes = PaymentChanges(
        new_subscriptions=[sub] if found is None else [],
        changed_subscriptions=[] if found is None else [sub],
        grants=grants,
        audit=audit,
        messages=messages,
    )
    return sub, changes
