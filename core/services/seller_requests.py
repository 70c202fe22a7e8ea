"""Who may sell, by the operators' say: requests to sell, approved in the bot.

With ``PAYGATE_SELLERS=approval`` a person who is neither listed nor approved and
tries to register a channel files a request instead: each operator gets a message
with Approve and Decline buttons, and the person is told the operators were asked.
The first operator to decide settles it (a second press is told who decided), the
person is told the outcome, and both steps are audited. A declined person is not
asked about again: asking once more only repeats the answer.

Audit records name people by Telegram user id only, never by name: the audit chain
cannot be rewritten, and a name is personal data a person may have erased.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import attrs

from core.domain.audit import AuditRecord
from core.domain.errors import NotAuthorized, UnknownSellerRequest, Why
from core.domain.ids import ChatId, UserId
from core.domain.messages import DecideSeller, SellerApproved, SellerAsked, SellerDeclined
from core.domain.outbox import SendMessage
from core.domain.seller import SellerRequest, SellerStatus
from core.ports.clock import Clock
from core.ports.repositories import UnitOfWorkFactory


class Asked(StrEnum):
    """What became of a person's request to sell."""

    SENT = "sent"
    """Filed now: the operators were asked."""
    WAITING = "waiting"
    """Filed before and not decided yet."""
    APPROVED = "approved"
    DECLINED = "declined"


@attrs.frozen
class Decision:
    request: SellerRequest
    """The request as it stands after the press."""
    decided_now: bool
    """False when another operator had decided it already (``request`` says how)."""


class ApprovedSellers:
    """Implements SellerPolicy: the listed users, and those the operators approved."""

    def __init__(self, uow: UnitOfWorkFactory, listed: Iterable[UserId] = ()) -> None:
        self._uow = uow
        self._listed = frozenset(listed)

    async def may_sell(self, user_id: UserId) -> bool:
        if user_id in self._listed:
            return True
        async with self._uow() as tx:
            request = await tx.sellers.get(user_id)
        return request is not None and request.approved


class SellerRequests:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, operators: Iterable[UserId]) -> None:
        self._uow = uow
        self._clock = clock
        self._operators = tuple(sorted(set(operators)))

    async def ask(self, user_id: UserId, name: str) -> Asked:
        """File ``user_id``'s request (once) and ask every operator about it."""
        now = self._clock.now()
        async with self._uow() as tx:
            if not await tx.sellers.add(SellerRequest(user_id, name, now)):
                existing = await tx.sellers.get(user_id)
                status = SellerStatus.PENDING if existing is None else existing.status
                return _ASKED_BEFORE[status]
            asked = SellerAsked(
                user_id, name, DecideSeller(user_id, True), DecideSeller(user_id, False)
            )
            for operator in self._operators:
                await tx.outbox.enqueue(
                    f"seller.asked:{user_id}:{operator}", SendMessage(ChatId(operator), asked), now
                )
            await tx.audit.append(
                AuditRecord(f"user:{user_id}", "seller.requested", f"user:{user_id}"), now
            )
            await tx.commit()
        return Asked.SENT

    async def decide(self, operator: UserId, user_id: UserId, approve: bool) -> Decision:
        """Raises NotAuthorized for anyone but an operator, UnknownSellerRequest when
        ``user_id`` never asked."""
        if operator not in self._operators:
            raise NotAuthorized(Why.OPERATORS_DECIDE)
        now = self._clock.now()
        async with self._uow() as tx:
            request = await tx.sellers.get(user_id)
            if request is None:
                raise UnknownSellerRequest(Why.NO_SELLER_REQUEST, user=user_id)
            if request.status is not SellerStatus.PENDING:
                return Decision(request, False)
            request.decide(operator, approve, now)
            if not await tx.sellers.decide(request):
                settled = await tx.sellers.get(user_id)
                return Decision(settled or request, False)
            told = SellerApproved() if approve else SellerDeclined()
            await tx.outbox.enqueue(
                f"seller.decided:{user_id}", SendMessage(ChatId(user_id), told), now
            )
            await tx.audit.append(
                AuditRecord(
                    f"user:{operator}",
                    f"seller.{request.status}",
                    f"user:{user_id}",
                ),
                now,
            )
            await tx.commit()
        return Decision(request, True)


_ASKED_BEFORE = {
    SellerStatus.PENDING: Asked.WAITING,
    SellerStatus.APPROVED: Asked.APPROVED,
    SellerStatus.DECLINED: Asked.DECLINED,
}
