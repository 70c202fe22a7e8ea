"""Channels and subscriptions a unit of work has already read with its payment
intents (see ``read_ahead``): the fulfilment that follows asks for exactly those,
and on Postgres each round trip costs more than the rows. Forgotten as soon as the
unit of work writes a channel or a subscription, and with the unit of work.

Also which of the payment events it said it would record (``expect``) were
recorded when it read its intents, and which it recorded since."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping

from core.domain.channel import Channel
from core.domain.ids import ChannelId, UserId
from core.domain.payment import EventKey
from core.domain.subscription import Subscription

Buyer = tuple[UserId, ChannelId]


class KnownRows:
    def __init__(self) -> None:
        self._channels: dict[ChannelId, Channel] = {}
        self._subscriptions: dict[Buyer, Subscription | None] = {}
        """None: known to have none."""
        self.expected_events: list[EventKey] = []
        """Events to look for with the next read of intents."""
        self._events: dict[EventKey, bool] = {}
        """Whether each event looked for is recorded (in this unit of work or before)."""

    def clear(self) -> None:
        self._channels, self._subscriptions = {}, {}
        self.expected_events, self._events = [], {}

    def expect_events(self, keys: Collection[EventKey]) -> None:
        self.expected_events = list(dict.fromkeys(keys))

    def found_events(self, recorded: Collection[int]) -> None:
        """The answer to :attr:`expected_events`: the positions (from 1) of those
        recorded."""
        self._events |= {key: False for key in self.expected_events}
        self._events |= {self.expected_events[n - 1]: True for n in recorded}
        self.expected_events = []

    def recorded_events(self, keys: Collection[EventKey]) -> set[EventKey] | None:
        """Those of ``keys`` recorded, if whether they are is known for all of them."""
        if not all(key in self._events for key in keys):
            return None
        return {key for key in keys if self._events[key]}

    def record_events(self, keys: Collection[EventKey]) -> None:
        self._events |= {key: True for key in keys}

    def remember(
        self,
        channels: Mapping[ChannelId, Channel],
        subscriptions: Mapping[Buyer, Subscription | None],
    ) -> None:
        self._channels.update(channels)
        self._subscriptions.update(subscriptions)

    def forget_channels(self) -> None:
        self._channels = {}

    def forget_subscriptions(self) -> None:
        self._subscriptions = {}

    def channels(self, ids: Collection[ChannelId]) -> dict[ChannelId, Channel] | None:
        """Copies of the channels ``ids`` if all of them are known, else None."""
        if not all(i in self._channels for i in ids):
            return None
        # A shallow copy is a whole one: what a channel holds (tiers, bounds, wallet,
        # posts) is frozen, and a deep copy costs more than the round trip it saves.
        return {i: copy.copy(self._channels[i]) for i in ids}

    def subscriptions(self, buyers: Collection[Buyer]) -> dict[Buyer, Subscription] | None:
        """Copies of the subscriptions of ``buyers`` if all are known, else None."""
        if not all(b in self._subscriptions for b in buyers):
            return None
        found = {b: self._subscriptions[b] for b in buyers}
        return {b: copy.copy(s) for b, s in found.items() if s is not None}
