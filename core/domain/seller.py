"""A request to sell here: a Telegram user who is not on the operator's list asked to
register channels, and the deployment's operators approve or decline it in the bot.

A request is decided once: pending, then approved or declined, never back. The name
is how the person showed in Telegram when they asked, kept so the operators know whom
they are deciding about (personal data: ``paygate user erase`` blanks it).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from core.domain.errors import InvalidTransition, Why
from core.domain.ids import UserId

MAX_NAME_LENGTH = 256


class SellerStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


def _cut(name: str) -> str:
    return name[:MAX_NAME_LENGTH]


@attrs.define
class SellerRequest:
    user_id: UserId
    name: str = attrs.field(converter=_cut)
    """Cut to MAX_NAME_LENGTH: Telegram names are shorter, and the column is that wide."""
    asked_at: datetime
    status: SellerStatus = SellerStatus.PENDING
    decided_by: UserId | None = None
    decided_at: datetime | None = None

    @property
    def approved(self) -> bool:
        return self.status is SellerStatus.APPROVED

    def decide(self, operator: UserId, approve: bool, at: datetime) -> None:
        """Raises InvalidTransition when the request was decided already."""
        if self.status is not SellerStatus.PENDING:
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="seller_request", source=self.status, target="decided"
            )
        self.status = SellerStatus.APPROVED if approve else SellerStatus.DECLINED
        self.decided_by = operator
        self.decided_at = at
