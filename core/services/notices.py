"""The words PayGate says, in one place. Plain text (no parse mode), so a channel
title can never inject markup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.domain.channel import Channel
from core.domain.messages import Button, OutgoingMessage
from core.domain.money import Money
from core.domain.offer_token import DONATION, OfferToken
from core.domain.signing import MacKeyring
from core.domain.tier import Tier

OFFER_CALLBACK_PREFIX = "o:"
"""callback_data of a Renew button: ``o:<offer token>`` starts the same checkout as
the offer's deep link."""


def when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def offer_message(channel: Channel, bot_username: str, keyring: MacKeyring) -> OutgoingMessage:
    lines = [f"Subscribe to {channel.title}", ""]
    rows = []
    for tier in channel.tiers:
        lines.append(f"• {tier_label(tier)}")
        token = OfferToken(channel.id, tier.number).encode(keyring)
        rows.append((Button(tier_label(tier), url=deep_link(bot_username, token)),))
    lines += ["", "Tap a tier to pay with crypto. You get your invite link right after."]
    return OutgoingMessage("\n".join(lines), tuple(rows))


def donate_message(channel: Channel, bot_username: str, keyring: MacKeyring) -> OutgoingMessage:
    token = OfferToken(channel.id, DONATION).encode(keyring)
    return OutgoingMessage(
        f"Enjoying {channel.title}? You can support it with a donation.",
        ((Button("Donate", url=deep_link(bot_username, token)),),),
    )


def tier_label(tier: Tier) -> str:
    return f"{days(tier.duration_days)} — {tier.price}"


def invoice_message(title: str, what: str, price: Money, url: str) -> OutgoingMessage:
    return OutgoingMessage(
        f"{title}: {what} for {price}.\n"
        "Pay on the provider's page; you will hear from me as soon as the payment is confirmed.",
        ((Button("Pay now", url=url),),),
    )


def invite_message(title: str, link: str, expires_at: datetime) -> OutgoingMessage:
    return OutgoingMessage(
        f"Payment confirmed. Welcome to {title}!\n"
        f"Your subscription runs until {when(expires_at)}.\n"
        "This link is yours alone: tap it and ask to join, and I will let you in.",
        ((Button(f"Join {title}", url=link),),),
    )


def renewed_message(title: str, expires_at: datetime) -> OutgoingMessage:
    return OutgoingMessage(
        f"Payment confirmed. Your subscription to {title} now runs until {when(expires_at)}."
    )


def reminder_message(
    title: str, expires_at: datetime, offer: OfferToken, keyring: MacKeyring
) -> OutgoingMessage:
    return OutgoingMessage(
        f"Your subscription to {title} ends on {when(expires_at)}. Renew to keep your access.",
        ((Button("Renew", callback_data=OFFER_CALLBACK_PREFIX + offer.encode(keyring)),),),
    )


def ended_message(title: str, offer: OfferToken, keyring: MacKeyring) -> OutgoingMessage:
    return OutgoingMessage(
        f"Your subscription to {title} has ended. You can come back any time.",
        (
            (
                Button(
                    "Subscribe again", callback_data=OFFER_CALLBACK_PREFIX + offer.encode(keyring)
                ),
            ),
        ),
    )


def join_declined_message(title: str) -> OutgoingMessage:
    return OutgoingMessage(
        f"I could not let you into {title}: there is no active subscription in your name. "
        "Invite links are personal; pick a tier from the channel's offer to subscribe."
    )


def donation_thanks_message(title: str, amount: Money) -> OutgoingMessage:
    return OutgoingMessage(f"Thank you! Your donation of {amount} to {title} has arrived.")


def owner_payment_message(
    title: str, what: str, user_id: int, price: Money, paid: Money | None, renewal: bool
) -> OutgoingMessage:
    kind = "Renewal" if renewal else "New subscription"
    crypto = f" (paid {paid})" if paid is not None else ""
    return OutgoingMessage(f"{kind} in {title}: user {user_id}, {what}, {price}{crypto}.")


def owner_donation_message(
    title: str, user_id: int, amount: Money, paid: Money | None
) -> OutgoingMessage:
    crypto = f" (paid {paid})" if paid is not None else ""
    return OutgoingMessage(f"Donation to {title}: user {user_id} gave {amount}{crypto}.")


def sales_paused_message(title: str, reason: str) -> OutgoingMessage:
    return OutgoingMessage(
        f"Sales of {title} are paused: {reason}. "
        "Give the bot its admin rights back and sales resume by themselves."
    )


def sales_resumed_message(title: str) -> OutgoingMessage:
    return OutgoingMessage(
        f"Sales of {title} are back on: the bot has the rights it needs in both chats again."
    )


def channel_reclaimed_message(title: str) -> OutgoingMessage:
    return OutgoingMessage(
        f"The creator of the chats of {title} has taken the channel over: "
        "it is no longer yours to manage in PayGate."
    )


def refunded_message(title: str, amount: Money, ends: datetime | None) -> OutgoingMessage:
    after = (
        f"Your subscription now ends on {when(ends)}."
        if ends is not None
        else "The time it paid for is taken back, so your access has ended."
    )
    return OutgoingMessage(f"Your payment of {amount} for {title} was refunded. {after}")


def donation_refunded_message(title: str, amount: Money) -> OutgoingMessage:
    return OutgoingMessage(f"Your donation of {amount} to {title} was refunded.")


def owner_refund_message(
    title: str, user_id: int, amount: Money, ends: datetime | None, donation: bool
) -> OutgoingMessage:
    if donation:
        return OutgoingMessage(f"Refund in {title}: user {user_id}'s donation of {amount}.")
    after = f"now ends on {when(ends)}" if ends is not None else "has ended; the member was removed"
    return OutgoingMessage(
        f"Refund in {title}: user {user_id}, {amount}. Their subscription {after}."
    )


def partial_payment_message(
    title: str, asked: Money | None, arrived: Money | None, invoice_url: str | None, closed: bool
) -> OutgoingMessage:
    """``closed``: the provider closed the payment with too little money (nothing more
    can be added); otherwise the same address still takes the rest."""
    if asked is not None and arrived is not None and asked.currency == arrived.currency:
        missing = asked - arrived
        got = f"{arrived} of {asked} arrived; {missing} is missing."
    elif arrived is not None:
        got = f"{arrived} arrived, less than the invoice asks."
    else:
        got = "less than the invoice asks arrived."
    if closed:
        return OutgoingMessage(
            f"Your payment for {title} is incomplete: {got} "
            "The payment was closed as it is, so it cannot buy access; "
            "it has been flagged for review by the people who run this bot."
        )
    how = "Send the missing amount to the same address, shown on your payment page"
    buttons = ((Button("Complete the payment", url=invoice_url),),) if invoice_url else ()
    return OutgoingMessage(
        f"Your payment for {title} is incomplete: {got} {how}; "
        "you get access as soon as the whole amount has arrived.",
        buttons,
    )


OWNER_FOLD = "owner"
"""What an owner is told of each payment, donation and refund: folded into a digest
when many wait at once (one chat takes about a message a second)."""

DIGEST_BUDGET = 3900
"""Characters a digest may hold: Telegram takes 4,096 in a message; the rest is
margin for the header."""


def digest_message(texts: Sequence[str], since: datetime) -> OutgoingMessage:
    """Several notices to one owner as one message (see :func:`digest_room`)."""
    lines = [f"{len(texts)} updates since {when(since)}:", ""]
    lines += [f"• {text}" for text in texts]
    return OutgoingMessage("\n".join(lines))


def digest_room(texts: Sequence[str], more: str) -> bool:
    """Whether ``more`` fits in a digest of ``texts`` (every notice is shown whole)."""
    return sum(len(t) + 3 for t in texts) + len(more) + 3 <= DIGEST_BUDGET
