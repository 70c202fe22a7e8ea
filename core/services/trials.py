"""Trials: an owner sets a channel's trial; a person takes it once, ever.

A free trial is granted here, the way a payment's access is (a subscription started
or extended, a grant queued, the invite link sent through the outbox), in the same
unit of work as the durable record that this person had this channel's trial. The
record's uniqueness is what makes a double press, or two presses racing in two
processes, give one trial: the second waits for the first and finds the record.

A paid trial is a checkout (:class:`~core.services.checkout.StartCheckout`); once
paid it is a fulfilled payment, which refuses any further trial as every payment
does. The end of a trial is an ordinary expiry, with its reminders.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.errors import InvalidToken, SalesPaused, Why
from core.domain.grant import AccessGrant
from core.domain.ids import ChannelId, GrantId, SubscriptionId, UserId
from core.domain.outbox import IssueInvite
from core.domain.subscription import Subscription
from core.domain.trial import TRIAL_TIER, TrialOffer, TrialRefusal, TrialUnavailable, trial_refusal
from core.ports.clock import Clock, IdGenerator
from core.ports.errors import NotFound
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services.channel_settings import owned_by_its_creator
from core.services.creators import CreatorCheck
from core.services.fulfilment import FulfilmentSettings, fulfilment_settings


@attrs.frozen
class TrialStarted:
    title: str
    days: int
    expires_at: datetime


@attrs.define(eq=False)
class TakeTrial:
    """A person takes a channel's free trial: once per person per channel, ever, and
    never after paying for it."""

    _uow: UnitOfWorkFactory
    _clock: Clock
    _ids: IdGenerator
    _settings: FulfilmentSettings = attrs.field(default=None, converter=fulfilment_settings)

    async def ensure_eligible(self, user_id: UserId, channel_id: ChannelId) -> None:
        """Whether the person may have the channel's trial, free or paid (before a paid
        one's offer is shown); TrialUnavailable if not."""
        async with self._uow() as tx:
            channel = await _channel(tx, channel_id)
            refusal = trial_refusal(
                channel.trial is not None,
                await tx.trials.taken(channel.id, user_id),
                await tx.trials.paid_before(channel.id, user_id),
            )
        if refusal is not None:
            raise TrialUnavailable(refusal)

    async def execute(self, user_id: UserId, channel_id: ChannelId) -> TrialStarted:
        """Raises TrialUnavailable (not offered, already taken, already paid),
        SalesPaused, InvalidToken (the channel is gone)."""
        async with self._uow() as tx:
            now = self._clock.now()
            channel = await _channel(tx, channel_id)
            trial = channel.trial
            refusal = trial_refusal(
                trial is not None and trial.is_free,
                await tx.trials.taken(channel.id, user_id),
                await tx.trials.paid_before(channel.id, user_id),
            )
            if refusal is not None or trial is None:
                raise TrialUnavailable(refusal or TrialRefusal.NOT_OFFERED)
            if not await tx.trials.add(channel.id, user_id, now):
                raise TrialUnavailable(TrialRefusal.ALREADY_TAKEN)  # a press racing this one
            changes = self._grant(
                await tx.subscriptions.find(user_id, channel.id), channel, trial, user_id, now
            )
            await tx.payments.save(changes, now)
            await tx.commit()
        subscription = (changes.new_subscriptions or changes.changed_subscriptions)[0]
        return TrialStarted(channel.title, trial.days, subscription.expires_at)

    def _grant(
        self,
        found: Subscription | None,
        channel: Channel,
        trial: TrialOffer,
        user_id: UserId,
        now: datetime,
    ) -> PaymentChanges:
        length = timedelta(days=trial.days)
        if found is None:
            sub = Subscription.start(
                SubscriptionId(self._ids.new_id()), user_id, channel.id, TRIAL_TIER, length, now
            )
            activated = True
        else:
            sub = copy.copy(found)
            activated = sub.extend(length, TRIAL_TIER, now)
        grant = None
        if activated:
            grant = AccessGrant(
                id=GrantId(self._ids.new_id()),
                subscription_id=sub.id,
                user_id=user_id,
                channel_id=channel.id,
                period=sub.period,
                mode=self._settings.grant_mode,
                created_at=now,
            )
        details = {"days": str(trial.days), "expires_at": sub.expires_at.isoformat()}
        audit = [AuditRecord(f"user:{user_id}", "trial.started", f"subscription:{sub.id}", details)]
        messages = []
        if grant is not None:
            audit.append(AuditRecord("system", "grant.queued", f"grant:{grant.id}"))
            messages.append((f"grant:{grant.id}", IssueInvite(grant.id)))
        return PaymentChanges(
            new_subscriptions=[sub] if found is None else [],
            changed_subscriptions=[] if found is None else [sub],
            grants=[] if grant is None else [grant],
            audit=audit,
            messages=messages,
        )


async def _channel(tx: UnitOfWork, channel_id: ChannelId) -> Channel:
    try:
        channel = await tx.channels.get(channel_id)
    except NotFound as exc:
        raise InvalidToken(Why.OFFER_GONE) from exc
    if channel.sales_paused:
        raise SalesPaused(Why.SALES_PAUSED, title=channel.title)
    return channel


@attrs.define(eq=False)
class SetTrial:
    """The owner offers a trial (``/trial 7d``, ``/trial 3d 1USD``) or none (``/trial off``)."""

    _uow: UnitOfWorkFactory
    _clock: Clock
    _creators: CreatorCheck = attrs.field(alias="chat_access", converter=CreatorCheck)

    async def execute(
        self, actor: UserId, channel_id: ChannelId, trial: TrialOffer | None
    ) -> Channel:
        await owned_by_its_creator(self._uow, self._creators, channel_id, actor)
        async with self._uow() as tx:
            channel = await tx.channels.get(channel_id)
            channel.ensure_owner(actor)
            channel.set_trial(trial)
            await tx.channels.update(channel)
            details = {} if trial is None else {"days": str(trial.days), "price": str(trial.price)}
            await tx.audit.append(
                AuditRecord(f"user:{actor}", "channel.trial_set", f"channel:{channel.id}", details),
                self._clock.now(),
            )
            await tx.commit()
            return channel
