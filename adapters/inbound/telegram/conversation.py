"""The bot's multi-step exchanges (a donation's typed amount, /register step by step),
with each person's step kept in the shared ConversationStore: read for every update,
written before the bot answers. Consecutive messages of one conversation may reach
different processes (several web processes behind one webhook URL) or a restarted
one; whichever handles a message finds the step the previous one wrote.

Why not python-telegram-bot's ConversationHandler with a persistence behind it: in
PTB 21/22 the handler reads its states from the persistence once, when the
Application initializes (``get_conversations``), and from then on consults only its
own dict, in a synchronous ``check_update``; changes go back to the persistence every
``update_interval`` (60 s by default). Per-update ``refresh_*`` hooks exist for
user, chat and bot data, not for conversation states, and the timeouts are jobs in
one process's JobQueue. So another process never sees a step this one took, and a
restart forgets the last minute of them. Hence this small router of our own, in a
handler group of its own ahead of the ordinary handlers:

- Matching stays python-telegram-bot's: each route's matcher is a PTB handler
  (CommandHandler, MessageHandler, CallbackQueryHandler) used for ``check_update``
  only, so filters, ``/command@bot`` and ``context.args`` behave as they always did.
  Only an update some route could take costs a store read (/help costs none).
- Entry points (/register, a Donate link, "Other amount") win over everything and
  replace the person's conversation (the one they had ends first), so a person is in
  one exchange at a time. Otherwise the routes of the step read from the store apply,
  then /cancel; when none does, the update goes on to the ordinary handlers.
- A step moves the conversation with a compare-and-set on the version it read. If
  another update of the same person got there first, the step raises
  :class:`Superseded` before doing anything else, and the update is routed again
  against what the other one wrote.
- A step that leaves the conversation as it found it, or fails, keeps it and its idle
  time starts again; a failing entry point leaves none. Failures are answered here,
  as the error handler would answer them, and the update goes no further.
- Timeouts: the store hands each conversation whose time is up to exactly one
  process's sweep (:class:`TimeoutSweeper`, every ``timeout_sweep`` while the
  Application runs), which tells the person. Any process can, so a restart delays a
  notice by one sweep at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, Protocol

import attrs
from telegram import Bot, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from adapters.catalog import texts
from adapters.catalog.language import speaking
from adapters.inbound.telegram.errors import answer_failure, tell
from adapters.inbound.telegram.replies import Context
from core.domain.ids import ChatId, UserId
from core.ports.conversations import Conversation, ConversationStore, StoredConversation
from core.ports.errors import Unavailable
from core.ports.languages import LanguageBook

logger = logging.getLogger("paygate.bot")

Handler = BaseHandler[Update, Context, object]
Step = Callable[["Turn"], Awaitable[None]]

ATTEMPTS = 3
"""Routings of one update before giving up on a conversation that keeps changing
under it (three updates of one person racing each other)."""
SWEEP_BATCH = 100


class Superseded(Exception):
    """Another update of the same person moved the conversation on first: this update
    is routed again against what that one wrote."""


async def _matcher_only(update: Update, context: Context) -> None:
    raise RuntimeError("a route's matcher only matches; the router runs the step")


@attrs.frozen
class Route:
    """Updates ``matcher`` accepts go to ``step``."""

    matcher: Handler
    step: Step


def command(name: str, step: Step, only: filters.BaseFilter = filters.ChatType.PRIVATE) -> Route:
    return Route(CommandHandler(name, _matcher_only, filters=only), step)


def message(only: filters.BaseFilter, step: Step) -> Route:
    return Route(MessageHandler(only, _matcher_only), step)


def button(pattern: str, step: Step) -> Route:
    return Route(CallbackQueryHandler(_matcher_only, pattern=pattern), step)


def _match(routes: Sequence[Route], update: Update) -> tuple[Route, object] | None:
    for route in routes:
        check = route.matcher.check_update(update)
        if check is not None and check is not False:
            return route, check
    return None


class Turn:
    """One update's visit to a conversation: the conversation it was routed by, and
    the only ways a step changes it. Each change reaches the store before the step
    answers, so the person's next message finds it wherever it is handled."""

    def __init__(
        self,
        update: Update,
        context: Context,
        user_id: UserId,
        found: StoredConversation | None,
        store: ConversationStore,
        ttl: timedelta,
    ) -> None:
        self.update = update
        self.context = context
        self.user_id = user_id
        self._found = found
        self._version = found.version if found is not None else None
        self._store = store
        self._ttl = ttl
        self.settled = False
        """The step started, moved or ended the conversation (or tried to)."""

    @property
    def conversation(self) -> Conversation:
        """The conversation whose step this is (entry points have none)."""
        if self._found is None:
            raise LookupError("an entry point starts a conversation; it has none yet")
        return self._found.conversation

    async def start(self, conversation: Conversation) -> None:
        """Begin ``conversation`` (an entry point: nothing to compare with)."""
        self.settled = True
        self._version = await self._store.put(self.user_id, conversation, self._ttl)

    async def move(self, conversation: Conversation) -> bool:
        """Go on to ``conversation``; False (nothing written) when another update of
        this person changed the conversation since this one read it."""
        self.settled = True
        if self._version is None:
            return False
        version = await self._store.put(
            self.user_id, conversation, self._ttl, if_version=self._version
        )
        if version is None:
            return False
        self._version = version
        return True

    async def end(self) -> bool:
        """End the conversation; False when another update had already changed it (that
        newer conversation stays)."""
        self.settled = True
        version, self._version = self._version, None
        if version is None:
            return False
        return await self._store.delete(self.user_id, if_version=version)

    async def keep(self) -> None:
        """The conversation stays at its step, and its idle time starts again."""
        if self._found is None or self.settled:
            return
        await self.move(self._found.conversation)

    async def abandon(self) -> None:
        """After a failed entry point: the conversation it may have started ends."""
        await self.end()


class ConversationPart(Protocol):
    """One kind of exchange (the donation amount, /register)."""

    def entry_routes(self) -> list[Route]: ...

    def step_routes(self) -> dict[str, list[Route]]:
        """The routes of each of its steps, by the step's name."""
        ...

    async def cancelled(self, update: Update, context: Context, conversation: Conversation) -> None:
        """/cancel ended ``conversation`` (already removed from the store): say so."""
        ...

    async def timed_out(self, bot: Bot, user_id: UserId, conversation: Conversation) -> None:
        """``conversation``'s idle time ran out (already removed): tell the person."""
        ...


class ConversationRouter:
    def __init__(
        self,
        parts: Sequence[ConversationPart],
        store: ConversationStore,
        timeout: timedelta,
        *,
        languages: LanguageBook | None = None,
    ) -> None:
        self._store = store
        self._languages = languages
        self._timeout = timeout
        self._entries = [route for part in parts for route in part.entry_routes()]
        self._steps: dict[str, list[Route]] = {}
        self._part_of: dict[str, ConversationPart] = {}
        cancel = command("cancel", self._cancel)
        for part in parts:
            for step, routes in part.step_routes().items():
                if step in self._steps:
                    raise ValueError(f"two parts claim the step {step}")
                self._steps[step] = [*routes, cancel]
                self._part_of[step] = part
        self._all = [*self._entries, *(r for routes in self._steps.values() for r in routes)]

    async def route(self, update: Update, context: Context) -> None:
        """The handler of its own group: takes the update (ApplicationHandlerStop) if a
        conversation route applies, otherwise lets it go on to the ordinary handlers."""
        user = update.effective_user
        if user is None or _match(self._all, update) is None:
            return
        try:
            handled = await self._route(update, context, UserId(user.id))
        except ApplicationHandlerStop:
            raise
        except Exception as error:
            # The store could not be read (or held something unreadable): the person
            # hears so, and no ordinary handler guesses at what the message meant.
            await answer_failure(update, context, error)
            handled = True
        if handled:
            raise ApplicationHandlerStop

    async def _route(self, update: Update, context: Context, user_id: UserId) -> bool:
        for _ in range(ATTEMPTS):
            try:
                return await self._attempt(update, context, user_id)
            except Superseded:
                continue
        logger.warning("update %s: the conversation kept changing under it", update.update_id)
        await tell(update, context, texts.generic_failure())
        return True

    async def _attempt(self, update: Update, context: Context, user_id: UserId) -> bool:
        """True when a route took the update; raises Superseded to be routed again."""
        found = await self._store.get(user_id)
        if found is not None and found.conversation.step not in self._steps:
            # Written by another version of the bot: it times out on its own.
            found = None
        entry = _match(self._entries, update)
        if entry is not None:
            if found is not None:
                await self._store.delete(user_id)
            turn = Turn(update, context, user_id, None, self._store, self._timeout)
            await self._run(*entry, turn, entry=True)
            return True
        if found is None:
            return False
        chosen = _match(self._steps[found.conversation.step], update)
        if chosen is None:
            return False
        turn = Turn(update, context, user_id, found, self._store, self._timeout)
        await self._run(*chosen, turn, entry=False)
        return True

    async def _run(self, route: Route, check: object, turn: Turn, *, entry: bool) -> None:
        context = turn.context
        # Typed loosely by PTB (the context's Application is generic in its own types);
        # the matchers are plain PTB handlers of this very application.
        application: Any = context.application
        route.matcher.collect_additional_context(context, turn.update, application, check)
        try:
            await route.step(turn)
        except (Superseded, ApplicationHandlerStop):
            raise
        except Exception as error:
            await self._after_failure(turn, entry)
            await answer_failure(turn.update, context, error)
            return
        if not entry:
            await self._quietly(turn.keep)

    async def _after_failure(self, turn: Turn, entry: bool) -> None:
        await self._quietly(turn.abandon if entry else turn.keep)

    @staticmethod
    async def _quietly(write: Callable[[], Awaitable[object]]) -> None:
        # Only the idle time or an already-failed step is at stake: the person's
        # answer must not wait on (or be replaced by) a store outage.
        try:
            await write()
        except Unavailable:
            logger.warning("could not update a conversation's state; it times out as it was")

    async def _cancel(self, turn: Turn) -> None:
        conversation = turn.conversation
        if not await turn.end():
            raise Superseded
        await self._part_of[conversation.step].cancelled(turn.update, turn.context, conversation)

    async def expire(self, bot: Bot) -> None:
        """Tell each person whose conversation's idle time ran out. The store gives each
        conversation to exactly one process, so nobody is told twice."""
        while True:
            try:
                batch = await self._store.take_expired(SWEEP_BATCH)
            except Unavailable:
                logger.warning("conversation store unavailable; timeouts are told later")
                return
            for held in batch:
                part = self._part_of.get(held.conversation.step)
                if part is None:
                    continue
                try:
                    with speaking(await self._language_of(held.user_id)):
                        await part.timed_out(bot, held.user_id, held.conversation)
                except Exception as error:
                    logger.warning(
                        "could not tell a person their conversation timed out (%s)",
                        type(error).__name__,
                    )
            if len(batch) < SWEEP_BATCH:
                return

    async def _language_of(self, user_id: UserId) -> str | None:
        """What the person reads, for a notice outside any update of theirs."""
        if self._languages is None:
            return None
        held = await self._languages.get(ChatId(user_id))
        return None if held is None else held.language


class TimeoutSweeper:
    """Runs :meth:`ConversationRouter.expire` every ``interval`` while the bot runs: a
    task of its own, started when the Application initializes and stopped when it
    stops, one sweep at a time. Stopping lets a sweep in progress finish (its
    conversations are already out of the store; cutting it short would lose their
    notices) for up to ``STOP_WAIT``."""

    STOP_WAIT = 10.0

    def __init__(self, router: ConversationRouter, interval: timedelta) -> None:
        self._router = router
        self._interval = interval.total_seconds()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, bot: Bot) -> None:
        if self._task is not None:
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(bot), name="conversation timeouts")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(task, self.STOP_WAIT)
        except TimeoutError:
            logger.warning("a conversation timeout sweep was cut short by the shutdown")

    async def _run(self, bot: Bot) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
                return
            try:
                await self._router.expire(bot)
            except Exception:
                # A bug or unreadable data: say so and keep sweeping, or no one would
                # ever be told again.
                logger.exception("conversation timeout sweep failed")
