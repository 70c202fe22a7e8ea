"""The catalog's entry for each notice the core sends (:mod:`core.domain.messages`):
its text and its buttons, in English."""

from __future__ import annotations

from typing import assert_never

from adapters.catalog.buttons import deep_link, renew_data
from adapters.catalog.message import Button, OutgoingMessage
from adapters.catalog.words import days, tier_label, when
from core.domain import messages
from core.domain.money import Money


def render(notice: messages.Notice) -> OutgoingMessage:
    match notice:
        case messages.Offer():
            return _offer(notice)
        case messages.DonateInvitation(title=title, donate=donate):
            return OutgoingMessage(
                f"Enjoying {title}? You can support it with a donation.",
                ((_button("Donate", donate),),),
            )
        case messages.Invite(title=title, expires_at=ends, join=join):
            return OutgoingMessage(
                f"Payment confirmed. Welcome to {title}!\n"
                f"Your subscription runs until {when(ends)}.\n"
                "This link is yours alone: tap it and ask to join, and I will let you in.",
                ((_button(f"Join {title}", join),),),
            )
        case messages.Renewed(title=title, expires_at=ends):
            return OutgoingMessage(
                f"Payment confirmed. Your subscription to {title} now runs until {when(ends)}."
            )
        case messages.Reminder(title=title, expires_at=ends, renew=renew):
            return OutgoingMessage(
                f"Your subscription to {title} ends on {when(ends)}. Renew to keep your access.",
                ((_button("Renew", renew),),),
            )
        case messages.Ended(title=title, subscribe_again=again):
            return OutgoingMessage(
                f"Your subscription to {title} has ended. You can come back any time.",
                ((_button("Subscribe again", again),),),
            )
        case messages.JoinDeclined(title=title):
            return OutgoingMessage(
                f"I could not let you into {title}: there is no active subscription in your "
                "name. Invite links are personal; pick a tier from the channel's offer to "
                "subscribe."
            )
        case messages.DonationThanks(title=title, amount=amount):
            return OutgoingMessage(f"Thank you! Your donation of {amount} to {title} has arrived.")
        case messages.Refunded(title=title, amount=amount, ends=ends):
            after = (
                f"Your subscription now ends on {when(ends)}."
                if ends is not None
                else "The time it paid for is taken back, so your access has ended."
            )
            return OutgoingMessage(f"Your payment of {amount} for {title} was refunded. {after}")
        case messages.DonationRefunded(title=title, amount=amount):
            return OutgoingMessage(f"Your donation of {amount} to {title} was refunded.")
        case messages.PartialPayment():
            return _partial_payment(notice)
        case messages.OwnerPayment():
            kind = "Renewal" if notice.renewal else "New subscription"
            return OutgoingMessage(
                f"{kind} in {notice.title}: user {notice.user_id}, "
                f"{days(notice.duration_days)}, {notice.price}{_paid(notice.paid)}."
            )
        case messages.OwnerDonation():
            return OutgoingMessage(
                f"Donation to {notice.title}: user {notice.user_id} gave "
                f"{notice.amount}{_paid(notice.paid)}."
            )
        case messages.OwnerRefund(title=title, user_id=user, amount=amount, ends=ends):
            if notice.donation:
                return OutgoingMessage(f"Refund in {title}: user {user}'s donation of {amount}.")
            after = (
                f"now ends on {when(ends)}"
                if ends is not None
                else "has ended; the member was removed"
            )
            return OutgoingMessage(
                f"Refund in {title}: user {user}, {amount}. Their subscription {after}."
            )
        case messages.PausedSales(title=title, reason=reason):
            return OutgoingMessage(
                f"Sales of {title} are paused: {reason}. "
                "Give the bot its admin rights back and sales resume by themselves."
            )
        case messages.ResumedSales(title=title):
            return OutgoingMessage(
                f"Sales of {title} are back on: the bot has the rights it needs in both chats "
                "again."
            )
        case messages.ChannelReclaimed(title=title):
            return OutgoingMessage(
                f"The creator of the chats of {title} has taken the channel over: "
                "it is no longer yours to manage in PayGate."
            )
        case messages.Digest(notices=folded, since=since):
            lines = [f"{len(folded)} updates since {when(since)}:", ""]
            lines += [f"• {render(n).text}" for n in folded]
            return OutgoingMessage("\n".join(lines))
        case messages.Verbatim(text=text, buttons=rows):
            return OutgoingMessage(
                text,
                tuple(
                    tuple(Button(b.text, url=b.url, callback_data=b.callback_data) for b in row)
                    for row in rows
                ),
            )
        case _:
            assert_never(notice)


def _offer(offer: messages.Offer) -> OutgoingMessage:
    lines = [f"Subscribe to {offer.title}", ""]
    lines += [f"• {tier_label(t.tier)}" for t in offer.tiers]
    lines += ["", "Tap a tier to pay with crypto. You get your invite link right after."]
    rows = tuple((_button(tier_label(t.tier), t.pay),) for t in offer.tiers)
    return OutgoingMessage("\n".join(lines), rows)


def _partial_payment(notice: messages.PartialPayment) -> OutgoingMessage:
    asked, arrived = notice.asked, notice.arrived
    if asked is not None and arrived is not None and asked.currency == arrived.currency:
        got = f"{arrived} of {asked} arrived; {asked - arrived} is missing."
    elif arrived is not None:
        got = f"{arrived} arrived, less than the invoice asks."
    else:
        got = "less than the invoice asks arrived."
    if notice.closed:
        return OutgoingMessage(
            f"Your payment for {notice.title} is incomplete: {got} "
            "The payment was closed as it is, so it cannot buy access; "
            "it has been flagged for review by the people who run this bot."
        )
    how = "Send the missing amount to the same address, shown on your payment page"
    complete = notice.complete
    buttons = ((_button("Complete the payment", complete),),) if complete else ()
    return OutgoingMessage(
        f"Your payment for {notice.title} is incomplete: {got} {how}; "
        "you get access as soon as the whole amount has arrived.",
        buttons,
    )


def _paid(paid: Money | None) -> str:
    """What the subscriber paid in crypto, when the provider said."""
    return f" (paid {paid})" if paid is not None else ""


def _button(
    label: str, action: messages.OpenLink | messages.Checkout | messages.CheckoutWithBot
) -> Button:
    match action:
        case messages.OpenLink(url=url):
            return Button(label, url=url)
        case messages.Checkout(offer=offer):
            return Button(label, callback_data=renew_data(offer))
        case messages.CheckoutWithBot(bot_username=bot, offer=offer):
            return Button(label, url=deep_link(bot, offer))
        case _:
            assert_never(action)
