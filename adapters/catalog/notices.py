"""The catalog's entry for each notice the core sends (:mod:`core.domain.messages`):
its text and its buttons, in English."""

from __future__ import annotations

from typing import assert_never

from adapters.catalog.buttons import decide_seller_data, deep_link, renew_data
from adapters.catalog.message import Button, OutgoingMessage
from adapters.catalog.words import days, tier_label, when
from core.domain.messages import (
    ChannelReclaimed,
    Checkout,
    CheckoutWithBot,
    DecideSeller,
    Digest,
    DonateInvitation,
    DonationRefunded,
    DonationThanks,
    Ended,
    Invite,
    JoinDeclined,
    Notice,
    Offer,
    OpenLink,
    OwnerDonation,
    OwnerPayment,
    OwnerRefund,
    PartialPayment,
    PausedSales,
    Refunded,
    Reminder,
    Renewed,
    ResumedSales,
    SellerApproved,
    SellerAsked,
    SellerDeclined,
    Verbatim,
)
from core.domain.money import Money


def render(notice: Notice) -> OutgoingMessage:
    match notice:
        case Offer():
            return _offer(notice)
        case DonateInvitation(title=title, donate=donate):
            return OutgoingMessage(
                f"Enjoying {title}? You can support it with a donation.",
                ((_button("Donate", donate),),),
            )
        case Invite(title=title, expires_at=ends, join=join):
            return OutgoingMessage(
                f"Payment confirmed. Welcome to {title}!\n"
                f"Your subscription runs until {when(ends)}.\n"
                "This link is yours alone: tap it and ask to join, and I will let you in.",
                ((_button(f"Join {title}", join),),),
            )
        case Renewed(title=title, expires_at=ends):
            return OutgoingMessage(
                f"Payment confirmed. Your subscription to {title} now runs until {when(ends)}."
            )
        case Reminder(title=title, expires_at=ends, renew=renew):
            return OutgoingMessage(
                f"Your subscription to {title} ends on {when(ends)}. Renew to keep your access.",
                ((_button("Renew", renew),),),
            )
        case Ended(title=title, subscribe_again=again):
            return OutgoingMessage(
                f"Your subscription to {title} has ended. You can come back any time.",
                ((_button("Subscribe again", again),),),
            )
        case JoinDeclined(title=title):
            return OutgoingMessage(
                f"I could not let you into {title}: there is no active subscription in your "
                "name. Invite links are personal; pick a tier from the channel's offer to "
                "subscribe."
            )
        case DonationThanks(title=title, amount=amount):
            return OutgoingMessage(f"Thank you! Your donation of {amount} to {title} has arrived.")
        case Refunded(title=title, amount=amount, ends=ends):
            after = (
                f"Your subscription now ends on {when(ends)}."
                if ends is not None
                else "The time it paid for is taken back, so your access has ended."
            )
            return OutgoingMessage(f"Your payment of {amount} for {title} was refunded. {after}")
        case DonationRefunded(title=title, amount=amount):
            return OutgoingMessage(f"Your donation of {amount} to {title} was refunded.")
        case PartialPayment():
            return _partial_payment(notice)
        case OwnerPayment():
            kind = "Renewal" if notice.renewal else "New subscription"
            return OutgoingMessage(
                f"{kind} in {notice.title}: user {notice.user_id}, "
                f"{days(notice.duration_days)}, {notice.price}{_paid(notice.paid)}."
            )
        case OwnerDonation():
            return OutgoingMessage(
                f"Donation to {notice.title}: user {notice.user_id} gave "
                f"{notice.amount}{_paid(notice.paid)}."
            )
        case OwnerRefund(title=title, user_id=user, amount=amount, ends=ends):
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
        case PausedSales(title=title, reason=reason):
            return OutgoingMessage(
                f"Sales of {title} are paused: {reason}. "
                "Give the bot its admin rights back and sales resume by themselves."
            )
        case ResumedSales(title=title):
            return OutgoingMessage(
                f"Sales of {title} are back on: the bot has the rights it needs in both chats "
                "again."
            )
        case ChannelReclaimed(title=title):
            return OutgoingMessage(
                f"The creator of the chats of {title} has taken the channel over: "
                "it is no longer yours to manage in PayGate."
            )
        case SellerAsked(user_id=user, name=name, approve=approve, decline=decline):
            return OutgoingMessage(
                f"{name} (Telegram user {user}) asks to sell channels here. "
                "Approve, and they can register channels at once; decline, and they are "
                "told so.",
                ((_button("Approve", approve), _button("Decline", decline)),),
            )
        case SellerApproved():
            return OutgoingMessage(
                "Good news: the operators of this PayGate approved you as a seller. "
                "Send /register to connect your channels."
            )
        case SellerDeclined():
            return OutgoingMessage(
                "The operators of this PayGate declined your request to sell channels here."
            )
        case Digest(notices=folded, since=since):
            lines = [f"{len(folded)} updates since {when(since)}:", ""]
            lines += [f"• {render(n).text}" for n in folded]
            return OutgoingMessage("\n".join(lines))
        case Verbatim(text=text, buttons=rows):
            return OutgoingMessage(
                text,
                tuple(
                    tuple(Button(b.text, url=b.url, callback_data=b.callback_data) for b in row)
                    for row in rows
                ),
            )
        case _:
            assert_never(notice)


def _offer(offer: Offer) -> OutgoingMessage:
    lines = [f"Subscribe to {offer.title}", ""]
    lines += [f"• {tier_label(t.tier)}" for t in offer.tiers]
    lines += ["", "Tap a tier to pay with crypto. You get your invite link right after."]
    rows = tuple((_button(tier_label(t.tier), t.pay),) for t in offer.tiers)
    return OutgoingMessage("\n".join(lines), rows)


def _partial_payment(notice: PartialPayment) -> OutgoingMessage:
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


def _button(label: str, action: OpenLink | Checkout | CheckoutWithBot | DecideSeller) -> Button:
    match action:
        case OpenLink(url=url):
            return Button(label, url=url)
        case Checkout(offer=offer):
            return Button(label, callback_data=renew_data(offer))
        case CheckoutWithBot(bot_username=bot, offer=offer):
            return Button(label, url=deep_link(bot, offer))
        case DecideSeller(user_id=user, approve=approve):
            return Button(label, callback_data=decide_seller_data(user, approve))
        case _:
            assert_never(action)
