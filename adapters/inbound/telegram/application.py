"""The bot as one python-telegram-bot Application: the rate gate, then the
conversation router (see :mod:`conversation`), then every ordinary handler, and the
one error handler behind them; plus the repeating job that tells people their
conversation timed out."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    ChatMemberHandler,
    CommandHandler,
    ExtBot,
    JobQueue,
    MessageHandler,
    PreCheckoutQueryHandler,
    TypeHandler,
    filters,
)

from adapters.catalog.buttons import (
    APPROVE_SELLER_PREFIX,
    CANCEL_DONATION,
    CONFIRM_PREFIX,
    DECLINE_SELLER_PREFIX,
    PRESET_PREFIX,
    RENEW_PREFIX,
    RESEND_PREFIX,
    STARS_PREFIX,
)
from adapters.inbound.telegram.chat_events import ChatEventHandlers
from adapters.inbound.telegram.conversation import ConversationRouter, TimeoutSweeper
from adapters.inbound.telegram.coupons import CouponHandlers
from adapters.inbound.telegram.dashboard import DashboardHandlers
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.donations import DonationHandlers
from adapters.inbound.telegram.errors import RateGate, on_error
from adapters.inbound.telegram.language import LanguageHandlers
from adapters.inbound.telegram.menus import publish_menus
from adapters.inbound.telegram.names import NameNotes
from adapters.inbound.telegram.operator import OperatorHandlers
from adapters.inbound.telegram.owner import OwnerHandlers
from adapters.inbound.telegram.queries import ChannelViews
from adapters.inbound.telegram.replies import Context
from adapters.inbound.telegram.stars import StarsHandlers
from adapters.inbound.telegram.subscriber import SubscriberHandlers
from adapters.inbound.telegram.wording import WordingHandlers

__all__ = ["ALLOWED_UPDATES", "DEFAULT_API_URL", "BotApplication", "build_bot_application"]

DEFAULT_API_URL = "https://api.telegram.org"

ALLOWED_UPDATES: tuple[str, ...] = (
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.CHAT_JOIN_REQUEST,
    Update.MY_CHAT_MEMBER,
    Update.CHAT_MEMBER,
    Update.PRE_CHECKOUT_QUERY,
)
"""Exactly the update kinds the handlers below serve, for setWebhook and getUpdates
(Telegram sends ``chat_join_request``, ``my_chat_member`` and ``chat_member`` only
when asked; ``chat_member`` reports members of a Stars subscription link;
``pre_checkout_query`` must be answered within 10 s for a Stars payment to go on)."""

BotApplication = Application[
    ExtBot[None], Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[Context]
]

_NAMES_GROUP = -3
_LANGUAGE_GROUP = -2
_RATE_GATE_GROUP = -1
_CONVERSATION_GROUP = 0
_COMMANDS_GROUP = 1


def build_bot_application(
    deps: BotDeps,
    token: str,
    base_url: str = DEFAULT_API_URL,
    *,
    webhook: bool = False,
    bot: ExtBot[None] | None = None,
) -> BotApplication:
    """The bot, talking to the Bot API at ``base_url`` (Telegram, or an emulator).

    With ``webhook=True`` it has no updater: updates come in through
    :meth:`BotRunner.handle_webhook_update` from the HTTP app instead of long polling.

    ``bot`` lets the bot share an already-built ExtBot (the outbound adapters' one,
    so replies and outbox sends share one pacing budget, as Telegram counts them per
    bot); ``token`` must be its token, and ``base_url`` is then unused. The
    Application shuts that bot down when it stops (python-telegram-bot always does),
    so stop the runner only once nothing else sends through it any more."""
    builder = ApplicationBuilder()
    if bot is not None:
        if bot.token != token:
            raise ValueError("the shared bot was built with another token")
        configured = builder.bot(bot)
    else:
        root = base_url.rstrip("/")
        configured = builder.token(token).base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    configured = configured.concurrent_updates(deps.settings.concurrent_updates)
    if webhook:
        configured = configured.updater(None)

    configured = configured.application_class(SweepingApplication)
    application = configured.build()
    if not isinstance(application, SweepingApplication):
        raise TypeError("the builder ignored the application class")
    router = add_handlers(application, deps)
    application.sweeper = TimeoutSweeper(router, deps.settings.timeout_sweep)
    application.deps = deps
    return application


class SweepingApplication(BotApplication):
    """The Application, plus the sweep that tells people their conversation timed out,
    running exactly while the Application does (polling or webhook). A subclass, as
    python-telegram-bot documents for this: its post_init/post_stop hooks are only
    called by run_polling and run_webhook, which BotRunner does not use."""

    __slots__ = ("deps", "sweeper")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sweeper: TimeoutSweeper | None = None
        self.deps: BotDeps | None = None

    async def start(self) -> None:
        await super().start()
        if self.sweeper is not None:
            await self.sweeper.start(self.bot)
        if self.deps is not None:
            await publish_menus(self.bot, self.deps)

    async def stop(self) -> None:
        if self.sweeper is not None:
            await self.sweeper.stop()
        await super().stop()


def add_handlers(application: BotApplication, deps: BotDeps) -> ConversationRouter:
    """Every handler, in its group; returns the conversation router, whose timeouts
    the caller sweeps."""
    settings = deps.settings
    views = ChannelViews(deps.uow)
    gate = RateGate(deps.limiter, settings.command_cost, settings.checkout_cost)
    coupons = CouponHandlers(deps, views, gate)
    subscriber = SubscriberHandlers(deps, gate, coupons)
    donations = DonationHandlers(deps, views, gate)
    owner = OwnerHandlers(deps, views)
    chats = ChatEventHandlers(deps, views)
    operator = OperatorHandlers(deps)
    stars = StarsHandlers(deps)
    dashboard = DashboardHandlers(deps)
    language = LanguageHandlers(deps, views)
    private = filters.ChatType.PRIVATE

    wording = WordingHandlers(deps, views)
    router = ConversationRouter(
        [donations, owner, wording],
        deps.conversations,
        settings.conversation_timeout,
        languages=deps.languages,
    )

    if deps.names is not None:
        application.add_handler(TypeHandler(Update, NameNotes(deps.names).note), group=_NAMES_GROUP)
    # The person's language first, so every answer below (a refusal included) is in it.
    application.add_handler(TypeHandler(Update, language.speak), group=_LANGUAGE_GROUP)

    application.add_handler(TypeHandler(Update, gate.gate), group=_RATE_GATE_GROUP)
    # A typed amount or channel name goes to the conversation it belongs to; anything
    # no conversation takes goes on to the group below.
    application.add_handler(TypeHandler(Update, router.route), group=_CONVERSATION_GROUP)
    # Order matters within a group: the first handler that matches takes the update.
    application.add_handlers(
        [
            CommandHandler("start", subscriber.start, filters=private),
            CommandHandler("status", subscriber.status, filters=private),
            CommandHandler("help", subscriber.help, filters=private),
            CommandHandler("channels", owner.channels, filters=private),
            CommandHandler("tiers", owner.tiers, filters=private),
            CommandHandler("trial", owner.trial, filters=private),
            CommandHandler("stars_link", owner.stars_link, filters=private),
            CommandHandler("donations", owner.donations, filters=private),
            CommandHandler("wallet", owner.wallet, filters=private),
            CommandHandler("repost", owner.repost, filters=private),
            CommandHandler("resume", owner.resume, filters=private),
            CommandHandler("bundle", owner.bundle, filters=private),
            CommandHandler("cancel", subscriber.nothing_to_cancel, filters=private),
            CommandHandler("language", language.language, filters=private),
            CommandHandler("dashboard", dashboard.dashboard, filters=private),
            # --- coupons and access codes (issue 21)
            CommandHandler("coupon", coupons.coupon, filters=private),
            CommandHandler("coupons", coupons.list, filters=private),
            CommandHandler("redeem", coupons.redeem, filters=private),
            # --- operators (PAYGATE_OPERATOR_IDS)
            CommandHandler("owners", operator.owners, filters=private),
            # --- operators and owners: Stars refunds
            CommandHandler("refund", stars.refund, filters=private),
            CommandHandler("stoprenewal", stars.stop_renewal, filters=private),
            PreCheckoutQueryHandler(stars.pre_checkout),
            MessageHandler(filters.SUCCESSFUL_PAYMENT, stars.successful_payment),
            CallbackQueryHandler(
                operator.decide_seller,
                pattern=f"^({APPROVE_SELLER_PREFIX}|{DECLINE_SELLER_PREFIX})",
            ),
            CallbackQueryHandler(subscriber.confirm, pattern=f"^{CONFIRM_PREFIX}"),
            CallbackQueryHandler(subscriber.confirm_stars, pattern=f"^{STARS_PREFIX}"),
            CallbackQueryHandler(subscriber.renew, pattern=f"^{RENEW_PREFIX}"),
            CallbackQueryHandler(subscriber.resend, pattern=f"^{RESEND_PREFIX}"),
            # Keypad presses outside a donation conversation (it timed out, or the
            # person started another one since): the buttons carry all they need.
            CallbackQueryHandler(donations.preset, pattern=f"^{PRESET_PREFIX}"),
            CallbackQueryHandler(donations.cancel_button, pattern=f"^{CANCEL_DONATION}$"),
            ChatJoinRequestHandler(chats.join_request),
            ChatMemberHandler(chats.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
            ChatMemberHandler(chats.chat_member, ChatMemberHandler.CHAT_MEMBER),
            MessageHandler(private & (filters.TEXT | filters.COMMAND), subscriber.not_understood),
            CallbackQueryHandler(subscriber.stale_button),
        ],
        group=_COMMANDS_GROUP,
    )
    application.add_error_handler(on_error)
    return router
