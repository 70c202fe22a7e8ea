"""Whether a queued effect still applies when its turn comes.

The outbox performs an effect minutes to an hour after it was queued when Telegram
asks for a pause or is down. Meanwhile a subscriber may have paid again, or a
renewal may have moved the end a reminder speaks of. So just before an effect is
performed, what it assumes is read again:

- a removal goes ahead only while no subscription opening that chat is active (someone
  who paid again stays, and so does someone let in by a bundle or by their own
  subscription to a channel in a bundle that ended);
- a join request is answered by the subscription as it stands then: approved while
  it is active, declined otherwise (an approval queued just before the end, or a
  decline just before a payment, would be wrong by the time it goes out);
- a message carrying a :class:`~core.domain.outbox.Standing` goes out only while the
  subscription is (or is not) active and, for a reminder, still ends when it said.

An effect that no longer applies is :class:`Dropped`: settled without being performed
and audited by the dispatcher. A grant checks its own subscription when it runs
(:mod:`core.services.grant_access`).
"""

from __future__ import annotations

import attrs

from core.domain.ids import ChatId, UserId
from core.domain.outbox import ApproveJoin, DeclineJoin, Effect, RemoveMember, SendMessage
from core.domain.subscription import Subscription
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.services.bundle_access import opening_subscription


@attrs.frozen
class Dropped:
    """The effect no longer applies; ``why`` is audited."""

    why: str


async def judge_effect(uow: UnitOfWorkFactory, clock: Clock, effect: Effect) -> Effect | Dropped:
    """The effect to perform now (the queued one, or the other answer to a join
    request), or Dropped. Reads the store only for effects that assume something."""
    match effect:
        case SendMessage(standing=None):
            return effect
        case SendMessage(standing=standing) if standing is not None:
            async with uow() as tx:
                try:
                    sub = await tx.subscriptions.get(standing.subscription_id)
                except NotFound:
                    return Dropped("the subscription is gone")
            now = clock.now()
            if sub.is_active_at(now) != standing.active:
                state = "active again" if standing.active is False else "no longer active"
                return Dropped(f"the subscription is {state}")
            if standing.expires_at is not None and sub.expires_at != standing.expires_at:
                return Dropped(f"the subscription now ends {sub.expires_at:%Y-%m-%d %H:%M} UTC")
            return effect
        case RemoveMember(chat_id=chat, user_id=user):
            member = await _membership(uow, clock, chat, user)
            if member is not None and member.is_active_at(clock.now()):
                return Dropped(f"paid again: active until {member.expires_at:%Y-%m-%d %H:%M} UTC")
            return effect
        case ApproveJoin(chat_id=chat, user_id=user) | DeclineJoin(chat_id=chat, user_id=user):
            member = await _membership(uow, clock, chat, user)
            if member is not None and member.is_active_at(clock.now()):
                return ApproveJoin(chat, user)
            return DeclineJoin(chat, user)
    return effect


async def _membership(
    uow: UnitOfWorkFactory, clock: Clock, chat: ChatId, user: UserId
) -> Subscription | None:
    """The user's subscription that opens the closed chat (theirs to its channel, or
    to a channel bundling it; None when the chat is no closed chat of ours, or there
    is none)."""
    async with uow() as tx:
        channel = await tx.channels.by_chat(chat)
        if channel is None or channel.closed_chat_id != chat:
            return None
        return await opening_subscription(tx, channel, user, clock.now())
