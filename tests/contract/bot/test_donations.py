"""Donations: the Donate link, the amount keypad, typed amounts, cancelling and
timing out, through the real bot."""

from __future__ import annotations

from datetime import timedelta

from adapters.inbound.telegram.parsing import base36
from core.domain.channel import Channel, DonationBounds
from core.domain.money import Money
from core.domain.offer_token import DONATION, OfferToken
from sandbox.telegram import Message
from tests.contract.bot.harness import DONOR, Bot, button, labels
from tests.unit.services.world import KEYRING, OWNER

PRESETS = ["1 USD", "5 USD", "10 USD", "50 USD", "100 USD", "500 USD"]
NOT_UNDERSTOOD = "I did not understand that. /help lists what I can do."


def donate_link(channel: Channel) -> str:
    return "/start " + OfferToken(channel.id, DONATION).encode(KEYRING)


def prices(bot: Bot) -> list[Money]:
    return [r.price for r in bot.world.gateway.requests]


async def test_the_donate_link_opens_a_keypad_within_the_channels_bounds(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))

    assert keypad.chat_id == DONOR
    assert keypad.text.splitlines() == [
        "Support Alpha Signals with a donation.",
        "Pick an amount, or type one between 1 USD and 500 USD (such as 12.50).",
    ]
    assert labels(keypad) == [*PRESETS, "Other amount", "Cancel"]


async def test_a_preset_amount_turns_the_keypad_into_the_invoice_link(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))

    await bot.press(DONOR, keypad, "5 USD")

    invoice = bot.emu.messages(DONOR)[-1]
    assert invoice.message_id == keypad.message_id
    assert invoice.text.startswith("Alpha Signals: a donation for 5 USD.")
    assert labels(invoice) == ["Pay now"]
    assert prices(bot) == [Money.of(5, "USD")]


async def test_a_typed_amount_with_a_decimal_comma_is_accepted(bot: Bot, channel: Channel) -> None:
    await bot.say(DONOR, donate_link(channel))

    invoice = await bot.say(DONOR, "12,50")

    assert invoice.text.startswith("Alpha Signals: a donation for 12.50 USD.")
    assert labels(invoice) == ["Pay now"]
    assert prices(bot) == [Money.of("12.50", "USD")]


async def test_bad_amounts_are_explained_and_the_next_good_one_is_taken(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(DONOR, donate_link(channel))

    answers = [(await bot.say(DONOR, text)).text for text in ("abc", "1000", "0.5", "12.505")]
    invoice = await bot.say(DONOR, "12.50 usd")

    assert answers == [
        "Send just the amount, such as 12.50 or 12,50.",
        "The largest donation is 500 USD.",
        "The smallest donation is 1 USD.",
        "Use at most two decimals, such as 12.50.",
    ]
    assert invoice.text.startswith("Alpha Signals: a donation for 12.50 USD.")
    assert prices(bot) == [Money.of("12.50", "USD")]


async def test_other_amount_asks_for_the_amount_then_takes_it(bot: Bot, channel: Channel) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))
    after = bot.last_id(DONOR)

    await bot.press(DONOR, keypad, "Other amount")
    prompt = await bot.answer_to(DONOR, after)
    invoice = await bot.say(DONOR, "42")

    assert prompt.text == (
        "Type the amount for Alpha Signals in USD, between 1 USD and 500 USD (such as 12.50)."
    )
    assert invoice.text.startswith("Alpha Signals: a donation for 42 USD.")


async def test_the_cancel_button_closes_the_keypad_and_the_conversation(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))

    await bot.press(DONOR, keypad, "Cancel")
    after_cancel = await bot.say(DONOR, "5")

    assert bot.message(DONOR, keypad.message_id).text == "Donation cancelled."
    assert labels(bot.message(DONOR, keypad.message_id)) == []
    assert after_cancel.text == NOT_UNDERSTOOD
    assert prices(bot) == []


async def test_slash_cancel_ends_the_donation_and_retires_the_keypad(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))

    answer = await bot.say(DONOR, "/cancel")

    assert answer.text == "Donation cancelled."
    assert bot.message(DONOR, keypad.message_id).text == "Donation cancelled."


async def test_an_idle_donation_times_out_and_its_keypad_says_so(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))
    await bot.idle()

    bot.world.clock.advance(timedelta(minutes=5))
    await bot.until(
        lambda: bot.message(DONOR, keypad.message_id).edit_date, "the keypad to time out"
    )
    late = await bot.say(DONOR, "5")

    assert bot.message(DONOR, keypad.message_id).text == (
        "This donation keypad has expired. Tap Donate in the channel to start again."
    )
    assert labels(bot.message(DONOR, keypad.message_id)) == []
    assert late.text == NOT_UNDERSTOOD
    assert prices(bot) == []


async def test_every_message_of_a_donation_restarts_its_idle_time(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))
    await bot.idle()
    bot.world.clock.advance(timedelta(minutes=4))
    refused = await bot.say(DONOR, "lots")
    await bot.idle()
    bot.world.clock.advance(timedelta(minutes=4))
    await bot.settle()

    invoice = await bot.say(DONOR, "7")

    assert refused.text == "Send just the amount, such as 12.50 or 12,50."
    assert labels(bot.message(DONOR, keypad.message_id))[-2:] == ["Other amount", "Cancel"]
    assert invoice.text.startswith("Alpha Signals: a donation for 7 USD.")
    assert prices(bot) == [Money.of(7, "USD")]


async def test_a_preset_pressed_after_five_minutes_is_refused(bot: Bot, channel: Channel) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))
    five = data_of(keypad, "5 USD")
    bot.world.clock.advance(timedelta(minutes=5, seconds=1))

    await bot.press_data(DONOR, keypad, five)

    assert bot.emu.messages(DONOR)[-1].text == (
        "This donation keypad has expired. Tap Donate in the channel to start again."
    )
    assert prices(bot) == []


async def test_a_preset_works_on_a_bot_process_that_never_saw_the_keypad(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))
    await bot.restart()

    await bot.press(DONOR, keypad, "10 USD")

    assert bot.emu.messages(DONOR)[-1].text.startswith("Alpha Signals: a donation for 10 USD.")
    assert prices(bot) == [Money.of(10, "USD")]


async def test_a_channel_without_donations_says_so(bot: Bot, channel: Channel) -> None:
    await bot.world.set_donations.execute(OWNER, channel.id, None)

    answer = await bot.say(DONOR, donate_link(channel))

    assert answer.text == "Alpha Signals does not take donations right now."
    assert labels(answer) == []


async def test_a_forged_donate_link_gets_a_clear_message(bot: Bot, channel: Channel) -> None:
    link = donate_link(channel)
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")

    answer = await bot.say(DONOR, forged)

    assert answer.text == "This link is not a valid offer."
    assert prices(bot) == []


async def test_no_keypad_is_ever_shown_outside_a_private_chat(bot: Bot, channel: Channel) -> None:
    group = -1009
    bot.emu.add_chat(group, "supergroup", "Chatter")
    link = donate_link(channel)
    bot.emu.hub.emit(
        "message",
        {
            "message_id": 1,
            "from": {"id": DONOR, "is_bot": False, "first_name": "Dana"},
            "chat": {"id": group, "type": "supergroup", "title": "Chatter"},
            "date": int(bot.world.clock.now().timestamp()),
            "text": link,
            "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
        },
    )
    answer = await bot.say(DONOR, "/help")
    await bot.settle()

    sent_to = [c.params.get("chat_id") for c in bot.emu.calls_to("sendMessage")]
    assert answer.text.startswith("Subscribers")
    assert str(group) not in [str(c) for c in sent_to]
    assert [m.text for m in bot.from_bot(DONOR)] == [answer.text]


# ------------------------------------------------------------ signed keypad buttons
NOT_VALID = "This keypad is out of date or not one of mine; tap Donate in the channel again."


def data_of(message: Message, label: str) -> str:
    return str(button(message, label)["callback_data"])


def with_fields(data: str, **changes: str) -> str:
    """Preset data (``d:<channel>:<place>:<time>:<tag>``) with fields replaced."""
    prefix, channel, place, stamp, tag = data.split(":")
    fields = {"channel": channel, "place": place, "stamp": stamp, "tag": tag} | changes
    return ":".join([prefix, fields["channel"], fields["place"], fields["stamp"], fields["tag"]])


async def test_a_preset_moved_to_a_larger_amount_is_refused_and_changes_nothing(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))
    five = data_of(keypad, "5 USD")
    # The 5 USD button's tag on the 500 USD button's place (a tampering client).
    forged = await bot.bot_sends_buttons(DONOR, with_fields(five, place="5"))

    query = await bot.press(DONOR, forged, labels(forged)[0])

    assert bot.alert(query) == NOT_VALID
    assert prices(bot) == []
    assert labels(bot.message(DONOR, keypad.message_id)) == [*PRESETS, "Other amount", "Cancel"]
    invoice = await bot.say(DONOR, "7")
    assert invoice.text.startswith("Alpha Signals: a donation for 7 USD.")


async def test_an_expired_preset_cannot_be_revived_with_a_later_time(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))
    five = data_of(keypad, "5 USD")
    await bot.idle()
    bot.world.clock.advance(timedelta(minutes=10))
    later = int(bot.world.clock.now().timestamp())
    revived = with_fields(five, stamp=base36(later))
    forged = await bot.bot_sends_buttons(DONOR, revived)

    refused = await bot.press(DONOR, forged, revived)
    # The keypad's timeout may have edited its buttons away already: pressed as shown.
    await bot.press_data(DONOR, keypad, five)

    assert bot.alert(refused) == NOT_VALID
    assert bot.message(DONOR, keypad.message_id).text == (
        "This donation keypad has expired. Tap Donate in the channel to start again."
    )
    assert prices(bot) == []


async def test_unsigned_presets_of_the_old_format_are_refused(bot: Bot, channel: Channel) -> None:
    stamp = base36(int(bot.world.clock.now().timestamp()))
    old = await bot.bot_sends_buttons(DONOR, f"d:{channel.id}:500:{stamp}")

    query = await bot.press(DONOR, old, f"d:{channel.id}:500:{stamp}")

    assert bot.alert(query) == "This button no longer works; please start again."
    assert prices(bot) == []


async def test_a_keypad_shown_before_the_bounds_changed_is_refused_as_out_of_date(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))
    bounds = DonationBounds(Money.of(2, "USD"), Money.of(1000, "USD"))
    await bot.world.set_donations.execute(OWNER, channel.id, bounds)

    # Its place now holds another amount than the "5 USD" the button showed.
    query = await bot.press(DONOR, keypad, "5 USD")

    assert bot.alert(query) == NOT_VALID
    assert prices(bot) == []


async def test_other_amount_with_a_forged_channel_or_time_is_refused(
    bot: Bot, channel: Channel
) -> None:
    keypad = await bot.say(DONOR, donate_link(channel))
    prefix, channel_id, stamp, tag = data_of(keypad, "Other amount").split(":")
    moved = ":".join([prefix, channel_id, base36(int(stamp, 36) + 3600), tag])
    forged = await bot.bot_sends_buttons(DONOR, moved)

    query = await bot.press(DONOR, forged, moved)

    assert bot.alert(query) == NOT_VALID
    assert bot.emu.messages(DONOR)[-1].text == "old buttons"
