"""/wording: an owner writes their channel's messages in their own words, per language
(the rules and the words about them are the catalog's: :mod:`adapters.catalog.wording`).

``/wording 1 welcome es`` starts a conversation: the owner's next message is the
text. It is checked (placeholders, Telegram's HTML subset, length with sample
values); a text that passes is staged and shown filled with sample values, under
Save and Discard buttons. Save publishes it; until then subscribers read what they
read before. ``/wording 1`` lists what channel 1 has; ``... reset`` goes back to
PayGate's words.

A text formatted in the Telegram app (bold, links) arrives as entities and is turned
into the same HTML an owner could type; a text without formatting is taken as typed,
so hand-written tags work too.
"""

from __future__ import annotations

from telegram import Bot, Message, Update
from telegram.ext import filters

from adapters.catalog import wording_texts as words
from adapters.catalog.language import supported
from adapters.catalog.wording import problems
from adapters.inbound.telegram.conversation import (
    Route,
    Superseded,
    Turn,
    button,
    command,
    message,
)
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.parsing import BadInput
from adapters.inbound.telegram.queries import ChannelViews
from adapters.inbound.telegram.replies import Context, answer, replace, reply
from core.domain.ids import ChannelId, UserId
from core.ports.conversations import Conversation
from core.ports.wordings import Wording, WordingKind

TEXT = "wording.text"
CONFIRM = "wording.confirm"
"""Waiting for the text; then for Save or Discard under its preview."""

_CHANNEL = "channel"
_TITLE = "title"
_KIND = "kind"
_LANGUAGE = "language"


def _kind(given: str) -> WordingKind:
    try:
        return WordingKind(given.lower())
    except ValueError:
        raise BadInput(words.unknown_kind(given[:32])) from None


def _written(received: Message) -> str:
    formatted = any(e.type not in ("bot_command", "url", "mention") for e in received.entities)
    return received.text_html if formatted else received.text or ""


class WordingHandlers:
    def __init__(self, deps: BotDeps, views: ChannelViews) -> None:
        self._deps = deps
        self._views = views

    def entry_routes(self) -> list[Route]:
        return [command("wording", self.begin)]

    def step_routes(self) -> dict[str, list[Route]]:
        text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
        return {
            TEXT: [message(text, self.got_text)],
            CONFIRM: [
                button(f"^{words.SAVE}$", self.save),
                button(f"^{words.DISCARD}$", self.discard),
                message(text, self.got_text),
            ],
        }

    async def begin(self, turn: Turn) -> None:
        update, context = turn.update, turn.context
        user = update.effective_user
        own = self._deps.wording
        if user is None or own is None:
            return
        owner = UserId(user.id)
        args = context.args or []
        if not args:
            await reply(update, context, words.usage())
            return
        number, channel = await self._views.numbered(owner, args[0])
        if len(args) == 1:
            listed = await own.published(owner, channel.id)
            await reply(update, context, words.listing(channel.title, number, listed))
            return
        if len(args) not in (3, 4) or (len(args) == 4 and args[3].lower() != "reset"):
            raise BadInput(words.usage())
        kind = _kind(args[1])
        language = supported(args[2])
        if language is None or args[2].lower() != language:
            raise BadInput(words.usage())
        if len(args) == 4:
            done = await own.reset(owner, channel.id, kind, language)
            await reply(update, context, words.reset(kind, language, channel.title, done))
            return
        await turn.start(
            Conversation(
                TEXT,
                {
                    _CHANNEL: channel.id,
                    _TITLE: channel.title[:128],
                    _KIND: kind.value,
                    _LANGUAGE: language,
                },
            )
        )
        await reply(update, context, words.ask(kind, language, channel.title))

    async def got_text(self, turn: Turn) -> None:
        """The text: refused with every reason (the owner stays at this step), or staged
        and previewed with sample values under Save and Discard."""
        update, context = turn.update, turn.context
        received = update.effective_message
        own = self._deps.wording
        if received is None or update.effective_user is None or own is None:
            return
        held = turn.conversation
        kind = WordingKind(held.text(_KIND))
        language = held.text(_LANGUAGE)
        written = _written(received)
        found = problems(kind, written)
        if found:
            await reply(update, context, words.refused(found))
            return
        draft = Wording(
            ChannelId(held.text(_CHANNEL)),
            kind,
            language,
            written,
            UserId(update.effective_user.id),
        )
        await own.stage(draft)
        if not await turn.move(Conversation(CONFIRM, held.as_dict())):
            raise Superseded
        await reply(update, context, words.preview(kind, language, written))

    async def save(self, turn: Turn) -> None:
        await self._close(turn, publish=True)

    async def discard(self, turn: Turn) -> None:
        await self._close(turn, publish=False)

    async def _close(self, turn: Turn, *, publish: bool) -> None:
        update, context = turn.update, turn.context
        query = update.callback_query
        own = self._deps.wording
        if query is None or update.effective_user is None or own is None:
            return
        held = turn.conversation
        if not await turn.end():
            raise Superseded
        kind = WordingKind(held.text(_KIND))
        language = held.text(_LANGUAGE)
        if publish:
            owner = UserId(update.effective_user.id)
            await own.publish(owner, ChannelId(held.text(_CHANNEL)), kind, language)
            await replace(query, context, words.saved(kind, language, held.text(_TITLE)))
        else:
            await replace(query, context, words.discarded())
        await answer(query)

    async def cancelled(self, update: Update, context: Context, conversation: Conversation) -> None:
        await reply(update, context, words.cancelled())

    async def timed_out(self, bot: Bot, user_id: UserId, conversation: Conversation) -> None:
        await bot.send_message(user_id, words.timed_out())
