"""What a confirmed payment buys, written in the same unit of work that moved the
intent into the paying status: the subscription created or extended and its grant
queued, or the donation recorded; the payer and the owner told through the outbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.donation import Donation
from core.domain.grant import AccessGrant, GrantMode
from core.domain.ids import ChannelId, ChatId, DonationId, GrantId, SubscriptionId, UserId
from core.domain.outbox import Effect, IssueInvite, RefreshInvite, SendMessage
from core.domain.payment import PaymentIntent, ProviderNotification, Purpose
from core.domain.subscription import Subscription
from core.ports.clock import IdGenerator
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWork
from core.services import notices


@attrs.frozen
class FulfilmentSettings:
    grant_mode: GrantMode = GrantMode.JOIN_REQUEST


class Fulfilment:
    def __init__(self, ids: IdGenerator, settings: FulfilmentSettings | None = None) -> None:
        self._ids = ids
        self._settings = settings or FulfilmentSettings()

    async def fulfil_many(
        self,
        tx: UnitOfWork,
        paid: Sequence[tuple[PaymentIntent, ProviderNotification]],
        now: datetime,
    ) -> None:
        """Fulfil each paid intent, with one statement per step for all of them.
        At most one subscription intent per (user, channel) (ValueError otherwise):
        a second one would extend what the first creates, so it belongs to a later
        unit of work."""
        buyers = [(i.user_id, i.channel_id) for i, _ in paid if i.purpose is Purpose.SUBSCRIPTION]
        if len(set(buyers)) != len(buyers):
            raise ValueError("one subscription payment per user and channel in a unit of work")
        wanted = {intent.channel_id for intent, _ in paid}
        channels = await tx.channels.get_many(wanted)
        if missing := wanted - channels.keys():
            raise NotFound(f"no channel {sorted(missing)[0]}")
        found = await tx.subscriptions.find_many(set(buyers)) if buyers else {}
        done = [
            self._purchase(intent, channels[intent.channel_id], found, notification, now)
            for intent, notification in paid
        ]
        await _store(tx, done)
        messages: list[tuple[str, Effect]] = []
        for purchase in done:
            for record in purchase.records():
                await tx.audit.append(record, now)
            messages.extend(purchase.messages())
        if messages:
            await tx.outbox.enqueue_many(messages, now)

    def _purchase(
        self,
        intent: PaymentIntent,
        channel: Channel,
        found: Mapping[tuple[UserId, ChannelId], Subscription],
        notification: ProviderNotification,
        now: datetime,
    ) -> _Purchase:
        purchase = _Purchase(intent, channel, notification)
        if intent.purpose is Purpose.DONATION:
            purchase.donation = Donation(
                DonationId(self._ids.new_id()),
                intent.id,
                intent.user_id,
                channel.id,
                intent.price,
                now,
            )
            return purchase
        if intent.tier is None or intent.duration_days is None:
            raise ValueError(f"subscription intent {intent.id} lacks its tier")
        length = timedelta(days=intent.duration_days)
        subscription = found.get((intent.user_id, intent.channel_id))
        if subscription is None:
            subscription = Subscription.start(
                SubscriptionId(self._ids.new_id()),
                intent.user_id,
                intent.channel_id,
                intent.tier,
                length,
                now,
            )
            purchase.new, purchase.activated = True, True
        else:
            purchase.activated = subscription.extend(length, intent.tier, now)
        purchase.subscription = subscription
        if purchase.activated:
            purchase.grant = AccessGrant(
                id=GrantId(self._ids.new_id()),
                subscription_id=subscription.id,
                user_id=intent.user_id,
                channel_id=intent.channel_id,
                period=subscription.period,
                mode=self._settings.grant_mode,
                created_at=now,
            )
        return purchase


@attrs.define
class _Purchase:
    """What one paid intent buys: computed first, stored with the others of the batch,
    then told (audit records and messages) by what the store took."""

    intent: PaymentIntent
    channel: Channel
    notification: ProviderNotification
    subscription: Subscription | None = None
    new: bool = False
    activated: bool = False
    grant: AccessGrant | None = None
    donation: Donation | None = None
    donated: bool = False
    """The store took the donation (it refuses a second one for the same intent)."""

    def records(self) -> list[AuditRecord]:
        intent, sub = self.intent, self.subscription
        if self.donation is not None:
            if not self.donated:
                return []
            return [
                AuditRecord(
                    "system",
                    "donation.received",
                    f"donation:{self.donation.id}",
                    {"intent": intent.id, "amount": str(intent.price)},
                )
            ]
        assert sub is not None
        action = "subscription.started" if self.activated else "subscription.extended"
        details = {
            "intent": intent.id,
            "expires_at": sub.expires_at.isoformat(),
            "period": str(sub.period),
        }
        records = [AuditRecord("system", action, f"subscription:{sub.id}", details)]
        if self.grant is not None:
            records.append(AuditRecord("system", "grant.queued", f"grant:{self.grant.id}"))
        return records

    def messages(self) -> list[tuple[str, Effect]]:
        intent, channel, paid = self.intent, self.channel, self.notification.actually_paid
        owner, payer = ChatId(channel.owner_id), ChatId(intent.user_id)
        if self.donation is not None:
            if not self.donated:
                return []
            thanks = notices.donation_thanks_message(channel.title, intent.price)
            told = notices.owner_donation_message(channel.title, intent.user_id, intent.price, paid)
            return [
                (f"thanks:{intent.id}", SendMessage(payer, thanks)),
                (f"owner-donation:{intent.id}", SendMessage(owner, told, fold=notices.OWNER_FOLD)),
            ]
        assert self.subscription is not None and intent.duration_days is not None
        messages: list[tuple[str, Effect]] = []
        if self.grant is not None:
            messages.append((f"grant:{self.grant.id}", IssueInvite(self.grant.id)))
        else:
            renewed = notices.renewed_message(channel.title, self.subscription.expires_at)
            messages.append((f"renewed:{intent.id}", SendMessage(payer, renewed)))
            # The access link was made to expire at the old end: it moves along.
            messages.append((f"relink:{intent.id}", RefreshInvite(self.subscription.id)))
        told = notices.owner_payment_message(
            channel.title,
            notices.days(intent.duration_days),
            intent.user_id,
            intent.price,
            paid,
            not self.new,
        )
        messages.append(
            (f"owner-paid:{intent.id}", SendMessage(owner, told, fold=notices.OWNER_FOLD))
        )
        return messages


async def _store(tx: UnitOfWork, done: Sequence[_Purchase]) -> None:
    """One statement per kind of row for the whole batch."""
    new = [p.subscription for p in done if p.new and p.subscription is not None]
    changed = [p.subscription for p in done if not p.new and p.subscription is not None]
    if new:
        await tx.subscriptions.add_many(new)
    if changed:
        await tx.subscriptions.update_many(changed)
    # A grant is for a period its subscription has just entered: one that exists
    # means someone else moved the subscription meanwhile (Conflict: judged again).
    grants = [p.grant for p in done if p.grant is not None]
    if grants:
        await tx.grants.add_many(grants)
    donating = [p for p in done if p.donation is not None]
    if donating:
        taken = await tx.donations.add_many([p.donation for p in donating if p.donation])
        for purchase, took in zip(donating, taken, strict=True):
            purchase.donated = took
