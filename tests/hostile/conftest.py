"""Node as the judge of what NowPayments signs, shared with the canonicaliser's tests."""

from tests.unit.nowpayments.conftest import node_reference

__all__ = ["node_reference"]
