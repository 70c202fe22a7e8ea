"""The bot's part of a process: long polling (``paygate bot``, or ``run`` without a
public URL), or webhook updates handed over by the HTTP server (``web``/``run`` with
``PAYGATE_PUBLIC_URL`` and ``PAYGATE_TELEGRAM_WEBHOOK_SECRET``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram.error import TelegramError

from adapters.inbound.http.dashboard import LOGIN_PATH
from adapters.inbound.telegram.application import build_bot_application
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.runner import BotRunner
from adapters.outbound.telegram.errors import translate
from composition.config import Config
from composition.processes.process import Process
from core.domain.ids import UserId
from core.ports.errors import Unavailable
from core.ports.security import Secret

logger = logging.getLogger("paygate")


def bot_deps(process: Process) -> BotDeps:
    s = process.services
    return BotDeps(
        resolve_offer=s.resolve_offer,
        checkout=s.checkout,
        donate=s.donate,
        join_requests=s.join_requests,
        register=s.register_channel,
        set_tiers=s.set_tiers,
        set_trial=s.set_trial,
        stars_link=s.stars_link,
        stars_link_members=s.stars_link_members,
        take_trial=s.take_trial,
        set_donations=s.set_donations,
        set_wallet=s.set_wallet,
        sales=s.sales,
        bundles=s.manage_bundle,
        status=s.status,
        resend=s.resend_access,
        publish=s.publish,
        resume=s.resume_sales,
        uow=s.uow,
        keyring=s.keyring,
        clock=s.clock,
        limiter=s.user_limiter,
        conversations=s.conversations,
        bot_username=s.bot_username,
        operators=frozenset(UserId(user) for user in process.config.operators),
        languages=s.languages,
        pre_checkout=s.pre_checkout,
        stars_payment=s.stars_payment,
        stars_refund=s.stars_refund,
        cancel_renewal=s.cancel_renewal,
        seller_requests=s.seller_requests,
        dashboard_login_url=dashboard_login_url(process.config),
        wording=s.own_wording,
        names=s.person_names,
        coupons=s.owner_coupons,
        redeem=s.redeem_coupon,
        coupon_prices=s.coupon_prices,
    )


def dashboard_login_url(config: Config) -> str | None:
    """The bot's /dashboard button: on the public URL, when the dashboard is on."""
    if not config.dashboard or config.public_url is None:
        return None
    return config.public_url.rstrip("/") + LOGIN_PATH


def _runner(process: Process, *, webhook: bool) -> BotRunner:
    if process.bot_runner is not None:
        return process.bot_runner
    config = process.config
    config.require("telegram")
    token = config.telegram.token
    assert token is not None  # checked by require()
    application = build_bot_application(
        bot_deps(process),
        token.reveal(),
        config.telegram.api_url,
        webhook=webhook,
        bot=process.services.telegram.bot,
    )
    # Webhook updates are deduplicated by update_id once, at the HTTP edge (which
    # marks them seen once handled); polling needs none (the offset).
    runner = BotRunner(application, seen_updates=None)
    process.bot_runner = runner
    process.on_cleanup(runner.stop)
    return runner


async def webhook_handler(process: Process) -> Callable[[Mapping[str, Any]], Awaitable[None]]:
    """Start the bot for webhook mode and return what the HTTP route calls with each
    update; :func:`set_webhook` once the route listens. While Telegram is unreachable
    the bot starts with the first update (or when :func:`set_webhook` gets through)."""
    _webhook_settings(process)
    runner = _runner(process, webhook=True)
    if process.services.telegram.connected:
        await _started(runner)

    async def handle(update: Mapping[str, Any]) -> None:
        await _started(runner)
        await runner.handle_webhook_update(update)

    return handle


async def _started(runner: BotRunner) -> None:
    # Idempotent (BotRunner._start); Telegram's errors as the port's.
    try:
        await runner.start_for_webhook()
    except TelegramError as exc:
        raise translate(exc, 0) from exc


async def set_webhook(process: Process, secret: Secret | None = None) -> None:
    """Ask Telegram to push updates here. Only once the HTTP server listens: Telegram
    delivers what waited first, and a refused delivery waits for its retry. While
    Telegram is unreachable, keeps trying in the background (the process serves
    payments meanwhile). ``secret``: a re-read webhook secret, instead of the one
    configured at start."""
    url, configured = _webhook_settings(process)
    token = configured if secret is None else secret.reveal()
    runner = _runner(process, webhook=True)

    async def attempt() -> None:
        await _started(runner)
        try:
            await runner.set_webhook(url, token)
        except TelegramError as exc:
            raise translate(exc, 0) from exc

    try:
        await attempt()
    except Unavailable as exc:
        logger.warning("the Telegram webhook is not set yet (%s); retrying in the background", exc)
        process.spawn(_until_done(process, attempt, "set the Telegram webhook"), "telegram webhook")


def _webhook_settings(process: Process) -> tuple[str, str]:
    config = process.config
    secret = config.telegram.webhook_secret
    if config.public_url is None or secret is None:
        raise ValueError(
            "webhook mode needs PAYGATE_PUBLIC_URL and PAYGATE_TELEGRAM_WEBHOOK_SECRET"
        )
    return f"{config.public_url}/webhooks/telegram", secret.reveal()


async def start_bot(process: Process) -> None:
    """Poll for updates, unless this process already serves them by webhook. While
    Telegram is unreachable the process starts anyway and polling begins once it
    answers (the bot waits and retries rather than exiting)."""
    if process.bot_runner is not None:
        return
    runner = _runner(process, webhook=False)

    async def attempt() -> None:
        try:
            await runner.start_polling()
        except TelegramError as exc:
            raise translate(exc, 0) from exc

    if process.services.telegram.connected:
        try:
            await attempt()
            return
        except Unavailable as exc:
            logger.warning("cannot poll Telegram yet (%s); retrying in the background", exc)
    process.spawn(_until_done(process, attempt, "poll Telegram"), "telegram polling")


async def _until_done(
    process: Process,
    attempt: Callable[[], Awaitable[None]],
    what: str,
    *,
    first_pause: float = 1.0,
    longest_pause: float = 60.0,
) -> None:
    """Run ``attempt`` until it passes, pausing between tries (doubling up to
    ``longest_pause``) while Telegram is Unavailable, until the process stops."""
    pause = first_pause
    while not process.stopped.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.stopped.wait(), pause)
        if process.stopped.is_set():
            return
        try:
            await attempt()
        except Unavailable as exc:
            logger.debug("could not %s yet: %s", what, exc)
            pause = min(pause * 2, longest_pause)
            continue
        logger.info("Telegram answered: did %s", what)
        return
