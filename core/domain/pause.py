"""Why sales paused, when the system paused them: a cause and what it names, kept on
the channel as a short code (:func:`encode`) instead of a sentence, so each reader
gets it in their own language. A reason an owner typed is kept as typed; a stored
text that is not a code (an owner's, or one an older release wrote in English)
decodes to None and is shown as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum

import attrs

from core.domain.rights import Right

MARK = "paygate-pause:"
"""What starts an encoded reason."""


class PauseCause(StrEnum):
    BOT_ABSENT = "bot_absent"
    """The bot is not in the ``role`` chat any more."""
    BOT_NOT_ADMIN = "bot_not_admin"
    """The bot is no longer an admin of the ``role`` chat."""
    RIGHTS_LOST = "rights_lost"
    """The bot lost ``rights`` in the ``role`` chat."""
    POST_REFUSED = "post_refused"
    """Telegram refused a post; ``detail`` is Telegram's own description."""
    DATA_ERASED = "data_erased"
    """The owner's data was erased on request."""


@attrs.frozen
class PauseReason:
    cause: PauseCause
    role: str = ""
    """``open`` or ``closed``; empty when the cause names no chat."""
    rights: tuple[Right, ...] = ()
    detail: str = ""


def encode(reasons: Sequence[PauseReason]) -> str:
    """The stored form of ``reasons`` (one or more, in order)."""
    items = [
        {"cause": r.cause.value, "role": r.role, "rights": [x.value for x in r.rights]}
        | ({"detail": r.detail[:200]} if r.detail else {})
        for r in reasons
    ]
    return MARK + json.dumps(items, separators=(",", ":"))


def decode(stored: str | None) -> tuple[PauseReason, ...] | None:
    """The reasons ``stored`` encodes; None when it is not an encoded reason (typed by
    an owner, or written by an older release), which is then shown as it is."""
    if not stored or not stored.startswith(MARK):
        return None
    try:
        items = json.loads(stored.removeprefix(MARK))
        found = tuple(
            PauseReason(
                PauseCause(item["cause"]),
                str(item.get("role", "")),
                tuple(Right(x) for x in item.get("rights", ())),
                str(item.get("detail", "")),
            )
            for item in items
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return found or None
