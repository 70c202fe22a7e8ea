"""/status, the link sent again, /help, and what the bot says to anything else."""

from __future__ import annotations

from datetime import timedelta

from adapters.catalog import texts
from adapters.catalog.language import speaking
from core.domain.channel import Channel
from tests.contract.bot.harness import SUBSCRIBER, Bot, labels
from tests.unit.services.world import OWNER


async def subscribe(bot: Bot, channel: Channel) -> None:
    invoice = await bot.world.checkout.execute(SUBSCRIBER, channel.id, 1)
    await bot.world.pay(invoice)
    while (await bot.world.dispatch.run_once()).claimed:
        pass  # the grant's link is made, then the invite message goes out


async def test_status_without_subscriptions_says_how_to_subscribe(bot: Bot) -> None:
    answer = await bot.say(SUBSCRIBER, "/status")

    assert answer.text == (
        "You have no subscriptions yet. Tap a tier in a channel's offer to subscribe."
    )
    assert labels(answer) == []


async def test_status_lists_the_end_date_with_renew_and_link_buttons(
    bot: Bot, channel: Channel
) -> None:
    await subscribe(bot, channel)

    answer = await bot.say(SUBSCRIBER, "/status")

    assert answer.text == (
        "Your subscriptions:\n• Alpha Signals — tier 1, active until 2026-03-31 12:00 UTC"
    )
    assert labels(answer) == ["Renew Alpha Signals", "Send my link again"]


async def test_an_ended_subscription_is_listed_with_renew_only(bot: Bot, channel: Channel) -> None:
    await subscribe(bot, channel)
    bot.world.clock.advance(timedelta(days=31))

    answer = await bot.say(SUBSCRIBER, "/status")

    assert answer.text.endswith("Alpha Signals — tier 1, ended 2026-03-31 12:00 UTC")
    assert labels(answer) == ["Renew Alpha Signals"]


async def test_send_my_link_again_queues_the_personal_invite_once_more(
    bot: Bot, channel: Channel
) -> None:
    await subscribe(bot, channel)
    status = await bot.say(SUBSCRIBER, "/status")

    query = await bot.press(SUBSCRIBER, status, "Send my link again")

    assert bot.alert(query) == "On its way: your link arrives in a moment."
    # The link is made good for the current end first, then its message is queued.
    assert [type(e).__name__ for e in await bot.world.effects()].count("RefreshInvite") == 1
    await bot.world.dispatch.run_once()
    (resent,) = await bot.world.texts_to(SUBSCRIBER)
    assert resent.startswith("Payment confirmed. Welcome to Alpha Signals!")


async def test_send_my_link_again_after_the_end_says_there_is_nothing_to_send(
    bot: Bot, channel: Channel
) -> None:
    await subscribe(bot, channel)
    status = await bot.say(SUBSCRIBER, "/status")
    bot.world.clock.advance(timedelta(days=31))

    query = await bot.press(SUBSCRIBER, status, "Send my link again")

    assert bot.alert(query) == "You have no active subscription to this channel."
    assert await bot.world.texts_to(SUBSCRIBER) == []


async def test_help_lists_a_subscribers_commands_and_how_to_start_selling(bot: Bot) -> None:
    answer = await bot.say(SUBSCRIBER, "/help")

    for command in ("/status", "/language", "/cancel", "/help", "/register"):
        assert command in answer.text
    for command in ("/tiers", "/wallet", "/wording", "/dashboard", "/owners"):
        assert command not in answer.text


async def test_help_lists_every_command_of_an_owner(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(OWNER, "/help")

    for command, _description in texts.owner_commands():
        assert f"/{command} — " in answer.text
    assert "/owners" not in answer.text
    assert "Only the creator of both chats can register a channel or change it." in answer.text


async def test_help_in_the_owners_language(bot: Bot, channel: Channel) -> None:
    await bot.say(OWNER, "/language ru")
    answer = await bot.say(OWNER, "/help")

    with speaking("ru"):
        for command, description in texts.owner_commands():
            assert f"/{command} — {description}" in answer.text


async def test_start_without_a_token_greets(bot: Bot) -> None:
    answer = await bot.say(SUBSCRIBER, "/start")

    assert answer.text.startswith("Hi! I sell access to private Telegram channels.")


async def test_anything_else_is_answered_with_a_pointer_to_help(bot: Bot) -> None:
    assert (await bot.say(SUBSCRIBER, "hello?")).text == (
        "I did not understand that. /help lists what I can do."
    )
    assert (await bot.say(SUBSCRIBER, "/frobnicate")).text == (
        "I did not understand that. /help lists what I can do."
    )


async def test_cancel_with_nothing_going_on_says_so(bot: Bot) -> None:
    assert (await bot.say(SUBSCRIBER, "/cancel")).text == "There is nothing to cancel."


async def test_a_button_the_bot_no_longer_knows_says_so(bot: Bot) -> None:
    old = await bot.bot_sends_buttons(SUBSCRIBER, "x:whatever")

    query = await bot.press(SUBSCRIBER, old, "x:whatever")

    assert bot.alert(query) == "This button no longer works."


async def test_buttons_with_broken_data_are_refused_clearly(bot: Bot) -> None:
    old = await bot.bot_sends_buttons(SUBSCRIBER, "c:", "c:forged_1_tag", "a:not/an/id", "d:x")

    answers = [bot.alert(await bot.press(SUBSCRIBER, old, label)) for label in labels(old)]

    assert answers == [
        "This button no longer works; please start again.",
        "This link is not a valid offer.",
        "This button no longer works; please start again.",
        "This button no longer works; please start again.",
    ]
    assert bot.world.gateway.requests == []
