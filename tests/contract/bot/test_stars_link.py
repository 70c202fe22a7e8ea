"""Telegram's own Stars subscription link through the real bot (issue 21): the owner
switches it on and off with /stars_link; a subscriber who joins through the link in
the emulated Telegram (which charges the Stars) gets a subscription to Telegram's
until_date, moved on when Telegram renews it."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.catalog.notices import render
from core.domain.channel import Channel
from core.domain.money import Money
from core.domain.stars_link import PERIOD_SECONDS, STARS_LINK_TIER, StarsLink, stars_link_price
from core.domain.subscription import Subscription
from core.services.notices import offer_message
from sandbox.telegram.model import InviteLink
from tests.contract.bot.harness import BOT_USERNAME, SUBSCRIBER, Bot
from tests.unit.services.world import CLOSED, KEYRING, OWNER


async def test_stars_link_switches_telegrams_link_on_and_off(bot: Bot, channel: Channel) -> None:
    on = await bot.say(OWNER, "/stars_link 1 500")

    stored = await bot.world.channel_now(channel.id)
    assert stored.stars_link is not None
    url = stored.stars_link.url
    assert bot.world.chat.subscription_links[url] == (CLOSED, Money.of("500", "XTR"))
    assert on.text.startswith("Alpha Signals: the offer now also shows Telegram's own Stars")
    assert url in on.text

    off = await bot.say(OWNER, "/stars_link 1 off")
    assert (await bot.world.channel_now(channel.id)).stars_link is None
    assert url not in bot.world.chat.subscription_links
    assert off.text.startswith("Alpha Signals: Telegram's Stars subscription link is off")


async def test_a_bad_price_gets_the_usage_or_the_range_and_makes_no_link(
    bot: Bot, channel: Channel
) -> None:
    words = await bot.say(OWNER, "/stars_link 1 lots")
    too_much = await bot.say(OWNER, "/stars_link 1 10001")

    assert words.text.startswith("Write the price in Stars after the channel number")
    assert "1 to 10000" in too_much.text
    assert bot.world.chat.subscription_links == {}
    assert (await bot.world.channel_now(channel.id)).stars_link is None


async def test_the_offer_shows_join_with_telegram_stars(bot: Bot, channel: Channel) -> None:
    channel.set_stars_link(StarsLink("https://t.me/+starsLINK", stars_link_price(300)))
    offer = render(offer_message(channel, BOT_USERNAME, KEYRING, bot.world.clock.now()))
    last = offer.buttons[-1][0]
    assert (last.text, last.url) == ("Join with Telegram Stars", "https://t.me/+starsLINK")


async def _subscription(bot: Bot, channel: Channel) -> Subscription | None:
    async with bot.world.uow() as tx:
        return await tx.subscriptions.find(SUBSCRIBER, channel.id)


async def test_joining_and_renewing_through_the_link_follow_telegrams_until_date(
    bot: Bot, channel: Channel
) -> None:
    url = "https://t.me/+emulatedStars1"
    bot.emu.chat(CLOSED).links[url] = InviteLink(
        url, bot.emu.bot.id, subscription_period=PERIOD_SECONDS, subscription_price=500
    )
    async with bot.world.uow() as tx:
        stored = await tx.channels.get(channel.id)
        stored.set_stars_link(StarsLink(url, stars_link_price(500)))
        await tx.channels.update(stored)
        await tx.commit()

    # The first getUpdates asks for chat_member updates; Telegram drops them till then.
    await bot.until(lambda: "chat_member" in bot.emu.hub.allowed, "the bot's first poll")
    assert str(bot.emu.user_opens_link(SUBSCRIBER, url)) == "joined"

    first_end = datetime.fromtimestamp(bot.emu.chat(CLOSED).members[SUBSCRIBER].until_date, UTC)

    async def recorded(end: datetime) -> bool:
        sub = await _subscription(bot, channel)
        return sub is not None and sub.expires_at.timestamp() == end.timestamp()

    await bot.until_true(lambda: recorded(first_end), "the member's subscription")
    sub = await _subscription(bot, channel)
    assert sub is not None and sub.tier == STARS_LINK_TIER
    bot.emu.channel_subscription_renews(CLOSED, SUBSCRIBER)
    second_end = datetime.fromtimestamp(bot.emu.chat(CLOSED).members[SUBSCRIBER].until_date, UTC)
    assert (second_end - first_end).total_seconds() == PERIOD_SECONDS
    await bot.until_true(lambda: recorded(second_end), "the renewal")
    async with bot.world.uow() as tx:
        audit = [e.action for e in await tx.audit.all()]
    assert audit.count("subscription.stars_link") == 2
    status = await bot.say(SUBSCRIBER, "/status")
    assert "Alpha Signals — through Telegram's Stars subscription link, paid until" in status.text
