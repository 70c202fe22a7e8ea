"""Digests: messages that may be folded (``SendMessage.fold``, what an owner is told of
each payment) ride along with an earlier one of the same fold to the same chat that
has not started yet, and go out with it as one digest.

One chat takes about a message a second: at many payments a second to one owner,
the owner gets a digest a turn instead of a queue an hour long. A message rides
while the digest has room for it whole (Telegram's length limit, budgeted by each
notice's weight: :func:`core.services.notices.weight`); a full digest takes no more,
and the next message starts one of its own. Riders share their carrier's fate (sent,
retried or dead-lettered together: :func:`core.services.settle_outbox.shared`).
Foldable messages put
back in the outbox for a later turn are all due at one turn, so that they come back
together and ride together again.

This is one dispatcher's bookkeeping, like its chat lanes: several dispatchers each
fold what they claimed. Nothing here is needed for correctness.
"""

from __future__ import annotations

from datetime import datetime

from core.domain.ids import ChatId, OutboxId
from core.domain.messages import Notice
from core.domain.outbox import Effect, OutboxMessage, SendMessage
from core.services import notices

Fold = tuple[ChatId, str]
"""A chat and a fold label: the messages that may share a digest."""


def fold_of(effect: Effect) -> Fold | None:
    if isinstance(effect, SendMessage) and effect.fold is not None:
        return effect.chat_id, effect.fold
    return None


class Folds:
    def __init__(self) -> None:
        self._riders: dict[OutboxId, list[OutboxMessage]] = {}
        """Messages folded into a carrier's digest, by carrier."""
        self._carriers: dict[Fold, OutboxMessage] = {}
        """Per fold, the message not yet started that takes riders."""
        self._turns: dict[Fold, datetime] = {}
        """Per fold, the turn the messages put back are due at."""

    def ride(self, message: OutboxMessage, fold: Fold) -> bool:
        """Fold ``message`` into the digest of its fold's waiting carrier, if there is
        one with room for it."""
        carrier = self._carriers.get(fold)
        if carrier is None:
            return False
        riders = self._riders.setdefault(carrier.id, [])
        folded = [_notice_of(m.effect) for m in (carrier, *riders)]
        if not notices.digest_room(folded, _notice_of(message.effect)):
            del self._carriers[fold]  # full: the next one starts a digest of its own
            return False
        riders.append(message)
        return True

    def turn(self, fold: Fold, now: datetime) -> datetime | None:
        """The later turn this fold's messages are put back to, if one is promised."""
        turn = self._turns.get(fold)
        return turn if turn is not None and turn > now else None

    def put_back(self, message: OutboxMessage, fold: Fold) -> None:
        """``message`` was put back for a later turn: the rest of its fold follow it."""
        self._turns[fold] = message.available_at

    def carries(self, message: OutboxMessage, fold: Fold) -> None:
        """``message`` waits for its turn (or starts soon): it takes riders till then."""
        self._carriers[fold] = message

    def started(self, message: OutboxMessage) -> Effect | None:
        """``message`` starts: it takes no more riders. The digest it takes out in place
        of its own message, if it has riders."""
        fold = fold_of(message.effect)
        if fold is not None and self._carriers.get(fold) is message:
            del self._carriers[fold]
        riders = self._riders.get(message.id)
        effect = message.effect
        if not riders or not isinstance(effect, SendMessage):
            return None
        folded = [message, *riders]
        since = min(m.created_at for m in folded)
        digest = notices.digest_message([_notice_of(m.effect) for m in folded], since)
        return SendMessage(effect.chat_id, digest)

    def with_riders(self, message: OutboxMessage) -> list[OutboxMessage]:
        """``message`` and its riders, who leave the bookkeeping with it."""
        return [message, *self._riders.pop(message.id, [])]

    def forget(self, now: datetime) -> None:
        """Drop promised turns that have come."""
        for fold in [f for f, turn in self._turns.items() if turn <= now]:
            del self._turns[fold]

    def close(self) -> None:
        """No carrier takes riders any more (the run stops)."""
        self._carriers.clear()


def _notice_of(effect: Effect) -> Notice:
    assert isinstance(effect, SendMessage)  # only messages fold (fold_of)
    return effect.message
