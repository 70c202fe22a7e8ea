"""A person is in at most one multi-step exchange with the bot: starting one ends
the other, so what they type goes where they expect; messages racing each other are
taken as successive steps; an unreachable conversation store is said so."""

from __future__ import annotations

from datetime import timedelta

from adapters.inbound.telegram.deps import BotSettings
from adapters.outbound.memory.conversations import InMemoryConversationStore
from core.domain.channel import Channel
from core.domain.money import Money
from core.domain.offer_token import DONATION, OfferToken
from tests.contract.bot.harness import DONOR, Bot, bot_deps, polling_bot
from tests.unit.services.world import CLOSED, KEYRING, OPEN, OWNER, build


def donate_link(channel: Channel) -> str:
    return "/start " + OfferToken(channel.id, DONATION).encode(KEYRING)


async def test_register_started_during_a_donation_takes_the_next_message(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(OWNER, donate_link(channel))
    await bot.say(OWNER, "/register")

    answer = await bot.say(OWNER, "@alpha_signals")

    assert answer.text.startswith("Now the closed (private) channel")
    assert bot.world.gateway.requests == []


async def test_a_donation_started_during_registration_takes_the_typed_amount(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(OWNER, "/register")
    await bot.say(OWNER, "@alpha_signals")
    await bot.say(OWNER, donate_link(channel))

    answer = await bot.say(OWNER, "5")

    assert answer.text.startswith("Alpha Signals: a donation for 5 USD.")
    assert [r.price for r in bot.world.gateway.requests] == [Money.of(5, "USD")]


async def test_cancel_ends_whichever_exchange_is_in_progress(bot: Bot, channel: Channel) -> None:
    await bot.say(OWNER, donate_link(channel))
    await bot.say(OWNER, "/register")

    cancelled = await bot.say(OWNER, "/cancel")
    after = await bot.say(OWNER, str(CLOSED))

    assert cancelled.text == "Registration cancelled."
    assert after.text == "I did not understand that. /help lists what I can do."


async def test_two_answers_sent_at_once_are_taken_as_two_steps() -> None:
    world = build()
    world.admin_chats()
    store = InMemoryConversationStore(world.clock)
    async with polling_bot(world, lambda w: bot_deps(w, conversations=store)) as bot:
        asked = await bot.say(OWNER, "/register")
        # Handled at the same time: both read the first step, one moves on first, and
        # the other is routed again against the step that one wrote.
        bot.emu.user_sends(OWNER, "@alpha_signals")
        bot.emu.user_sends(OWNER, str(CLOSED))
        await bot.until(lambda: len(answers_after(bot, asked.message_id)) >= 2, "two answers")
        await bot.idle()
        answers = answers_after(bot, asked.message_id)
        held = await store.get(OWNER)

    assert sorted(a.splitlines()[0] for a in answers) == [
        "Last, the title subscribers see for this channel, such as Alpha Signals.",
        "Now the closed (private) channel subscribers are let into: forward me a message "
        "from it, or send its id.",
    ]
    assert held is not None
    assert held.conversation.step == "register.title"
    assert {held.conversation.number("open"), held.conversation.number("closed")} == {OPEN, CLOSED}


def answers_after(bot: Bot, message_id: int) -> list[str]:
    return [m.text for m in bot.from_bot(OWNER) if m.message_id > message_id]


async def test_a_store_outage_is_explained_and_the_amount_taken_once_it_is_back() -> None:
    world = build()
    channel = await world.channel()
    store = InMemoryConversationStore(world.clock)
    # No timeout sweep while the test runs: a sweep would take the armed failure before
    # the amount does.
    quiet = BotSettings(timeout_sweep=timedelta(hours=1))
    async with polling_bot(
        world, lambda w: bot_deps(w, conversations=store, settings=quiet)
    ) as bot:
        await bot.say(DONOR, donate_link(channel))
        # The keypad step stores its message after answering: only then is the store
        # armed to fail, or the failure would hit that write instead of the amount.
        await bot.idle()
        store.fail_next()

        down = await bot.say(DONOR, "5")
        again = await bot.say(DONOR, "5")
        await bot.settle()

    assert down.text == "I cannot reach a service I need right now. Please try again in a minute."
    assert again.text.startswith("Alpha Signals: a donation for 5 USD.")
    # Nothing else answered the message the store could not place.
    assert len(bot.from_bot(DONOR)) == 3
    assert [r.price for r in world.gateway.requests] == [Money.of(5, "USD")]


async def test_a_timeout_the_sweep_could_not_read_is_told_on_a_later_sweep() -> None:
    world = build()
    channel = await world.channel()
    store = InMemoryConversationStore(world.clock)
    async with polling_bot(world, lambda w: bot_deps(w, conversations=store)) as bot:
        keypad = await bot.say(DONOR, donate_link(channel))
        await bot.idle()
        store.fail_next()

        world.clock.advance(timedelta(minutes=5))
        await bot.until(
            lambda: bot.message(DONOR, keypad.message_id).edit_date, "the keypad to expire"
        )

    assert store.failures.armed == 0
    assert bot.message(DONOR, keypad.message_id).text == (
        "This donation keypad has expired. Tap Donate in the channel to start again."
    )
