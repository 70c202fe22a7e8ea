"""A person's data: everything held about one Telegram user (:class:`ExportPerson`),
and its erasure (:class:`ErasePerson`), keeping what the books must keep.

Erasure puts a pseudonym in place of the user id wherever a row must stay (amounts,
dates, which channel was paid for), drops what only the person needs (invite links,
their request to sell, the bot conversation, the language chosen, the Telegram
username they last showed the bot) and records
``user.erased`` in the audit trail under the pseudonym. Earlier audit events are
hash-linked: they keep the ids they were written with, or the chain would break.

Both refuse while the person holds an active subscription (erasing takes away the
link between them and the access they paid for), and erasure refuses while they own
channels (the channels stay for their subscribers, but nobody owns them any longer);
``force`` overrides both.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import attrs

from core.domain.audit import AuditEvent, AuditRecord
from core.domain.channel import Channel
from core.domain.donation import Donation
from core.domain.errors import DomainError, Why
from core.domain.grant import AccessGrant
from core.domain.ids import ChatId, UserId
from core.domain.pause import PauseCause, PauseReason, encode
from core.domain.payment import PaymentEvent, PaymentIntent
from core.domain.seller import SellerRequest
from core.domain.signing import MacKeyring
from core.domain.stars_renewal import StarsRenewal
from core.domain.subscription import Subscription
from core.ports.api_tokens import ApiToken, ApiTokenStore
from core.ports.clock import Clock
from core.ports.conversations import ConversationStore, StoredConversation
from core.ports.languages import ChatLanguage, LanguageBook
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.ports.subscriber_directory import PersonNames

ERASED_PAUSE_REASON = encode([PauseReason(PauseCause.DATA_ERASED)])


class PersonDataRefused(DomainError):
    """The person holds an active subscription or owns channels, and nobody forced it."""


def pseudonym_of(user_id: UserId, keyring: MacKeyring) -> UserId:
    """The id that stands for ``user_id`` once erased: a keyed hash under the newest
    MAC key, so the same person maps to the same pseudonym and nobody without the key
    can tell whose it is. Negative, so it is never a Telegram user's id."""
    tag = keyring.sign("person", str(user_id))
    digest = base64.urlsafe_b64decode(tag + "=" * (-len(tag) % 4))
    return UserId(-1 - (int.from_bytes(digest[:8], "big") >> 2))


@attrs.frozen
class PersonData:
    """What the store holds about one person."""

    user_id: UserId
    subscriptions: Sequence[Subscription]
    intents: Sequence[PaymentIntent]
    payment_events: Sequence[PaymentEvent]
    grants: Sequence[AccessGrant]
    donations: Sequence[Donation]
    channels: Sequence[Channel]
    seller_request: SellerRequest | None
    conversation: StoredConversation | None
    language: ChatLanguage | None
    audit: Sequence[AuditEvent]
    """Audit events by the person or about what is theirs (kept by erasure)."""
    username: str | None = None
    """The Telegram username they last showed the bot (the dashboard finds them by it)."""
    api_tokens: Sequence[ApiToken] = ()
    """Their HTTP API tokens: names, scopes and dates (the store holds no token)."""
    stars_subscriptions: Sequence[StarsRenewal] = ()
    """Telegram Stars subscriptions of theirs that renew (or did, until canceled)."""


@attrs.frozen
class Erasure:
    pseudonym: UserId
    rows: int
    """Rows that changed: pseudonymized, or deleted."""
    channels: int
    """Channels left without an owner, their sales paused."""


def _refusal(
    subs: Sequence[Subscription], channels: Sequence[Channel], clock: Clock
) -> PersonDataRefused | None:
    now = clock.now()
    active = [s for s in subs if s.is_active_at(now)]
    if active:
        return PersonDataRefused(Why.HOLDS_SUBSCRIPTIONS, n=len(active))
    if channels:
        return PersonDataRefused(Why.OWNS_CHANNELS, n=len(channels))
    return None


class ExportPerson:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        conversations: ConversationStore,
        languages: LanguageBook,
        clock: Clock,
        names: PersonNames | None = None,
        api_tokens: ApiTokenStore | None = None,
    ) -> None:
        self._uow = uow
        self._conversations = conversations
        self._languages = languages
        self._clock = clock
        self._names = names
        self._api_tokens = api_tokens

    async def __call__(self, user_id: UserId, *, force: bool = False) -> PersonData:
        """Raises PersonDataRefused while the person holds an active subscription."""
        # Read before the unit of work: on SQLite it holds the write lock these need.
        conversation = await self._conversations.get(user_id)
        language = await self._languages.get(ChatId(user_id))
        username = None if self._names is None else await self._names.name_of(user_id)
        tokens = () if self._api_tokens is None else await self._api_tokens.of_user(user_id)
        async with self._uow() as tx:
            subs = list(await tx.subscriptions.for_user(user_id))
            refusal = _refusal(subs, (), self._clock)
            if refusal is not None and not force:
                raise refusal
            intents = list(await tx.people.intents_of(user_id))
            grants = list(await tx.people.grants_of(user_id))
            channels = list(await tx.channels.by_owner(user_id))
            events = [e for i in intents for e in await tx.events.for_intent(i.id)]
            data = PersonData(
                user_id=user_id,
                subscriptions=subs,
                intents=intents,
                payment_events=events,
                grants=grants,
                donations=list(await tx.people.donations_of(user_id)),
                channels=channels,
                seller_request=await tx.sellers.get(user_id),
                conversation=conversation,
                language=language,
                audit=await _audit_of(tx, user_id, [*subs, *intents, *grants, *channels]),
                username=username,
                api_tokens=list(tokens),
                stars_subscriptions=list(await tx.stars_renewals.of_user(user_id)),
            )
        return data


async def _audit_of(
    tx: UnitOfWork,
    user_id: UserId,
    theirs: Sequence[Subscription | PaymentIntent | AccessGrant | Channel],
) -> list[AuditEvent]:
    kinds = {Subscription: "subscription", PaymentIntent: "intent", Channel: "channel"}
    subjects = {f"user:{user_id}"} | {f"{kinds.get(type(x), 'grant')}:{x.id}" for x in theirs}
    return [
        event
        for event in await tx.audit.all()
        if event.actor in subjects
        or event.subject in subjects
        or str(user_id) in event.details.values()
    ]


class ErasePerson:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        conversations: ConversationStore,
        languages: LanguageBook,
        clock: Clock,
        keyring: MacKeyring,
        names: PersonNames | None = None,
        api_tokens: ApiTokenStore | None = None,
    ) -> None:
        self._uow = uow
        self._conversations = conversations
        self._languages = languages
        self._clock = clock
        self._keyring = keyring
        self._names = names
        self._api_tokens = api_tokens

    async def __call__(self, user_id: UserId, *, force: bool = False) -> Erasure:
        """Raises PersonDataRefused while the person holds an active subscription or
        owns channels, unless ``force``."""
        pseudonym = pseudonym_of(user_id, self._keyring)
        async with self._uow() as tx:
            subs = await tx.subscriptions.for_user(user_id)
            channels = list(await tx.channels.by_owner(user_id))
            refusal = _refusal(subs, channels, self._clock)
            if refusal is not None and not force:
                raise refusal
            rows = await tx.people.pseudonymize(user_id, pseudonym)
            for channel in channels:
                channel.transfer_to(pseudonym, None)
                channel.pause_sales(ERASED_PAUSE_REASON)
                await tx.channels.update(channel)
            details = {"rows": str(rows), "channels": str(len(channels))}
            if refusal is not None:
                details["forced"] = str(refusal)
            await tx.audit.append(
                AuditRecord("operator", "user.erased", f"user:{pseudonym}", details),
                self._clock.now(),
            )
            await tx.commit()
        # After the commit: a conversation, a language or API tokens left behind by a
        # failure here are found again by the next run, which erases them then.
        await self._conversations.delete(user_id)
        forgot = await self._languages.forget(ChatId(user_id))
        named = self._names is not None and await self._names.forget(user_id)
        tokens = 0 if self._api_tokens is None else await self._api_tokens.forget(user_id)
        dropped = int(forgot) + int(named) + tokens
        return Erasure(pseudonym, rows + len(channels) + dropped, len(channels))
