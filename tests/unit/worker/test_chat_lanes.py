"""Chat lanes: the turns the dispatcher gives messages to one chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.inbound.worker.chat_lanes import Admission, ChatLanes
from core.domain.ids import ChatId, OutboxId
from core.domain.messages import Verbatim
from core.domain.outbox import OutboxMessage, SendMessage

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
OWNER = ChatId(1000)


def message(n: int, chat: ChatId = OWNER) -> OutboxMessage:
    effect = SendMessage(chat, Verbatim(f"payment {n}"))
    return OutboxMessage(OutboxId(f"ob{n}"), f"owner-paid:{n}", effect, NOW, NOW)


def test_a_busy_chat_keeps_a_few_waiting_and_gives_the_rest_turns_of_their_own() -> None:
    lanes = ChatLanes(SECOND, depth=2, capacity=50)
    batch = [message(n) for n in range(5)]
    admissions = [lanes.admit(m, OWNER, NOW, hold=True) for m in batch]
    assert admissions == [Admission.START, Admission.WAIT, Admission.WAIT] + [Admission.DEFER] * 2
    lanes.started(OWNER, NOW)
    # After the one in flight and the two waiting: the 4th and 5th seconds from now.
    assert [m.available_at for m in batch[3:]] == [NOW + 3 * SECOND, NOW + 4 * SECOND]
    assert lanes.due(NOW) == []
    lanes.finished(OWNER)
    assert lanes.due(NOW + SECOND) == [batch[1]]


def test_turns_promised_across_claims_never_overlap_and_are_never_now() -> None:
    lanes = ChatLanes(SECOND, depth=0, capacity=50)
    first = [message(n) for n in range(3)]
    for m in first:
        lanes.admit(m, OWNER, NOW, hold=False)
    lanes.started(OWNER, NOW)
    lanes.finished(OWNER)
    later = NOW + timedelta(milliseconds=1500)
    second = [message(n) for n in range(3, 6)]
    admissions = [lanes.admit(m, OWNER, later, hold=False) for m in second]
    turns = [m.available_at for m in first[1:] + second]
    assert turns == sorted(set(turns)), "one message per turn, in claim order"
    assert all(turn > NOW for turn in turns[:2]) and all(turn > later for turn in turns[2:])
    assert admissions == [Admission.DEFER] * 3  # the turns promised before come first


def test_other_chats_are_not_held_back_by_a_busy_one() -> None:
    lanes = ChatLanes(SECOND, depth=2, capacity=50)
    lanes.admit(message(0), OWNER, NOW, hold=True)
    lanes.started(OWNER, NOW)
    subscribers = [ChatId(500 + n) for n in range(3)]
    admissions = [
        lanes.admit(message(n, chat), chat, NOW, hold=True) for n, chat in enumerate(subscribers)
    ]
    assert admissions == [Admission.START] * 3


def test_stopping_puts_waiting_messages_back_in_order() -> None:
    lanes = ChatLanes(SECOND, depth=3, capacity=50)
    batch = [message(n) for n in range(4)]
    for m in batch:
        lanes.admit(m, OWNER, NOW, hold=True)
    lanes.started(OWNER, NOW)
    back = lanes.put_back(NOW)
    assert back == batch[1:]
    assert [m.available_at for m in back] == [NOW + n * SECOND for n in (1, 2, 3)]
    assert lanes.waiting == 0
