"""The shared state behind every in-memory unit of work of one process."""

from __future__ import annotations

import itertools

from adapters.outbound.memory.audit_log import audit_table
from adapters.outbound.memory.bundles import bundle_grants_table, bundle_members_table
from adapters.outbound.memory.channels import channels_table
from adapters.outbound.memory.coupons import coupons_table, redemptions_table
from adapters.outbound.memory.donations import donations_table
from adapters.outbound.memory.figures import Totals
from adapters.outbound.memory.grants import grants_table
from adapters.outbound.memory.intents import intents_table
from adapters.outbound.memory.outbox import outbox_table
from adapters.outbound.memory.payment_events import payment_events_table
from adapters.outbound.memory.row_locks import RowLocks
from adapters.outbound.memory.seller_requests import seller_requests_table
from adapters.outbound.memory.stars_renewals import stars_renewals_table
from adapters.outbound.memory.subscriptions import subscriptions_table
from adapters.outbound.memory.trials import trials_table

DEFAULT_LOCK_TIMEOUT = 5.0
"""Seconds a unit of work waits for a row another one is writing before giving up with
Unavailable, like a database's lock timeout."""


class InMemoryStore:
    """Committed rows of every table, the row locks and the insertion sequence.

    One event loop only: a commit never awaits between checking and applying its
    writes, which is what makes it atomic, so it needs no lock of its own."""

    def __init__(self, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.channels = channels_table()
        self.intents = intents_table()
        self.events = payment_events_table()
        self.subscriptions = subscriptions_table()
        self.grants = grants_table()
        self.bundle_members = bundle_members_table()
        self.bundle_grants = bundle_grants_table()
        self.donations = donations_table()
        self.audit = audit_table()
        self.outbox = outbox_table()
        self.seller_requests = seller_requests_table()
        self.trials = trials_table()
        self.stars_renewals = stars_renewals_table()
        self.figures: Totals = {}
        self.coupons = coupons_table()
        self.redemptions = redemptions_table()
        self.locks = RowLocks(lock_timeout)
        self._sequence = itertools.count(1)

    def next_seq(self) -> int:
        return next(self._sequence)
