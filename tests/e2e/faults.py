"""Crash-test fault injection: a process kills itself (SIGKILL) at a named point.

Test-only: production composition knows nothing of it. Crash tests start their
processes through :mod:`tests.e2e.faulty_process`, which overrides the containers'
providers with these wrappers, and give it rules in ``PAYGATE_TEST_FAULTS``,
comma-separated, each ``<point>:<probability>`` (every pass through the point dies
with that probability) or ``<point>@<n>`` (the n-th pass in this process dies), e.g.
``after-event-insert:0.05,after-telegram-call@3``.

The points are where a crash hurts most on the payment and outbox paths:

``after-event-insert``
    a payment notification's event row is inserted, its transaction still open: the
    database rolls it back and the provider, answered by nobody, sends it again.
``after-payment-commit``
    that transaction committed (subscription, grant and outbox rows stored) but the
    provider has no answer yet: its resend must be recognised as a duplicate.
``after-claim``
    an outbox batch is claimed under a lease and nothing of it performed: the rows
    must come back when the lease ends.
``after-telegram-call``
    Telegram performed an effect (message sent, link made, member removed, request
    answered) and its outcome is not stored yet: the effect is performed again.

The wrappers sit around the ports the core already uses (unit of work, Messenger,
ChatAccess), so the core runs unchanged; without rules they are not installed at
all. Before dying the process logs one CRITICAL line naming the point, so a test can
tell every injected crash from a real one.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from enum import StrEnum
from typing import NoReturn

import attrs

from adapters.outbound.delegating_uow import DelegatingOutbox, DelegatingUnitOfWork
from core.domain.grant import GrantMode
from core.domain.ids import ChatId, IntentId, MessageId, UserId
from core.domain.messages import Notice
from core.domain.money import Money
from core.domain.outbox import OutboxMessage
from core.domain.payment import EventKey
from core.domain.rights import ChatRights
from core.ports.payment_ledger import PaymentBook, PaymentChanges, PaymentLedger
from core.ports.repositories import OutboxRepository, UnitOfWork, UnitOfWorkFactory
from core.ports.telegram import ChatAccess, InviteLink, Messenger

__all__ = [
    "FAULT_LOG_MARK",
    "FaultInjector",
    "FaultPoint",
    "FaultRule",
    "FaultyChatAccess",
    "FaultyMessenger",
    "FaultyUnitOfWorkFactory",
    "parse_faults",
]

logger = logging.getLogger("paygate.faults")

FAULT_LOG_MARK = "fault injected"
"""Starts the CRITICAL line logged just before an injected crash."""


class FaultPoint(StrEnum):
    AFTER_EVENT_INSERT = "after-event-insert"
    AFTER_PAYMENT_COMMIT = "after-payment-commit"
    AFTER_CLAIM = "after-claim"
    AFTER_TELEGRAM_CALL = "after-telegram-call"


def _probability(_: object, __: attrs.Attribute[float | None], value: float | None) -> None:
    if value is not None and not 0 < value <= 1:
        raise ValueError(f"a probability is in (0, 1], not {value}")


def _nth(_: object, __: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"passes are counted from 1, not {value}")


@attrs.frozen
class FaultRule:
    """Die at ``point`` with ``probability`` on every pass, or on the ``nth`` pass."""

    point: FaultPoint
    probability: float | None = attrs.field(default=None, validator=_probability)
    nth: int | None = attrs.field(default=None, validator=_nth)

    def __attrs_post_init__(self) -> None:
        if (self.probability is None) == (self.nth is None):
            raise ValueError("a fault rule has either a probability or a pass number")

    def fires(self, passes: int, rng: random.Random) -> bool:
        """Whether the ``passes``-th pass through the point dies."""
        if self.nth is not None:
            return passes == self.nth
        assert self.probability is not None  # one of the two, by construction
        return rng.random() < self.probability

    def __str__(self) -> str:
        if self.nth is not None:
            return f"{self.point}@{self.nth}"
        return f"{self.point}:{self.probability}"


def parse_faults(text: str) -> tuple[FaultRule, ...]:
    """``PAYGATE_TEST_FAULTS``: comma-separated ``point:probability`` or ``point@n`` rules, at
    most one per point. Raises ValueError saying what is wrong."""
    rules: dict[FaultPoint, FaultRule] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if "@" in part:
            name, _, nth = part.partition("@")
            rule = FaultRule(_point(name), nth=int(nth))
        elif ":" in part:
            name, _, probability = part.partition(":")
            rule = FaultRule(_point(name), probability=float(probability))
        else:
            raise ValueError(f"{part!r} is neither point:probability nor point@n")
        if rule.point in rules:
            raise ValueError(f"{rule.point} has two rules")
        rules[rule.point] = rule
    return tuple(rules.values())


def _point(name: str) -> FaultPoint:
    try:
        return FaultPoint(name.strip())
    except ValueError:
        known = ", ".join(FaultPoint)
        raise ValueError(f"{name.strip()!r} is not a fault point ({known})") from None


def sigkill_self() -> NoReturn:
    """End this process as a power cut would: no handler, no clean-up, no flush."""
    os.kill(os.getpid(), signal.SIGKILL)
    while True:  # pragma: no cover - SIGKILL is delivered before kill() returns
        time.sleep(1)


class FaultInjector:
    """Counts the passes through each point and kills the process when a rule says.

    ``die`` is what a fired rule calls (SIGKILL of this process; unit tests pass
    something that raises instead); ``rng`` decides the probabilistic rules."""

    def __init__(
        self,
        rules: Sequence[FaultRule],
        *,
        die: Callable[[], NoReturn] = sigkill_self,
        rng: random.Random | None = None,
    ) -> None:
        self._rules = {rule.point: rule for rule in rules}
        self._die = die
        # Chooses when a test process dies: nothing secret depends on it.
        self._rng = rng or random.Random()
        self.passes: Counter[FaultPoint] = Counter()

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        return tuple(self._rules.values())

    def reached(self, point: FaultPoint, detail: str) -> None:
        """A pass through ``point``; returns unless a rule makes the process die here."""
        self.passes[point] += 1
        rule = self._rules.get(point)
        if rule is None or not rule.fires(self.passes[point], self._rng):
            return
        logger.critical(
            "%s at %s (pass %d, pid %d): %s",
            FAULT_LOG_MARK,
            point,
            self.passes[point],
            os.getpid(),
            detail,
        )
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        self._die()


# ---------------------------------------------------------------- unit of work


class _WatchedEvents:
    """PaymentLedger: a pass through ``after-event-insert`` per new event saved."""

    def __init__(self, inner: PaymentLedger, uow: _FaultyUnitOfWork) -> None:
        self._inner = inner
        self._uow = uow

    async def load(
        self, keys: Collection[EventKey], intent_ids: Collection[IntentId]
    ) -> PaymentBook:
        return await self._inner.load(keys, intent_ids)

    async def save(self, changes: PaymentChanges, at: datetime) -> None:
        await self._inner.save(changes, at)
        for event in changes.events:
            self._uow.recorded = f"payment {event.payment_id} {event.status}"
            self._uow.faults.reached(FaultPoint.AFTER_EVENT_INSERT, self._uow.recorded)


class _WatchedOutbox(DelegatingOutbox):
    """OutboxRepository: remembers a claim so that its commit is a pass through
    ``after-claim``."""

    def __init__(self, inner: OutboxRepository, uow: _FaultyUnitOfWork) -> None:
        super().__init__(inner)
        self._uow = uow

    async def claim(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> Sequence[OutboxMessage]:
        claimed = await self._inner.claim(now, limit, lease_until)
        self._uow.claimed += len(claimed)
        return claimed


class _FaultyUnitOfWork(DelegatingUnitOfWork):
    """UnitOfWork: the inner one, with passes through the payment and claim points."""

    def __init__(self, inner: UnitOfWork, faults: FaultInjector) -> None:
        super().__init__(inner)
        self.faults = faults
        self.recorded: str | None = None
        """A payment event this transaction inserted, if any."""
        self.claimed = 0
        """Outbox messages this transaction claimed."""
        self.payments = _WatchedEvents(inner.payments, self)
        self.outbox = _WatchedOutbox(inner.outbox, self)

    def ended(self) -> None:
        self.recorded, self.claimed = None, 0

    async def committed(self) -> None:
        recorded, claimed = self.recorded, self.claimed
        self.ended()
        if recorded is not None:
            self.faults.reached(FaultPoint.AFTER_PAYMENT_COMMIT, recorded)
        if claimed:
            self.faults.reached(FaultPoint.AFTER_CLAIM, f"{claimed} outbox messages leased")


class FaultyUnitOfWorkFactory:
    """UnitOfWorkFactory whose units of work pass through the payment and claim points."""

    def __init__(self, inner: UnitOfWorkFactory, faults: FaultInjector) -> None:
        self._inner = inner
        self.faults = faults

    def __call__(self) -> UnitOfWork:
        return _FaultyUnitOfWork(self._inner(), self.faults)


# ---------------------------------------------------------------- Telegram


class FaultyMessenger:
    """Messenger: every message sent, edited or deleted is a pass through
    ``after-telegram-call`` (Telegram did it; whoever asked has not stored it yet)."""

    def __init__(self, inner: Messenger, faults: FaultInjector) -> None:
        self._inner = inner
        self._faults = faults

    async def send(self, chat_id: ChatId, message: Notice) -> MessageId:
        sent = await self._inner.send(chat_id, message)
        self._faults.reached(FaultPoint.AFTER_TELEGRAM_CALL, f"sendMessage to {chat_id}")
        return sent

    async def edit(self, chat_id: ChatId, message_id: MessageId, message: Notice) -> None:
        await self._inner.edit(chat_id, message_id, message)
        self._faults.reached(FaultPoint.AFTER_TELEGRAM_CALL, f"editMessageText in {chat_id}")

    async def delete(self, chat_id: ChatId, message_id: MessageId) -> None:
        await self._inner.delete(chat_id, message_id)
        self._faults.reached(FaultPoint.AFTER_TELEGRAM_CALL, f"deleteMessage in {chat_id}")


class FaultyChatAccess:
    """ChatAccess: every call that changes something at Telegram is a pass through
    ``after-telegram-call``; reading rights is not."""

    def __init__(self, inner: ChatAccess, faults: FaultInjector) -> None:
        self._inner = inner
        self._faults = faults

    def _done(self, what: str) -> None:
        self._faults.reached(FaultPoint.AFTER_TELEGRAM_CALL, what)

    async def create_invite_link(
        self, chat_id: ChatId, name: str, mode: GrantMode, expires_at: datetime | None
    ) -> InviteLink:
        link = await self._inner.create_invite_link(chat_id, name, mode, expires_at)
        self._done(f"createChatInviteLink in {chat_id}")
        return link

    async def create_subscription_link(self, chat_id: ChatId, price: Money) -> str:
        url = await self._inner.create_subscription_link(chat_id, price)
        self._done(f"createChatSubscriptionInviteLink in {chat_id}")
        return url

    async def edit_invite_link(self, chat_id: ChatId, url: str, expires_at: datetime) -> InviteLink:
        link = await self._inner.edit_invite_link(chat_id, url, expires_at)
        self._done(f"editChatInviteLink in {chat_id}")
        return link

    async def revoke_invite_link(self, chat_id: ChatId, url: str) -> None:
        await self._inner.revoke_invite_link(chat_id, url)
        self._done(f"revokeChatInviteLink in {chat_id}")

    async def approve_join_request(self, chat_id: ChatId, user_id: UserId) -> None:
        await self._inner.approve_join_request(chat_id, user_id)
        self._done(f"approveChatJoinRequest of {user_id} in {chat_id}")

    async def decline_join_request(self, chat_id: ChatId, user_id: UserId) -> None:
        await self._inner.decline_join_request(chat_id, user_id)
        self._done(f"declineChatJoinRequest of {user_id} in {chat_id}")

    async def remove_member(self, chat_id: ChatId, user_id: UserId) -> None:
        await self._inner.remove_member(chat_id, user_id)
        self._done(f"removal of {user_id} from {chat_id}")

    async def rights(self, chat_id: ChatId, user_id: UserId) -> ChatRights:
        return await self._inner.rights(chat_id, user_id)

    async def bot_rights(self, chat_id: ChatId) -> ChatRights:
        return await self._inner.bot_rights(chat_id)
