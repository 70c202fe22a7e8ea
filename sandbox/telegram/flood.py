"""Flood control as the Bots FAQ states it: about 30 messages a second overall, one a
second to a private chat, 20 a minute to a group or channel. Over a limit the call
is refused with 429 and ``parameters.retry_after``.

Each limit is a sliding window: at most ``count`` accepted calls in any ``per``
seconds. That is stricter than a token bucket, on purpose: a client that bursts a
full bucket and then keeps sending at the rate (what a leaky bucket starting full
does) puts about twice the limit in its first second, and real Telegram answers that
with 429s. The exact server rules are unpublished and dynamic; these are the
documented figures, each configurable, and the whole thing can be switched off.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.telegram.errors import ApiError, too_many_requests

MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "sendMediaGroup",
        "sendPoll",
        "sendLocation",
        "sendContact",
        "sendInvoice",
        "copyMessage",
        "forwardMessage",
    }
)
"""Calls that send a message, counted against the message limits."""

ADMIN_METHODS = frozenset(
    {
        "banChatMember",
        "unbanChatMember",
        "restrictChatMember",
        "promoteChatMember",
        "approveChatJoinRequest",
        "declineChatJoinRequest",
        "createChatInviteLink",
        "editChatInviteLink",
        "revokeChatInviteLink",
        "exportChatInviteLink",
    }
)
"""Administration calls: never counted against message limits; Telegram's limits on
them are unpublished, so they have their own optional budget."""


@dataclass(frozen=True)
class Rate:
    count: int
    per: float
    """Seconds."""

    def __post_init__(self) -> None:
        if self.count < 1 or self.per <= 0:
            raise ValueError("a rate is at least one call per a positive number of seconds")


@dataclass(frozen=True)
class FloodLimits:
    overall: Rate | None = Rate(30, 1.0)
    private_chat: Rate | None = Rate(1, 1.0)
    group_chat: Rate | None = Rate(20, 60.0)
    """Groups, supergroups and channels alike."""
    admin: Rate | None = None
    """All administration calls of the bot together; off unless set."""
    enabled: bool = True

    @classmethod
    def off(cls) -> FloodLimits:
        return cls(enabled=False)


class _Window:
    __slots__ = ("rate", "times")

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more call fits in the window (0 if it fits now)."""
        while self.times and self.times[0] <= now - self.rate.per:
            self.times.popleft()
        if len(self.times) < self.rate.count:
            return 0.0
        return self.times[0] + self.rate.per - now


class FloodControl:
    def __init__(self, limits: FloodLimits, clock: Callable[[], float]) -> None:
        self._limits = limits
        self._clock = clock
        self._windows: dict[tuple[str, int], _Window] = {}

    @property
    def limits(self) -> FloodLimits:
        return self._limits

    def configure(self, limits: FloodLimits) -> None:
        self._limits = limits
        self._windows.clear()

    def admit(self, method: str, chat_id: int | None, chat_is_private: bool) -> None:
        """Count the call, or raise a 429 without counting it."""
        limits = self._limits
        if not limits.enabled:
            return
        keyed: list[tuple[tuple[str, int], Rate]] = []
        if method in MESSAGE_METHODS:
            if limits.overall is not None:
                keyed.append((("overall", 0), limits.overall))
            per_chat = limits.private_chat if chat_is_private else limits.group_chat
            if per_chat is not None and chat_id is not None:
                keyed.append((("chat", chat_id), per_chat))
        elif method in ADMIN_METHODS and limits.admin is not None:
            keyed.append((("admin", 0), limits.admin))
        if not keyed:
            return
        now = self._clock()
        windows = [self._window(key, rate) for key, rate in keyed]
        wait = max(w.wait(now) for w in windows)
        if wait > 0:
            raise _refusal(wait)
        for window in windows:
            window.times.append(now)

    def _window(self, key: tuple[str, int], rate: Rate) -> _Window:
        window = self._windows.get(key)
        if window is None or window.rate != rate:
            window = self._windows[key] = _Window(rate)
        return window


def _refusal(wait: float) -> ApiError:
    # Telegram speaks whole seconds and never says 0.
    return too_many_requests(max(1, math.ceil(wait)))
