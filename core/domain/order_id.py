"""The public order id we give the payment provider.

A random intent id plus a MAC tag: it cannot be guessed (the id is random) nor edited
(the tag would no longer match). The user and the channel live in the stored intent,
never in the id, so a forged notification cannot name whom to grant.
"""

from __future__ import annotations

import re

import attrs

from core.domain.errors import InvalidOrderId, Why
from core.domain.ids import IntentId, is_valid_id
from core.domain.signing import MacKeyring

_PURPOSE = "order"
_SHAPE = re.compile(r"\A([A-Za-z0-9]{1,32})_([A-Za-z0-9_-]{22})\Z")


@attrs.frozen
class OrderId:
    intent_id: IntentId
    tag: str

    @classmethod
    def issue(cls, intent_id: IntentId, keyring: MacKeyring) -> OrderId:
        if not is_valid_id(intent_id):
            raise InvalidOrderId(Why.ORDER_ID, given=intent_id)
        return cls(intent_id, keyring.sign(_PURPOSE, intent_id))

    @classmethod
    def parse(cls, text: str, keyring: MacKeyring) -> OrderId:
        """Verify the tag before anything looks the intent up."""
        match = _SHAPE.match(text) if isinstance(text, str) else None
        if match is None:
            raise InvalidOrderId(Why.ORDER_ID)
        intent_id, tag = match.group(1), match.group(2)
        if not keyring.verify(_PURPOSE, intent_id, tag):
            raise InvalidOrderId(Why.ORDER_ID, tag="mismatch")
        return cls(IntentId(intent_id), tag)

    def __str__(self) -> str:
        return f"{self.intent_id}_{self.tag}"
