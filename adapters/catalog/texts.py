"""What the bot answers in conversation. What the core sends on its own (invite links,
reminders, receipts) is rendered by :mod:`adapters.catalog.notices`."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.catalog.buttons import confirm_data, renew_data, resend_data
from adapters.catalog.message import Button, OutgoingMessage
from adapters.catalog.words import (
    BOUNDS_EXAMPLE,
    TIERS_EXAMPLE,
    days,
    money_text,
    seconds,
    tier_label,
    when,
)
from core.domain.channel import Channel, DonationBounds
from core.domain.rights import MemberStatus, right_names
from core.services.check_rights import Shortfall
from core.services.checkout import Offer
from core.services.invoicing import IssuedInvoice
from core.services.seller_requests import Asked, Decision
from core.services.subscriber_status import SubscriptionView

WELCOME = OutgoingMessage(
    "Hi! I sell access to private Telegram channels.\n"
    "Tap a tier under a channel's offer to subscribe; I send you a payment link and, "
    "once paid, your personal invite.\n\n"
    "/status — your subscriptions\n"
    "/help — everything I can do"
)

HELP = OutgoingMessage(
    "Subscribers\n"
    "• Tap a tier in a channel's offer to subscribe, or Donate in a closed channel.\n"
    "• /status — your subscriptions, Renew buttons and your invite link again\n\n"
    "Channel owners\n"
    "• /register — connect an open (public) and a closed (private) channel\n"
    "• /channels — your channels and their state\n"
    f"• /tiers — view or set prices: /tiers 1 {TIERS_EXAMPLE}\n"
    f"• /donations — donation limits: /donations 1 {BOUNDS_EXAMPLE} (or off)\n"
    "• /repost 1 — post a fresh offer now\n"
    "• /resume 1 — resume paused sales once the bot has its rights back\n"
    "Only the creator of both chats can register a channel or change it.\n\n"
    "/cancel stops what we are in the middle of."
)

NOT_UNDERSTOOD = "I did not understand that. /help lists what I can do."
STALE_BUTTON = "This button no longer works."
NOTHING_TO_CANCEL = "There is nothing to cancel."
NO_CHANNELS = "You have no channels yet. Send /register to connect one."
GENERIC_FAILURE = "Sorry, something went wrong on my side. Please try again in a little while."
UNAVAILABLE = "I cannot reach a service I need right now. Please try again in a minute."
PROVIDER_REFUSED = (
    "The payment provider would not create an invoice just now. Please try again later."
)
NOT_OWNER = "Only the channel's owner can change it."
LINK_ON_ITS_WAY = "On its way: your link arrives in a moment."


def slow_down(wait: float) -> str:
    return f"You are going a little fast. Please wait {seconds(wait)} and try again."


def slow_down_checkout(wait: float) -> str:
    return (
        "You asked for several payment links in a short time. "
        f"Please wait {seconds(wait)} and try again."
    )


# ------------------------------------------------------------- subscribers
def offer(found: Offer, token: str) -> OutgoingMessage:
    tier = found.tier
    return OutgoingMessage(
        f"{found.title}\n"
        f"Tier {tier.number}: {days(tier.duration_days)} for {tier.price}.\n\n"
        "Confirm and I will send you a payment link (crypto, on the provider's page).",
        ((Button("Confirm", callback_data=confirm_data(token)),),),
    )


def subscription_invoice(found: Offer, invoice: IssuedInvoice) -> OutgoingMessage:
    return _invoice(found.title, days(found.tier.duration_days), invoice)


def donation_invoice(title: str, invoice: IssuedInvoice) -> OutgoingMessage:
    return _invoice(title, "a donation", invoice)


def _invoice(title: str, what: str, invoice: IssuedInvoice) -> OutgoingMessage:
    return OutgoingMessage(
        f"{title}: {what} for {invoice.price}.\n"
        "Pay on the provider's page; you will hear from me as soon as the payment is confirmed.",
        ((Button("Pay now", url=invoice.url),),),
    )


def status(views: Sequence[SubscriptionView]) -> OutgoingMessage:
    if not views:
        return OutgoingMessage(
            "You have no subscriptions yet. Tap a tier in a channel's offer to subscribe."
        )
    lines = ["Your subscriptions:"]
    rows: list[tuple[Button, ...]] = []
    for view in views:
        if view.active:
            lines.append(f"• {view.title} — tier {view.tier}, active until {when(view.expires_at)}")
        else:
            lines.append(f"• {view.title} — tier {view.tier}, ended {when(view.expires_at)}")
        row = [Button(f"Renew {view.title}", callback_data=renew_data(view.renew_token))]
        if view.active:
            row.append(Button("Send my link again", callback_data=resend_data(view.channel_id)))
        rows.append(tuple(row))
    return OutgoingMessage("\n".join(lines), tuple(rows))


# -------------------------------------------------------------- donations
def ask_amount(title: str, bounds: DonationBounds) -> str:
    return (
        f"Type the amount for {title} in {bounds.minimum.currency}, between "
        f"{money_text(bounds.minimum)} and {money_text(bounds.maximum)} (such as 12.50)."
    )


def no_donations(title: str) -> str:
    return f"{title} does not take donations right now."


KEYPAD_EXPIRED = "This donation keypad has expired. Tap Donate in the channel to start again."
DONATION_CANCELLED = "Donation cancelled."


def keypad(title: str, bounds: DonationBounds) -> str:
    return (
        f"Support {title} with a donation.\n"
        f"Pick an amount, or type one between {money_text(bounds.minimum)} "
        f"and {money_text(bounds.maximum)} (such as 12.50)."
    )


KEYPAD_OTHER_AMOUNT = "Other amount"
KEYPAD_CANCEL = "Cancel"


def donate_privately(bot_username: str) -> str:
    return f"Donations happen in a private chat with me: https://t.me/{bot_username}"


# ------------------------------------------------------------------ owners
REGISTER_OPEN = (
    "Let's connect your channels (send /cancel to stop).\n"
    "First the open (public) channel where the offer is posted: forward me a message "
    "from it, or send its @username or id."
)
REGISTER_CLOSED = (
    "Now the closed (private) channel subscribers are let into: forward me a message "
    "from it, or send its id."
)
REGISTER_TITLE = "Last, the title subscribers see for this channel, such as Alpha Signals."
REGISTER_SAME_CHAT = "The closed channel must be a different chat from the open one."
REGISTER_TIMED_OUT = "Registration timed out. Send /register to start again."
REGISTER_CANCELLED = "Registration cancelled."


def registered(channel: Channel, number: int) -> str:
    return (
        f"{channel.title} is registered as channel {number}.\n"
        f"Next, set its tiers: /tiers {number} {TIERS_EXAMPLE}\n"
        f"To take donations: /donations {number} {BOUNDS_EXAMPLE}"
    )


def reclaimed(channel: Channel, number: int) -> str:
    return (
        f"{channel.title} is yours now, as channel {number}: you created both of its chats, "
        "so it moved to you from whoever registered it. It keeps its subscribers, tiers and "
        f"donation limits; check them with /tiers {number} and /donations."
    )


def register_again(reason: str) -> str:
    return f"{reason}\nSend /register to start again."


def channels(owned: Sequence[Channel]) -> str:
    if not owned:
        return NO_CHANNELS
    lines = ["Your channels:"]
    for number, channel in enumerate(owned, start=1):
        lines.append(f"{number}. {channel.title} — {_state(channel)}")
        lines.append(f"   open {channel.open_chat_id}, closed {channel.closed_chat_id}")
        lines.append(f"   tiers: {_tiers(channel)}")
        lines.append(f"   donations: {_bounds(channel.donation_bounds)}")
    return "\n".join(lines)


def tiers(numbered: Sequence[tuple[int, Channel]]) -> str:
    if not numbered:
        return NO_CHANNELS
    lines = []
    for number, channel in numbered:
        lines.append(f"{number}. {channel.title}")
        lines.extend(f"   • tier {t.number}: {tier_label(t)}" for t in channel.tiers)
        if not channel.tiers:
            lines.append("   no tiers: nothing is on sale")
    lines.append(
        f"\nChange them with /tiers <channel> {TIERS_EXAMPLE} (up to three; none to stop selling)."
    )
    return "\n".join(lines)


def donations(numbered: Sequence[tuple[int, Channel]]) -> str:
    if not numbered:
        return NO_CHANNELS
    lines = [f"{number}. {c.title}: {_bounds(c.donation_bounds)}" for number, c in numbered]
    lines.append(f"\nChange them with /donations <channel> {BOUNDS_EXAMPLE}, or off.")
    return "\n".join(lines)


WALLET_EXAMPLE = "/wallet 1 btc bc1q…"


def _wallet(channel: Channel) -> str:
    wallet = channel.payout_wallet
    return "not set" if wallet is None else wallet.masked()


def wallets(numbered: Sequence[tuple[int, Channel]]) -> str:
    if not numbered:
        return NO_CHANNELS
    lines = [f"{number}. {c.title}: {_wallet(c)}" for number, c in numbered]
    lines.append(
        f"\nSet one with /wallet <channel> <currency> <address> ({WALLET_EXAMPLE}), or off."
    )
    return "\n".join(lines)


def wallet_saved(channel: Channel) -> str:
    if channel.payout_wallet is None:
        return f"{channel.title}: payout wallet removed."
    return f"{channel.title}: payouts go to {channel.payout_wallet.masked()}."


def tiers_saved(channel: Channel) -> str:
    if not channel.tiers:
        return f"{channel.title}: no tiers, so nothing is on sale."
    lines = [f"{channel.title}: tiers saved."]
    lines.extend(f"• tier {t.number}: {tier_label(t)}" for t in channel.tiers)
    lines.append("The offer in the open channel is refreshed shortly.")
    return "\n".join(lines)


def donations_saved(channel: Channel) -> str:
    if channel.donation_bounds is None:
        return f"{channel.title}: donations are off."
    return f"{channel.title}: donations from {_bounds(channel.donation_bounds)}."


def reposted(title: str, posted: int, paused: int) -> str:
    if posted:
        return f"{title}: a fresh offer is posted in the open channel."
    if paused:
        return f"{title}: I cannot post in the open channel, so sales are paused. Check my rights."
    return f"{title}: Telegram did not take the post just now; I will try again shortly."


def resumed(title: str) -> str:
    return f"{title}: the bot has its rights in both chats, so sales are back on."


def not_paused(title: str) -> str:
    return f"{title}: sales are not paused, so there is nothing to resume."


def resume_refused(
    title: str, number: int, shortfalls: Sequence[tuple[str | None, Shortfall]], paused: bool
) -> str:
    """What the bot lacks, chat by chat, named as the owner knows the chats."""
    needs = []
    for name, gap in shortfalls:
        where = (
            f"{name} (the {gap.role} channel)"
            if name
            else f"the {gap.role} channel (chat {gap.chat_id})"
        )
        rights = right_names(gap.missing)
        if gap.status is None:
            needs.append(f"to be added as an admin with {rights} to {where}")
        elif gap.status not in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR):
            needs.append(f"to be an admin with {rights} in {where}")
        else:
            needs.append(f"{rights} in {where}")
    if not paused:
        return (
            f"{title}: sales are not paused, but the bot needs: {'; '.join(needs)}.\n"
            "Give it those rights, or sales pause at the next check."
        )
    return (
        f"I cannot resume {title} yet. The bot needs: {'; '.join(needs)}.\n"
        f"Give it those rights, then send /resume {number} again."
    )


def _state(channel: Channel) -> str:
    if channel.sales_paused:
        return f"paused ({channel.pause_reason})" if channel.pause_reason else "paused"
    return "selling" if channel.tiers else "not selling: no tiers yet"


def _tiers(channel: Channel) -> str:
    return "; ".join(tier_label(t) for t in channel.tiers) or "none"


def _bounds(bounds: DonationBounds | None) -> str:
    if bounds is None:
        return "off"
    return f"{money_text(bounds.minimum)} to {money_text(bounds.maximum)}"


# ------------------------------------------------------------ who may sell
# PAYGATE_SELLERS=approval: a request to sell, and the operators' decision on it.

_ASKED = {
    Asked.SENT: (
        "This PayGate lets its operators choose who sells here, and you are not on their "
        "list yet. I have asked them for you; I will tell you here as soon as they decide."
    ),
    Asked.WAITING: (
        "Your request to sell here is with the operators of this PayGate. I will tell you "
        "here as soon as they decide."
    ),
    Asked.APPROVED: "You are approved as a seller here: send /register to connect a channel.",
    Asked.DECLINED: "The operators of this PayGate declined your request to sell channels here.",
}


def seller_asked(asked: Asked) -> str:
    """What someone who may not sell yet reads when they try to register."""
    return _ASKED[asked]


NOT_AN_OPERATOR_BUTTON = "Only the operators of this PayGate decide who may sell."


def seller_decided(decision: Decision, operator: int) -> str:
    """The operator's request message once decided: who decided what, and whether the
    press just now did it (or another operator had decided already)."""
    request = decision.request
    verdict = "approved" if request.approved else "declined"
    by = "you" if request.decided_by == operator else f"operator {request.decided_by}"
    said = f"{request.name or 'Someone'} (Telegram user {request.user_id}): {verdict} by {by}"
    if decision.decided_now:
        return f"{said}. They have been told."
    return f"{said} already; nothing changed."
