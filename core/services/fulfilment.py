"""What a confirmed payment buys, written in the same unit of work that moved the
intent into the paying status: the subscription created or extended and its grant
queued, or the donation recorded; the payer and the owner told through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.donation import Donation
from core.domain.grant import AccessGrant, GrantMode
from core.domain.ids import ChatId, DonationId, GrantId, SubscriptionId
from core.domain.outbox import IssueInvite, SendMessage
from core.domain.payment import PaymentIntent, ProviderNotification, Purpose
from core.domain.subscription import Subscription
from core.ports.clock import IdGenerator
from core.ports.repositories import UnitOfWork
from core.services import notices


@attrs.frozen
class FulfilmentSettings:
    grant_mode: GrantMode = GrantMode.JOIN_REQUEST


class Fulfilment:
    def __init__(self, ids: IdGenerator, settings: FulfilmentSettings | None = None) -> None:
        self._ids = ids
        self._settings = settings or FulfilmentSettings()

    async def fulfil(
        self,
        tx: UnitOfWork,
        intent: PaymentIntent,
        notification: ProviderNotification,
        now: datetime,
    ) -> None:
        channel = await tx.channels.get(intent.channel_id)
        if intent.purpose is Purpose.DONATION:
            await self._donation(tx, intent, channel, notification, now)
        else:
            await self._subscription(tx, intent, channel, notification, now)

    async def _subscription(
        self,
        tx: UnitOfWork,
        intent: PaymentIntent,
        channel: Channel,
        notification: ProviderNotification,
        now: datetime,
    ) -> None:
        if intent.tier is None or intent.duration_days is None:
            raise ValueError(f"subscription intent {intent.id} lacks its tier")
        length = timedelta(days=intent.duration_days)
        subscription = await tx.subscriptions.find(intent.user_id, intent.channel_id)
        if subscription is None:
            subscription = Subscription.start(
                SubscriptionId(self._ids.new_id()),
                intent.user_id,
                intent.channel_id,
                intent.tier,
                length,
                now,
            )
            await tx.subscriptions.add(subscription)
            activated, renewal = True, False
        else:
            renewal = True
            activated = subscription.extend(length, intent.tier, now)
            await tx.subscriptions.update(subscription)
        action = "subscription.started" if activated else "subscription.extended"
        await tx.audit.append(
            AuditRecord(
                "system",
                action,
                f"subscription:{subscription.id}",
                {
                    "intent": intent.id,
                    "expires_at": subscription.expires_at.isoformat(),
                    "period": str(subscription.period),
                },
            ),
            now,
        )
        user_chat = ChatId(intent.user_id)
        if activated:
            grant = AccessGrant(
                id=GrantId(self._ids.new_id()),
                subscription_id=subscription.id,
                user_id=intent.user_id,
                channel_id=intent.channel_id,
                period=subscription.period,
                mode=self._settings.grant_mode,
                created_at=now,
            )
            if await tx.grants.add(grant):
                await tx.outbox.enqueue(f"grant:{grant.id}", IssueInvite(grant.id), now)
                await tx.audit.append(
                    AuditRecord("system", "grant.queued", f"grant:{grant.id}"), now
                )
        else:
            await tx.outbox.enqueue(
                f"renewed:{intent.id}",
                SendMessage(
                    user_chat, notices.renewed_message(channel.title, subscription.expires_at)
                ),
                now,
            )
        await tx.outbox.enqueue(
            f"owner-paid:{intent.id}",
            SendMessage(
                ChatId(channel.owner_id),
                notices.owner_payment_message(
                    channel.title,
                    notices.days(intent.duration_days),
                    intent.user_id,
                    intent.price,
                    notification.actually_paid,
                    renewal,
                ),
            ),
            now,
        )

    async def _donation(
        self,
        tx: UnitOfWork,
        intent: PaymentIntent,
        channel: Channel,
        notification: ProviderNotification,
        now: datetime,
    ) -> None:
        donation = Donation(
            DonationId(self._ids.new_id()), intent.id, intent.user_id, channel.id, intent.price, now
        )
        if not await tx.donations.add(donation):
            return
        await tx.audit.append(
            AuditRecord(
                "system",
                "donation.received",
                f"donation:{donation.id}",
                {"intent": intent.id, "amount": str(intent.price)},
            ),
            now,
        )
        await tx.outbox.enqueue(
            f"thanks:{intent.id}",
            SendMessage(
                ChatId(intent.user_id), notices.donation_thanks_message(channel.title, intent.price)
            ),
            now,
        )
        await tx.outbox.enqueue(
            f"owner-donation:{intent.id}",
            SendMessage(
                ChatId(channel.owner_id),
                notices.owner_donation_message(
                    channel.title, intent.user_id, intent.price, notification.actually_paid
                ),
            ),
            now,
        )
