"""What a payment that did not simply succeed calls for, written in the unit of work
that recorded the notification (:mod:`core.services.verify_payment`):

- a refund of a fulfilled payment takes back what it bought: the time it added to
  the subscription (or, when nothing paid is left, the subscription itself, and the
  member is removed); the subscriber and the owner are told and it is audited;
- a partial payment tells the payer what arrived, what is missing and how to
  complete it (the provider keeps the address open); one the provider closed with
  too little money tells them it cannot buy access as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from core.domain.audit import AuditRecord
from core.domain.ids import ChatId
from core.domain.outbox import Effect, RemoveMember, SendMessage
from core.domain.payment import PaymentIntent, ProviderNotification, Purpose
from core.domain.subscription import Subscription
from core.ports.repositories import UnitOfWork
from core.services import notices


async def take_back_refunds(
    tx: UnitOfWork, refunded: Sequence[PaymentIntent], now: datetime
) -> None:
    """Each intent was fulfilled and is now refunded; one per (user, channel)."""
    channels = await tx.channels.get_many({i.channel_id for i in refunded})
    buyers = {(i.user_id, i.channel_id) for i in refunded if i.purpose is Purpose.SUBSCRIPTION}
    found = await tx.subscriptions.find_many(buyers) if buyers else {}
    changed: list[Subscription] = []
    messages: list[tuple[str, Effect]] = []
    for intent in refunded:
        channel = channels.get(intent.channel_id)
        if channel is None:
            continue  # the channel is gone: nothing to take back, nobody to tell
        payer, owner = ChatId(intent.user_id), ChatId(channel.owner_id)
        donation = intent.purpose is Purpose.DONATION
        ends: datetime | None = None
        details = {"intent": intent.id, "amount": str(intent.price)}
        if donation:
            action, subject = "donation.refunded", f"intent:{intent.id}"
            told = notices.donation_refunded_message(channel.title, intent.price)
        else:
            sub = found.get((intent.user_id, intent.channel_id))
            if sub is None or intent.duration_days is None or intent.fulfilled_at is None:
                continue
            ended = sub.take_back(timedelta(days=intent.duration_days), intent.fulfilled_at, now)
            if sub.is_active_at(now):
                ends = sub.expires_at
            changed.append(sub)
            if ended:
                messages.append(
                    (
                        f"refund-remove:{intent.id}",
                        RemoveMember(channel.closed_chat_id, intent.user_id),
                    )
                )
            action, subject = "subscription.refunded", f"subscription:{sub.id}"
            details["expires_at"] = sub.expires_at.isoformat()
            details["status"] = str(sub.status)
            told = notices.refunded_message(channel.title, intent.price, ends)
        messages.append((f"refunded:{intent.id}", SendMessage(payer, told)))
        messages.append(
            (
                f"owner-refund:{intent.id}",
                SendMessage(
                    owner,
                    notices.owner_refund_message(
                        channel.title, intent.user_id, intent.price, ends, donation
                    ),
                    fold=notices.OWNER_FOLD,
                ),
            )
        )
        await tx.audit.append(AuditRecord("system", action, subject, details), now)
    if changed:
        await tx.subscriptions.update_many(changed)
    if messages:
        await tx.outbox.enqueue_many(messages, now)


async def tell_partial_payments(
    tx: UnitOfWork,
    partial: Sequence[tuple[PaymentIntent, ProviderNotification, bool]],
    now: datetime,
) -> None:
    """Each (intent, notification, closed): ``closed`` when the provider closed the
    payment with too little money, otherwise the rest may still be sent."""
    channels = await tx.channels.get_many({i.channel_id for i, _, _ in partial})
    messages: list[tuple[str, Effect]] = []
    for intent, n, closed in partial:
        channel = channels.get(intent.channel_id)
        if channel is None:
            continue
        message = notices.partial_payment_message(
            channel.title, n.pay_amount, n.actually_paid, intent.invoice_url, closed
        )
        key = f"partial:{intent.id}:{n.payment_id}:{n.status}"
        messages.append((key, SendMessage(ChatId(intent.user_id), message)))
    if messages:
        await tx.outbox.enqueue_many(messages, now)
