"""Chat lanes: how the outbox dispatcher takes turns writing to one chat.

Telegram lets a bot write about once a second to one chat. The Telegram client's
pacing enforces that, but a message waiting there holds one of the dispatcher's
slots while it waits. Every payment is also told to the channel's owner, all in the
owner's one chat: at 25 payments a second, that chat alone would hold every slot
and the subscribers' links would queue behind it. So a message waits for its chat's
turn here, holding no slot:

- one message in flight per chat, the next one started no sooner than ``spacing``
  after the previous one started;
- up to ``depth`` messages per chat wait here in memory (``capacity`` in all);
- any more are put back in the outbox, each due at a turn of its own, promised
  after every turn given before, so a chat's backlog drains at its pace, in order,
  without being claimed over and over, and while it does every other chat's
  messages go out at once.

Lanes are this process's bookkeeping, not a lock: several dispatchers may write to
one chat, and then the Telegram client's pacing and Telegram's ``retry_after`` keep
the limit. Nothing here is needed for correctness, so nothing here is stored.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from enum import Enum

import attrs

from core.domain.ids import ChatId, OutboxId
from core.domain.outbox import OutboxMessage


class Admission(Enum):
    START = "start"
    """Its chat's turn is now: start it (the lane is reserved for it)."""
    WAIT = "wait"
    """Held here until its chat's turn (see :meth:`ChatLanes.due`)."""
    DEFER = "defer"
    """Its turn is further off: it was given one (``available_at``); put it back."""


@attrs.define
class _Lane:
    next_turn: datetime
    waiting: deque[OutboxMessage] = attrs.Factory(deque)
    busy: bool = False
    promised: datetime | None = None
    """The last turn given to a message put back in the outbox."""
    owed: set[OutboxId] = attrs.Factory(set)
    """Messages put back with a turn, not seen since: when one comes back it takes its
    turn; a newcomer queues behind all of them."""


class ChatLanes:
    def __init__(self, spacing: timedelta, depth: int, capacity: int) -> None:
        if spacing <= timedelta(0):
            raise ValueError("turns are spaced by a positive time")
        self._spacing = spacing
        self._depth = depth
        self._capacity = capacity
        self._lanes: dict[ChatId, _Lane] = {}
        self._waiting = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    def admit(self, message: OutboxMessage, chat: ChatId, now: datetime, hold: bool) -> Admission:
        """Decide about a freshly claimed ``message`` to ``chat``. ``hold``: it may wait
        here for its turn (a dispatcher that keeps running); otherwise a message whose
        turn is not now is put back at once. A deferred message is given its turn
        through :meth:`OutboxMessage.defer`."""
        lane = self._lanes.get(chat)
        if lane is None:
            lane = self._lanes[chat] = _Lane(next_turn=now)
        returning = message.id in lane.owed
        lane.owed.discard(message.id)
        behind_promises = not returning and lane.promised is not None and lane.promised > now
        if not behind_promises:
            if not lane.busy and not lane.waiting and lane.next_turn <= now:
                lane.busy = True
                return Admission.START
            if hold and len(lane.waiting) < self._depth and self._waiting < self._capacity:
                lane.waiting.append(message)
                self._waiting += 1
                return Admission.WAIT
        message.defer(self._promise(lane, now))
        lane.owed.add(message.id)
        return Admission.DEFER

    def _promise(self, lane: _Lane, now: datetime) -> datetime:
        # After the message in flight (if any) and those waiting here, and after every
        # turn promised before; never now, so a put-back message is never due at once.
        after_queue = max(lane.next_turn, now + self._spacing if lane.busy else now)
        turn = after_queue + self._spacing * len(lane.waiting)
        if lane.promised is not None:
            turn = max(turn, lane.promised + self._spacing)
        turn = max(turn, now + self._spacing)
        lane.promised = turn
        return turn

    def started(self, chat: ChatId, now: datetime) -> None:
        """A message to ``chat`` starts now: the next one waits ``spacing``."""
        self._lanes[chat].next_turn = now + self._spacing

    def finished(self, chat: ChatId) -> None:
        self._lanes[chat].busy = False

    def due(self, now: datetime) -> list[OutboxMessage]:
        """Waiting messages whose chat's turn has come, one per chat; their lanes are
        reserved for them."""
        turn: list[OutboxMessage] = []
        for lane in self._lanes.values():
            if lane.waiting and not lane.busy and lane.next_turn <= now:
                turn.append(lane.waiting.popleft())
                self._waiting -= 1
                lane.busy = True
        return turn

    def next_turn(self) -> datetime | None:
        """When the soonest waiting message's turn comes (None: nothing waits on time;
        a message behind one in flight waits for that one to finish)."""
        turns = [lane.next_turn for lane in self._lanes.values() if lane.waiting and not lane.busy]
        return min(turns, default=None)

    def put_back(self, now: datetime) -> list[OutboxMessage]:
        """Every waiting message, each deferred to its turn, in order (the dispatcher
        stops; whoever runs next takes them up when they are due)."""
        back: list[OutboxMessage] = []
        for lane in self._lanes.values():
            turn = max(lane.next_turn, now + self._spacing)
            while lane.waiting:
                message = lane.waiting.popleft()
                message.defer(turn)
                back.append(message)
                turn += self._spacing
        self._waiting = 0
        return back

    def forget_idle(self, now: datetime) -> None:
        """Drop lanes that no longer hold anything back (memory stays proportional to
        the chats written to in the last moments)."""
        idle = [
            chat
            for chat, lane in self._lanes.items()
            if not lane.busy
            and not lane.waiting
            and lane.next_turn <= now
            and (lane.promised is None or lane.promised <= now)
        ]
        for chat in idle:
            del self._lanes[chat]
