"""What a confirmed payment buys, saved with the move of the intent into the paying
status: the subscription created or extended and its grant queued, or the donation
recorded; the payer and the owner told through the outbox. Worked out from what the
batch loaded (:class:`~core.ports.payment_ledger.PaymentBook`), with no I/O."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.donation import Donation
from core.domain.figures import DailyFigure, FigureKind
from core.domain.grant import AccessGrant, GrantMode
from core.domain.ids import ChatId, DonationId, GrantId, SubscriptionId
from core.domain.outbox import Effect, IssueInvite, RefreshInvite, SendMessage
from core.domain.payment import PaymentIntent, ProviderNotification, Purpose
from core.domain.subscription import Subscription
from core.ports.clock import IdGenerator
from core.ports.errors import NotFound
from core.ports.payment_ledger import PaymentBook, PaymentChanges
from core.services import notices


@attrs.frozen
class FulfilmentSettings:
    grant_mode: GrantMode = GrantMode.JOIN_REQUEST


def fulfilment_settings(given: FulfilmentSettings | None) -> FulfilmentSettings:
    """None (a setting a container leaves unset) means the defaults."""
    return given or FulfilmentSettings()


@attrs.define(eq=False)
class Fulfilment:
    _ids: IdGenerator
    _settings: FulfilmentSettings = attrs.field(default=None, converter=fulfilment_settings)

    def fulfil(
        self,
        paid: Sequence[tuple[PaymentIntent, ProviderNotification]],
        book: PaymentBook,
        now: datetime,
    ) -> PaymentChanges:
        """What each paid intent buys. At most one subscription intent per (user,
        channel) (ValueError otherwise): a second one would extend what the first
        creates, so it belongs to a later unit of work. Raises NotFound when a paid
        intent's channel is gone."""
        buyers = [(i.user_id, i.channel_id) for i, _ in paid if i.purpose is Purpose.SUBSCRIPTION]
        if len(set(buyers)) != len(buyers):
            raise ValueError("one subscription payment per user and channel in a unit of work")
        wanted = {intent.channel_id for intent, _ in paid}
        if missing := wanted - book.channels.keys():
            raise NotFound(f"no channel {sorted(missing)[0]}")
        done = [
            self._purchase(intent, book.channels[intent.channel_id], book, notification, now)
            for intent, notification in paid
        ]
        return PaymentChanges(
            new_subscriptions=[p.subscription for p in done if p.new and p.subscription],
            changed_subscriptions=[p.subscription for p in done if not p.new and p.subscription],
            # A grant is for a period its subscription has just entered: one that exists
            # means someone else moved the subscription meanwhile (Conflict: judged again).
            grants=[p.grant for p in done if p.grant is not None],
            donations=[p.donation for p in done if p.donation is not None],
            audit=[record for p in done for record in p.records()],
            messages=[message for p in done for message in p.messages()],
            figures=[p.figure(now) for p in done],
        )

    def _purchase(
        self,
        intent: PaymentIntent,
        channel: Channel,
        book: PaymentBook,
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
        found = book.subscriptions.get((intent.user_id, intent.channel_id))
        # Extended on a copy: the book stays as it was read.
        subscription = None if found is None else copy.copy(found)
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
    """What one paid intent buys, and how it is told (audit records and messages)."""

    intent: PaymentIntent
    channel: Channel
    notification: ProviderNotification
    subscription: Subscription | None = None
    new: bool = False
    activated: bool = False
    grant: AccessGrant | None = None
    donation: Donation | None = None

    def figure(self, now: datetime) -> DailyFigure:
        """What it adds to the channel's day: a donation, or a subscription that starts
        a term (new) or extends an active one (renewed), at the price asked."""
        if self.donation is not None:
            kind = FigureKind.DONATION
        else:
            kind = FigureKind.NEW if self.activated else FigureKind.RENEWED
        return DailyFigure.money(self.channel.id, now, kind, self.intent.price)

    def records(self) -> list[AuditRecord]:
        intent, sub = self.intent, self.subscription
        if self.donation is not None:
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
