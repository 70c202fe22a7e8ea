"""Updates for the bot: queued with increasing ``update_id``, handed out by getUpdates
(offset, limit, long-poll timeout) or pushed to a webhook that is retried until it
answers 2xx, with the secret token header setWebhook asked for."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from sandbox.telegram.errors import (
    TERMINATED_BY_OTHER_POLL,
    WEBHOOK_ACTIVE,
    ApiError,
)

JSON = dict[str, Any]

UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_ALLOWED = UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}
"""What Telegram sends when allowed_updates was never given (or given empty)."""

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


@dataclass(frozen=True)
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int = 40


@dataclass(frozen=True)
class DeliveryAttempt:
    update_id: int
    status: int | None
    """The webhook's HTTP status, or None when it could not be reached."""
    at: float


class UpdateHub:
    def __init__(
        self,
        *,
        webhook_retry_delay: float = 1.0,
        webhook_retry_max_delay: float = 30.0,
        webhook_timeout: float = 10.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._next_update_id = 1
        self._pending: list[JSON] = []
        self._allowed: frozenset[str] = DEFAULT_ALLOWED
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closed = False
        self._retry_delay = webhook_retry_delay
        self._retry_max_delay = webhook_retry_max_delay
        self._webhook_timeout = webhook_timeout
        self._wall_clock = wall_clock
        self._delivery: asyncio.Task[None] | None = None
        self.webhook: Webhook | None = None
        self.attempts: list[DeliveryAttempt] = []
        self.last_error: tuple[int, str] | None = None
        self.emitted: list[JSON] = []
        """Every update ever queued, in order, for tests to inspect."""

    # ------------------------------------------------------------------ queue
    @property
    def pending(self) -> list[JSON]:
        return list(self._pending)

    @property
    def allowed(self) -> frozenset[str]:
        return self._allowed

    def set_allowed(self, allowed: list[str] | None) -> None:
        # Given empty, Telegram goes back to its default set; not given, keeps the last.
        if allowed is None:
            return
        wanted = frozenset(allowed) & UPDATE_TYPES
        self._allowed = wanted or DEFAULT_ALLOWED

    def emit(self, kind: str, payload: JSON) -> JSON | None:
        """Queue an update, unless the bot asked not to get this kind."""
        if kind not in self._allowed:
            return None
        update: JSON = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._pending.append(update)
        self.emitted.append(update)
        self._wake()
        return update

    def drop_pending(self) -> None:
        self._pending.clear()
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float | None) -> None:
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), seconds)

    # ------------------------------------------------------------ getUpdates
    async def get_updates(self, offset: int, limit: int, poll_seconds: float) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll still waiting is terminated, as on Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, poll_seconds)
        while True:
            if self._closed:
                return []
            if generation != self._poll_generation:
                raise ApiError(409, TERMINATED_BY_OTHER_POLL)
            if self.webhook is not None:
                raise ApiError(409, "Conflict: terminated by setWebhook request")
            if self._pending:
                return self._pending[:limit]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._wait_change(remaining)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            # A negative offset keeps only the last -offset updates; the rest are forgotten.
            self._pending = self._pending[offset:]

    # ---------------------------------------------------------------- webhook
    def set_webhook(self, hook: Webhook | None, drop_pending: bool) -> None:
        if drop_pending:
            self._pending.clear()
        self.webhook = hook
        self.last_error = None
        self._wake()
        if hook is not None:
            self._ensure_delivery()

    def _ensure_delivery(self) -> None:
        if self._closed or (self._delivery is not None and not self._delivery.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # started later by start()
        self._delivery = loop.create_task(self._deliver())

    def start(self) -> None:
        self._closed = False
        if self.webhook is not None:
            self._ensure_delivery()

    async def close(self) -> None:
        self._closed = True
        self._wake()
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None

    async def _deliver(self) -> None:
        delay = self._retry_delay
        timeout = aiohttp.ClientTimeout(total=self._webhook_timeout)
        # trust_env=False: a proxy from the environment must never see our loopback traffic.
        async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:
            while not self._closed:
                hook = self.webhook
                if hook is None:
                    return
                if not self._pending:
                    await self._wait_change(None)
                    continue
                update = self._pending[0]
                status = await self._post(session, hook, update)
                self.attempts.append(DeliveryAttempt(update["update_id"], status, time.monotonic()))
                if status is not None and 200 <= status < 300:
                    if self._pending and self._pending[0] is update:
                        self._pending.pop(0)
                    delay = self._retry_delay
                    continue
                message = (
                    f"Wrong response from the webhook: {status}" if status else "Connection refused"
                )
                self.last_error = (int(self._wall_clock()), message)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max_delay)

    @staticmethod
    async def _post(session: aiohttp.ClientSession, hook: Webhook, update: JSON) -> int | None:
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        try:
            async with session.post(hook.url, json=update, headers=headers) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return None

    def webhook_info(self) -> JSON:
        hook = self.webhook
        info: JSON = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["allowed_updates"] = sorted(self._allowed)
            if self.last_error is not None:
                info["last_error_date"], info["last_error_message"] = self.last_error
        return info
