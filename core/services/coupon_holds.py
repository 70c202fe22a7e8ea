"""Which checkout a redeemed discount lowers: one at a time (issue 21).

A new checkout at a person's discount becomes the one their redemption notes; an
earlier one still open (another tier or channel the code covers) is closed as
superseded, as checkout closes any intent it replaces, so one redemption cannot be
paid at the discount twice. A payment that still arrives for the closed one is
recorded and alerted ("money arrived for a closed payment"), never lost silently.
"""

from __future__ import annotations

from datetime import datetime

from core.domain.audit import AuditRecord
from core.domain.coupon import Coupon
from core.domain.ids import IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWork


async def hold_discount(
    tx: UnitOfWork, coupon: Coupon, user_id: UserId, intent_id: IntentId, now: datetime
) -> None:
    """Note ``intent_id`` on the person's redemption of ``coupon``, closing the open
    checkout it noted before."""
    held = await tx.coupons.redemption(coupon.id, user_id)
    if held is None:
        raise NotFound(f"no redemption of coupon {coupon.id} by {user_id}")
    if held.intent_id is not None and held.intent_id != intent_id:
        try:
            earlier = await tx.intents.get(held.intent_id)
        except NotFound:
            earlier = None
        if earlier is not None and earlier.is_open:
            previous = earlier.status
            earlier.move_to(IntentStatus.EXPIRED, now)
            await tx.intents.advance(earlier, previous)
            await tx.audit.append(
                AuditRecord(
                    "system",
                    "intent.superseded",
                    f"intent:{earlier.id}",
                    {"coupon": coupon.code, "by": intent_id},
                ),
                now,
            )
    await tx.coupons.link(coupon.id, user_id, intent_id)
