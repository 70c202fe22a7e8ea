"""What a payment that did not simply succeed calls for, saved with the notification
that reported it (:mod:`core.services.verify_payment`), worked out from what the
batch loaded, with no I/O:

- a refund of a fulfilled payment takes back what it bought: the time it added to
  the subscription (or, when nothing paid is left, the subscription itself, and the
  member is removed); the subscriber and the owner are told and it is audited;
- a partial payment tells the payer what arrived, what is missing and how to
  complete it (the provider keeps the address open); one the provider closed with
  too little money tells them it cannot buy access as it is.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime, timedelta

from core.domain.audit import AuditRecord
from core.domain.figures import DailyFigure, FigureKind
from core.domain.ids import ChatId
from core.domain.outbox import Effect, LeaveBundle, RemoveMember, SendMessage
from core.domain.payment import PaymentIntent, ProviderNotification, Purpose
from core.domain.subscription import Subscription
from core.ports.payment_ledger import PaymentBook, PaymentChanges
from core.services import notices


def take_back_refunds(
    refunded: Sequence[PaymentIntent], book: PaymentBook, now: datetime
) -> PaymentChanges:
    """Each intent was fulfilled and is now refunded; one per (user, channel)."""
    changed: list[Subscription] = []
    messages: list[tuple[str, Effect]] = []
    records: list[AuditRecord] = []
    figures: list[DailyFigure] = []
    for intent in refunded:
        channel = book.channels.get(intent.channel_id)
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
            found = book.subscriptions.get((intent.user_id, intent.channel_id))
            if found is None or intent.fulfilled_at is None:
                continue
            if intent.duration_days is not None:
                length = timedelta(days=intent.duration_days)
            elif intent.ends_at is not None:
                # A lifetime or a season: what it bought runs from its payment on.
                length = max(found.expires_at - intent.fulfilled_at, timedelta(seconds=1))
            else:
                continue
            sub = copy.copy(found)  # the book stays as it was read
            ended = sub.take_back(length, intent.fulfilled_at, now)
            if sub.is_active_at(now):
                ends = sub.expires_at
            changed.append(sub)
            if ended:
                figures.append(DailyFigure.churn(channel.id, now))
                messages.append(
                    (
                        f"refund-remove:{intent.id}",
                        RemoveMember(channel.closed_chat_id, intent.user_id),
                    )
                )
                # The book does not hold bundles: the removal from a bundle's other
                # chats is worked out when it runs (nothing, for a channel without).
                messages.append(
                    (
                        f"refund-leave:{intent.id}",
                        LeaveBundle(channel.id, intent.user_id, f"refund-leave:{intent.id}"),
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
        records.append(AuditRecord("system", action, subject, details))
        figures.append(DailyFigure.money(channel.id, now, FigureKind.REFUND, intent.price))
    return PaymentChanges(
        changed_subscriptions=changed, audit=records, messages=messages, figures=figures
    )


def tell_partial_payments(
    partial: Sequence[tuple[PaymentIntent, ProviderNotification, bool]], book: PaymentBook
) -> PaymentChanges:
    """Each (intent, notification, closed): ``closed`` when the provider closed the
    payment with too little money, otherwise the rest may still be sent."""
    messages: list[tuple[str, Effect]] = []
    for intent, n, closed in partial:
        channel = book.channels.get(intent.channel_id)
        if channel is None:
            continue
        message = notices.partial_payment_message(
            channel.title, n.pay_amount, n.actually_paid, intent.invoice_url, closed
        )
        key = f"partial:{intent.id}:{n.payment_id}:{n.status}"
        messages.append((key, SendMessage(ChatId(intent.user_id), message)))
    return PaymentChanges(messages=messages)
