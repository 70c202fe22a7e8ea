"""The dashboard's Subscribers section, as use cases: find subscribers, see one
subscriber's record in a channel, and act on it by hand.

Who may see what follows :class:`~core.services.dashboard.OwnerDashboard`: an owner
sees only the subscribers of their own channels, an operator those of every channel;
a channel the viewer may not see answers exactly like one that does not exist. Only a
channel's owner acts on its subscribers (an operator looks, and changes nothing that
is not theirs). Every action takes a reason and is audited with the person acting.

The actions take the paths the bot takes: a grant by hand is saved through the
payment ledger as a paid period is (the subscription started or extended, a grant
queued for a period it enters, the invite sent through the outbox by
:class:`~core.services.grant_access.GrantAccess`), a revocation queues the removal
and goodbye that expiry queues, and a resend queues the refresh that the link button
of ``/status`` does.
Each effect is judged again when the outbox runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs

from core.domain.audit import AuditEvent
from core.domain.channel import Channel
from core.domain.errors import DomainError, Why
from core.domain.grant import AccessGrant, GrantStatus
from core.domain.ids import ChannelId, SubscriptionId, UserId, is_valid_id
from core.domain.intent_state import IntentStatus
from core.domain.outbox import OutboxMessage
from core.domain.payment import PaymentIntent
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.repositories import UnitOfWorkFactory
from core.ports.subscriber_directory import (
    DirectoryQuery,
    PersonNames,
    SubscriberDirectory,
    SubscriberKey,
    SubscriberRow,
    folded_username,
)
from core.services.dashboard import OwnerDashboard, Viewer

__all__ = [
    "PAGE_SIZE",
    "InvalidSearch",
    "SubscriberPage",
    "SubscriberRecord",
    "SubscriberSearch",
    "UnknownSubscriber",
    "decode_key",
    "encode_key",
    "user_id_of",
]

PAGE_SIZE = 50
AUDIT_ROWS = 200
REMOVAL_PERIODS = 20


class UnknownSubscriber(DomainError):
    """That person holds no subscription to that channel."""


class InvalidSearch(DomainError):
    """A search the directory cannot run (not an id nor a username, a bad page key)."""


MAX_USER_ID = 2**63 - 1
"""Telegram user ids fit in 64 signed bits (the stores keep them so)."""


def user_id_of(digits: str) -> UserId:
    """A Telegram user id written in digits. Raises InvalidSearch for anything else
    (a number too large to be one included)."""
    if not digits.isdigit() or len(digits) > 19 or int(digits) > MAX_USER_ID:
        raise InvalidSearch(Why.SEARCH_USER_ID)
    return UserId(int(digits))


def encode_key(key: SubscriberKey) -> str:
    """A page's end as it travels in the "next page" link: microseconds since the
    epoch and the subscription id."""
    at, sub_id = key
    micros = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return f"{micros}_{sub_id}"


def decode_key(text: str) -> SubscriberKey:
    """Raises InvalidSearch for anything :func:`encode_key` did not make."""
    micros, _, sub_id = text.partition("_")
    if not micros.lstrip("-").isdigit() or len(micros) > 20 or not is_valid_id(sub_id):
        raise InvalidSearch(Why.SEARCH_PAGE_BROKEN)
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
    return at, SubscriptionId(sub_id)


@attrs.frozen
class SubscriberPage:
    rows: tuple[SubscriberRow, ...]
    next_key: str | None
    """Where the next page starts; None on the last page."""
    named: tuple[UserId, ...] = ()
    """The people the search named (by id, or everyone who showed that username),
    whether or not they subscribe: an owner opens their record to grant them days."""


@attrs.frozen
class SubscriberRecord:
    """One person in one channel: what the viewer may see of them there."""

    channel_id: ChannelId
    title: str
    user_id: UserId
    username: str | None
    subscription: Subscription | None
    intents: tuple[PaymentIntent, ...]
    grants: tuple[AccessGrant, ...]
    removals: tuple[OutboxMessage, ...]
    """The removals from the closed channel queued for them (at expiry or revocation,
    one per period at most; at a refund), oldest first."""
    audit: tuple[AuditEvent, ...]
    """Newest first: events about their subscription, grants and payment intents."""
    can_act: bool
    """The viewer owns the channel (an operator looking at someone else's cannot act)."""

    @property
    def active_link(self) -> bool:
        """Whether a link can be sent again (the latest grant of the current period)."""
        sub = self.subscription
        return sub is not None and any(
            g.period == sub.period and g.status is not GrantStatus.CANCELLED for g in self.grants
        )


@attrs.define(eq=False)
class SubscriberSearch:
    _uow: UnitOfWorkFactory
    _dashboard: OwnerDashboard
    _directory: SubscriberDirectory
    _names: PersonNames

    async def channels(self, viewer: Viewer) -> Sequence[Channel]:
        """The channels whose subscribers the viewer may see (for the filter)."""
        return await self._dashboard.channels(viewer)

    async def find(
        self,
        viewer: Viewer,
        text: str = "",
        status: SubscriptionStatus | None = None,
        channel_id: ChannelId | None = None,
        after: str | None = None,
    ) -> SubscriberPage:
        """A page of the subscribers the viewer may see: all of them, or those of one
        channel (UnknownChannel for one they may not see), with one status, or the
        person ``text`` names (a Telegram user id, or a username with or without @).
        Raises InvalidSearch for a ``text`` that is neither, or a broken ``after``."""
        if channel_id is not None:
            channels: tuple[ChannelId, ...] | None = (
                (await self._dashboard.channel(viewer, channel_id)).id,
            )
        elif viewer.operator:
            channels = None
        else:
            channels = tuple(c.id for c in await self._dashboard.channels(viewer))
        users = await self._users(text.strip())
        key = None if not after else decode_key(after)
        named = users or ()
        if channels == ():
            return SubscriberPage((), None, named)
        query = DirectoryQuery(channels, status, users)
        rows = tuple(await self._directory.page(query, key, PAGE_SIZE + 1))
        if len(rows) <= PAGE_SIZE:
            return SubscriberPage(rows, None, named)
        last = rows[PAGE_SIZE - 1].subscription
        return SubscriberPage(rows[:PAGE_SIZE], encode_key((last.expires_at, last.id)), named)

    async def _users(self, text: str) -> tuple[UserId, ...] | None:
        if not text:
            return None
        if text.isdigit():
            return (user_id_of(text),)
        username = folded_username(text)
        if username is None:
            raise InvalidSearch(Why.SEARCH_WHAT)
        return tuple(await self._directory.users_named(username))

    async def record(
        self, viewer: Viewer, channel_id: ChannelId, user_id: UserId
    ) -> SubscriberRecord:
        """What the channel holds of ``user_id`` (perhaps nothing yet: an owner grants
        a newcomer days from here). Raises UnknownChannel (not theirs to see)."""
        channel = await self._dashboard.channel(viewer, channel_id)
        async with self._uow() as tx:
            sub = await tx.subscriptions.find(user_id, channel.id)
            intents = tuple(
                i for i in await tx.people.intents_of(user_id) if i.channel_id == channel.id
            )
            grants = tuple(
                g for g in await tx.people.grants_of(user_id) if g.channel_id == channel.id
            )
            # Removals are queued under known keys: at expiry or revocation one per
            # period (the latest periods'), at a refund one per refunded payment.
            keys: list[str] = []
            if sub is not None:
                first = max(1, sub.period - REMOVAL_PERIODS + 1)
                keys = [f"remove:{sub.id}:{p}" for p in range(first, sub.period + 1)]
            keys += [f"refund-remove:{i.id}" for i in intents if i.status is IntentStatus.REFUNDED]
            removals = [m for m in [await tx.outbox.get(k) for k in keys] if m is not None]
        subjects = [f"grant:{g.id}" for g in grants] + [f"intent:{i.id}" for i in intents]
        if sub is not None:
            subjects.insert(0, f"subscription:{sub.id}")
        audit = tuple(await self._directory.audit_about(subjects, AUDIT_ROWS))
        return SubscriberRecord(
            channel.id,
            channel.title,
            user_id,
            await self._names.name_of(user_id),
            sub,
            intents,
            grants,
            tuple(sorted(removals, key=lambda m: m.created_at)),
            audit,
            can_act=channel.owner_id == viewer.user_id,
        )
