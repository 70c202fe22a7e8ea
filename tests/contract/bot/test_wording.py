"""/wording through the real bot: an owner writes a channel's message in their own
words, sees it filled with sample values, saves, lists or resets it; a grant goes out
in those words, or in PayGate's when the text cannot be used (and the owner is told)."""

from __future__ import annotations

from adapters.catalog.wording_texts import SAVE
from adapters.outbound.memory.messenger import PostedMessage
from core.domain.channel import Channel
from core.domain.ids import ChatId
from core.ports.wordings import Wording, WordingKind
from tests.contract.bot.harness import SUBSCRIBER, Bot, labels
from tests.unit.services.world import OWNER

WELCOME = "<b>Welcome</b> to {title}! Yours until {end}: {link}"


async def test_an_owner_writes_previews_and_saves_a_welcome(bot: Bot, channel: Channel) -> None:
    asked = await bot.say(OWNER, "/wording 1 welcome en")
    preview = await bot.say(OWNER, WELCOME)
    shown, formatting, buttons = preview.text, list(preview.entities), labels(preview)
    query = await bot.press(OWNER, preview, "Save")  # the emulator edits it in place

    assert asked.text.startswith(
        "Send the welcome with the invite link of Alpha Signals in English as your next message."
    )
    assert shown == (
        "Welcome to Alpha! Yours until 2027-03-01 12:00 UTC: https://t.me/+AbCdEf123456"
    )
    assert formatting == [{"type": "bold", "offset": 0, "length": 7}]
    assert buttons == ["Save", "Discard"]
    assert bot.alert(query) is None
    assert bot.message(OWNER, preview.message_id).text == (
        "Saved: the welcome with the invite link of Alpha Signals in English is in your "
        "words from now on."
    )
    saved = await bot.world.wordings.get(channel.id, WordingKind.INVITE, "en")
    assert saved == Wording(channel.id, WordingKind.INVITE, "en", WELCOME, OWNER)
    assert "channel.wording_set" in await bot.world.audit_actions()


async def test_a_text_that_breaks_the_rules_is_refused_and_nothing_is_kept(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(OWNER, "/wording 1 welcome en")

    refused = await bot.say(OWNER, "Welcome <blink>{nickname}</blink>")
    fixed = await bot.say(OWNER, WELCOME)

    assert refused.text == (
        "I cannot use this text:\n"
        "• Unknown placeholders: {nickname}. This text may use {title}, {end}, {link}.\n"
        "• It must contain {link}, {end}.\n"
        "Send it again corrected, or /cancel."
    )
    assert labels(fixed) == ["Save", "Discard"]  # still at the step after a refusal
    assert await bot.world.wordings.get(channel.id, WordingKind.INVITE, "en") is None


async def test_a_discarded_preview_changes_nothing(bot: Bot, channel: Channel) -> None:
    await bot.say(OWNER, "/wording 1 reminder en")
    preview = await bot.say(OWNER, "Only until {end}!")

    await bot.press(OWNER, preview, "Discard")

    assert bot.message(OWNER, preview.message_id).text == "Discarded: nothing changed."
    assert await bot.world.wordings.get(channel.id, WordingKind.REMINDER, "en") is None


async def test_an_owner_lists_and_resets_their_wording(bot: Bot, channel: Channel) -> None:
    await bot.say(OWNER, "/wording 1 goodbye es")
    preview = await bot.say(OWNER, "¡Hasta pronto, {title}!")
    await bot.press_data(OWNER, preview, SAVE)

    listed = await bot.say(OWNER, "/wording 1")
    reset = await bot.say(OWNER, "/wording 1 goodbye es reset")
    again = await bot.say(OWNER, "/wording 1")

    assert listed.text == (
        "1. Alpha Signals, in your own words:\n• goodbye (Spanish): ¡Hasta pronto, {title}!"
    )
    assert (
        reset.text
        == "The goodbye when it ends of Alpha Signals in Spanish is back to PayGate's words."
    )
    assert again.text == "1. Alpha Signals uses PayGate's own words everywhere."
    assert "channel.wording_reset" in await bot.world.audit_actions()


async def test_only_the_owner_words_a_channel(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(SUBSCRIBER, "/wording 1 welcome en")

    assert answer.text == "You have no channels yet. Send /register to connect one."
    assert await bot.world.wordings.get(channel.id, WordingKind.INVITE, "en") is None


async def test_a_grant_goes_out_in_the_owners_words(bot: Bot, channel: Channel) -> None:
    await bot.say(OWNER, "/wording 1 welcome en")
    preview = await bot.say(OWNER, WELCOME)
    await bot.press(OWNER, preview, "Save")

    invoice = await bot.world.checkout.execute(SUBSCRIBER, channel.id, 1)
    await bot.world.pay(invoice)
    await bot.world.drain()

    (invite,) = [m for m in bot.world.messenger.sent if m.chat_id == ChatId(SUBSCRIBER)]
    assert invite.message.html
    assert invite.message.text.startswith("<b>Welcome</b> to Alpha Signals! Yours until ")
    assert labels_of(invite) == ["Join Alpha Signals"]


async def test_a_broken_template_never_stops_a_grant_and_the_owner_is_told_once(
    bot: Bot, channel: Channel
) -> None:
    # Saved by an older release, before placeholders were checked.
    broken = Wording(channel.id, WordingKind.INVITE, "en", "Hi {nickname}: {link}", OWNER)
    await bot.world.wordings.stage(broken)
    await bot.world.wordings.publish(channel.id, WordingKind.INVITE, "en")

    for _ in range(2):
        invoice = await bot.world.checkout.execute(SUBSCRIBER, channel.id, 1)
        await bot.world.pay(invoice)
        await bot.world.drain()

    sent = bot.world.messenger.sent
    (invite,) = [m for m in sent if m.chat_id == ChatId(SUBSCRIBER) and "Welcome" in m.message.text]
    assert invite.message.text.startswith("Payment confirmed. Welcome to Alpha Signals!")
    assert not invite.message.html
    told = [
        m.message.text for m in sent if m.chat_id == ChatId(OWNER) and "/wording" in m.message.text
    ]
    assert len(told) == 1
    assert told[0].startswith(
        "Your own text for the welcome with the invite link of Alpha Signals (en) could not "
        "be used, so PayGate's own words went out instead. Unknown placeholders: {nickname}."
    )


def labels_of(posted: PostedMessage) -> list[str]:
    return [b.text for row in posted.message.buttons for b in row]
