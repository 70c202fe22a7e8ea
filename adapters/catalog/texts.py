"""What the bot answers in conversation, in the language of the person it answers
(:mod:`adapters.catalog.language`; the bot sets it per update). What the core sends
on its own (invite links, reminders, receipts) is rendered by
:mod:`adapters.catalog.notices`.

Every text is a function, not a constant: it is read in the language spoken when it
is called."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby

from adapters.catalog.buttons import confirm_data, renew_data, resend_data, stars_data
from adapters.catalog.language import _, n_
from adapters.catalog.message import Button, OutgoingMessage
from adapters.catalog.refusals import pause_reason, right_names
from adapters.catalog.words import (
    BOUNDS_EXAMPLE,
    PLANS_EXAMPLE,
    STARS_RENEWING_EXAMPLE,
    STARS_TIER_EXAMPLE,
    TIERS_EXAMPLE,
    days,
    is_forever,
    money,
    money_text,
    seconds,
    tier_label,
    tier_term,
    trial_setting,
    when,
)
from core.domain.channel import Channel, DonationBounds
from core.domain.ids import ChannelId
from core.domain.money import Money
from core.domain.rights import MemberStatus
from core.domain.stars_link import STARS_LINK_TIER
from core.domain.tier import Rail, Tier
from core.domain.trial import TRIAL_TIER
from core.services.bundles import Bundle
from core.services.check_rights import Shortfall
from core.services.checkout import Offer, TrialOffering
from core.services.invoicing import IssuedInvoice
from core.services.seller_requests import Asked, Decision
from core.services.stars import Refusal
from core.services.subscriber_status import SubscriptionView
from core.services.trials import TrialStarted


def welcome() -> OutgoingMessage:
    return OutgoingMessage(
        _(
            "Hi! I sell access to private Telegram channels.\n"
            "Tap a tier under a channel's offer to subscribe; I send you a payment link and, "
            "once paid, your personal invite.\n\n"
            "/status — your subscriptions\n"
            "/language — the language I speak to you\n"
            "/help — everything I can do"
        )
    )


def help_text(*, owner: bool = False, operator: bool = False) -> OutgoingMessage:
    """Every command the person can use, by role: the same commands (and words) as
    their command menu (:func:`subscriber_commands`, :func:`owner_commands`,
    :func:`operator_commands`), with examples."""
    lines = [
        _("Subscribers"),
        "• " + _("Tap a tier in a channel's offer to subscribe, or Donate in a closed channel."),
        *_command_lines(subscriber_commands()),
    ]
    if owner or operator:
        lines += [
            "",
            _("Channel owners"),
            *_command_lines(owner_only_commands()),
            _(
                "Examples: /tiers 1 %(tiers)s · /donations 1 %(bounds)s (or off) · "
                "/language 1 es (the language of channel 1's posts) · "
                "/wording 1 (your own words for its messages)",
                tiers=TIERS_EXAMPLE,
                bounds=BOUNDS_EXAMPLE,
            ),
            _(
                "Lifetime and season tiers: /tiers 1 %(plans)s · a trial once per person: "
                "/trial 1 7d (free), /trial 1 3d 1USD, /trial 1 off",
                plans=PLANS_EXAMPLE,
            ),
            _(
                "Telegram Stars subscriptions: end a tier with +auto to sell it for Stars as "
                "a subscription Telegram renews every 30 days: /tiers 1 %(auto)s",
                auto=STARS_RENEWING_EXAMPLE,
            ),
            _(
                "Codes: /coupon new CODE %(percent)s [channel 1|all] [tier 2] [uses 100] "
                "[until 2027-06-30] makes a code for a percentage off, an amount off (5USD) or "
                "free days (7d); /coupon off CODE switches one off",
                percent="20%",
            ),
            _(
                "Bundles: /bundle 1 add 2 3 — a subscription to channel 1 also opens the "
                "closed channels of your channels 2 and 3; /bundle 1 remove 3 takes one out"
            ),
            _("Only the creator of both chats can register a channel or change it."),
        ]
    else:
        lines += [
            "",
            _(
                "Selling access to a channel of yours? /register connects an open (public) "
                "and a closed (private) channel; /help then lists the owners' commands."
            ),
        ]
    if operator:
        lines += [
            "",
            _("Operators"),
            *_command_lines(operator_only_commands()),
            _("/refund also refunds any channel's Stars payment for an operator."),
        ]
    return OutgoingMessage("\n".join(lines))


def _command_lines(entries: Sequence[tuple[str, str]]) -> list[str]:
    return [f"• /{command} — {description}" for command, description in entries]


def not_understood() -> str:
    return _("I did not understand that. /help lists what I can do.")


def stale_button() -> str:
    return _("This button no longer works.")


def nothing_to_cancel() -> str:
    return _("There is nothing to cancel.")


def no_channels() -> str:
    return _("You have no channels yet. Send /register to connect one.")


def generic_failure() -> str:
    return _("Sorry, something went wrong on my side. Please try again in a little while.")


def unavailable() -> str:
    return _("I cannot reach a service I need right now. Please try again in a minute.")


def provider_refused() -> str:
    return _("The payment provider would not create an invoice just now. Please try again later.")


# --- dashboard (issue 20)


def dashboard_login(login_url: str) -> OutgoingMessage:
    """/dashboard for an owner or operator: Telegram signs the button's link with who
    they are, so opening it logs them in."""
    return OutgoingMessage(
        _(
            "Your dashboard: earnings, subscribers per channel, pausing and resuming sales.\n"
            "The button logs you in as yourself; the link works for a few minutes only."
        ),
        ((Button(_("Open the dashboard"), login_url=login_url),),),
    )


def dashboard_not_owner() -> str:
    return _("The dashboard is for channel owners. Send /register to connect a channel first.")


def dashboard_off() -> str:
    return _("This PayGate has no web dashboard.")


# --- end dashboard


def not_owner() -> str:
    return _("Only the channel's owner can change it.")


def link_on_its_way() -> str:
    return _("On its way: your link arrives in a moment.")


def slow_down(wait: float) -> str:
    return _("You are going a little fast. Please wait %(wait)s and try again.", wait=seconds(wait))


def slow_down_checkout(wait: float) -> str:
    return _(
        "You asked for several payment links in a short time. Please wait %(wait)s and try again.",
        wait=seconds(wait),
    )


# ------------------------------------------------------------- subscribers
def offer(found: Offer, token: str) -> OutgoingMessage:
    tier = found.tier
    if Rail.STARS in found.rails and tier.stars_price is not None:
        return OutgoingMessage(
            _(
                "%(title)s\n"
                "Tier %(number)s: %(period)s for %(price)s or %(stars)s.\n\n"
                "Pay in crypto on the provider's page, or in Telegram Stars right here.",
                title=found.title,
                number=tier.number,
                period=tier_term(tier),
                price=money(tier.price),
                stars=money(tier.stars_price),
            )
            + (("\n" + stars_renewal_note()) if tier.stars_renews else ""),
            (
                (Button(_("Pay in crypto"), callback_data=confirm_data(token)),),
                (
                    Button(
                        _("Pay %(stars)s", stars=money(tier.stars_price)),
                        callback_data=stars_data(token),
                    ),
                ),
            ),
        )
    return OutgoingMessage(
        _(
            "%(title)s\n"
            "Tier %(number)s: %(period)s for %(price)s.\n\n"
            "Confirm and I will send you a payment link (crypto, on the provider's page).",
            title=found.title,
            number=tier.number,
            period=tier_term(tier),
            price=money(tier.price),
        ),
        ((Button(_("Confirm"), callback_data=confirm_data(token)),),),
    )


def trial_offer(found: TrialOffering, token: str) -> OutgoingMessage:
    """A paid trial's deep link: what it is, and Confirm for the payment link."""
    assert found.trial.price is not None
    return OutgoingMessage(
        _(
            "%(title)s\n"
            "Trial: %(period)s for %(price)s, once per person.\n\n"
            "Confirm and I will send you a payment link (crypto, on the provider's page).",
            title=found.title,
            period=days(found.trial.days),
            price=money(found.trial.price),
        ),
        ((Button(_("Confirm"), callback_data=confirm_data(token)),),),
    )


def trial_started(started: TrialStarted) -> OutgoingMessage:
    return OutgoingMessage(
        _(
            "Your free trial of %(title)s has started: %(period)s, until %(end)s. "
            "Your invite link is on its way.",
            title=started.title,
            period=days(started.days),
            end=when(started.expires_at),
        )
    )


def trial_invoice(found: TrialOffering, invoice: IssuedInvoice) -> OutgoingMessage:
    return _invoice(found.title, _("a trial of %(period)s", period=days(found.trial.days)), invoice)


def subscription_invoice(found: Offer, invoice: IssuedInvoice) -> OutgoingMessage:
    return _invoice(found.title, tier_term(found.tier), invoice)


def stars_invoice(found: Offer, invoice: IssuedInvoice) -> OutgoingMessage:
    return OutgoingMessage(
        _(
            "%(title)s: %(what)s for %(price)s.\n"
            "Pay in Telegram with the button below; you will hear from me as soon as the "
            "payment goes through.",
            title=found.title,
            what=tier_term(found.tier),
            price=money(invoice.price),
        ),
        ((Button(_("Pay now"), url=invoice.url),),),
    )


def donation_invoice(title: str, invoice: IssuedInvoice) -> OutgoingMessage:
    return _invoice(title, _("a donation"), invoice)


def _invoice(title: str, what: str, invoice: IssuedInvoice) -> OutgoingMessage:
    return OutgoingMessage(
        _(
            "%(title)s: %(what)s for %(price)s.\n"
            "Pay on the provider's page; you will hear from me as soon as the payment is "
            "confirmed.",
            title=title,
            what=what,
            price=money(invoice.price),
        ),
        ((Button(_("Pay now"), url=invoice.url),),),
    )


def status(views: Sequence[SubscriptionView]) -> OutgoingMessage:
    if not views:
        return OutgoingMessage(
            _("You have no subscriptions yet. Tap a tier in a channel's offer to subscribe.")
        )
    lines = [_("Your subscriptions:")]
    rows: list[tuple[Button, ...]] = []
    for view in views:
        values = {"title": view.title, "tier": view.tier, "end": when(view.expires_at)}
        forever = view.active and is_forever(view.expires_at)
        if forever:
            lines.append(_("• %(title)s — tier %(tier)s, lifetime access", **values))
        elif view.tier == TRIAL_TIER and view.active:
            lines.append(_("• %(title)s — trial, active until %(end)s", **values))
        elif view.tier == TRIAL_TIER:
            lines.append(_("• %(title)s — trial, ended %(end)s", **values))
        elif view.tier == STARS_LINK_TIER and view.active:
            lines.append(
                _(
                    "• %(title)s — through Telegram's Stars subscription link, paid until "
                    "%(end)s; Telegram renews it",
                    **values,
                )
            )
        elif view.renews_in_stars:
            lines.append(
                _(
                    "• %(title)s — tier %(tier)s, active until %(end)s; Telegram renews it in "
                    "Stars (/stoprenewal to stop)",
                    **values,
                )
            )
        elif view.active:
            lines.append(_("• %(title)s — tier %(tier)s, active until %(end)s", **values))
        else:
            lines.append(_("• %(title)s — tier %(tier)s, ended %(end)s", **values))
        if view.includes:
            lines.append("  " + _("Includes: %(channels)s", channels=", ".join(view.includes)))
        row = []
        # A lifetime has nothing to renew; paying again for a Stars subscription
        # Telegram renews would buy a second month on top.
        if not forever and not view.renews_in_stars:
            row.append(
                Button(
                    _("Renew %(title)s", title=view.title),
                    callback_data=renew_data(view.renew_token),
                )
            )
        if view.active:
            row.append(Button(_("Send my link again"), callback_data=resend_data(view.channel_id)))
        rows.append(tuple(row))
    return OutgoingMessage("\n".join(lines), tuple(rows))


# -------------------------------------------------------------- donations
def ask_amount(title: str, bounds: DonationBounds) -> str:
    return _(
        "Type the amount for %(title)s in %(currency)s, between %(minimum)s and %(maximum)s "
        "(such as 12.50).",
        title=title,
        currency=bounds.minimum.currency,
        minimum=money_text(bounds.minimum),
        maximum=money_text(bounds.maximum),
    )


def no_donations(title: str) -> str:
    return _("%(title)s does not take donations right now.", title=title)


def keypad_expired() -> str:
    return _("This donation keypad has expired. Tap Donate in the channel to start again.")


def donation_cancelled() -> str:
    return _("Donation cancelled.")


def keypad(title: str, bounds: DonationBounds) -> str:
    return _(
        "Support %(title)s with a donation.\n"
        "Pick an amount, or type one between %(minimum)s and %(maximum)s (such as 12.50).",
        title=title,
        minimum=money_text(bounds.minimum),
        maximum=money_text(bounds.maximum),
    )


def keypad_other_amount() -> str:
    return _("Other amount")


def keypad_cancel() -> str:
    return _("Cancel")


def donate_privately(bot_username: str) -> str:
    return _(
        "Donations happen in a private chat with me: %(link)s",
        link=f"https://t.me/{bot_username}",
    )


# ------------------------------------------------------------------ owners
def register_open() -> str:
    return _(
        "Let's connect your channels (send /cancel to stop).\n"
        "First the open (public) channel where the offer is posted: forward me a message "
        "from it, or send its @username or id."
    )


def register_closed() -> str:
    return _(
        "Now the closed (private) channel subscribers are let into: forward me a message "
        "from it, or send its id."
    )


def register_title() -> str:
    return _("Last, the title subscribers see for this channel, such as Alpha Signals.")


def register_same_chat() -> str:
    return _("The closed channel must be a different chat from the open one.")


def register_timed_out() -> str:
    return _("Registration timed out. Send /register to start again.")


def register_cancelled() -> str:
    return _("Registration cancelled.")


def registered(channel: Channel, number: int) -> str:
    return _(
        "%(title)s is registered as channel %(number)s.\n"
        "Next, set its tiers: /tiers %(number)s %(tiers)s\n"
        "To take donations: /donations %(number)s %(bounds)s",
        title=channel.title,
        number=number,
        tiers=TIERS_EXAMPLE,
        bounds=BOUNDS_EXAMPLE,
    )


def reclaimed(channel: Channel, number: int) -> str:
    return _(
        "%(title)s is yours now, as channel %(number)s: you created both of its chats, "
        "so it moved to you from whoever registered it. It keeps its subscribers, tiers and "
        "donation limits; check them with /tiers %(number)s and /donations.",
        title=channel.title,
        number=number,
    )


def register_again(reason: str) -> str:
    return _("%(reason)s\nSend /register to start again.", reason=reason)


def channels(owned: Sequence[Channel], now: datetime | None = None) -> str:
    if not owned:
        return no_channels()
    lines = [_("Your channels:")]
    for number, channel in enumerate(owned, start=1):
        lines.append(f"{number}. {channel.title} — {_state(channel)}")
        lines.append(
            _(
                "   open %(open)s, closed %(closed)s",
                open=channel.open_chat_id,
                closed=channel.closed_chat_id,
            )
        )
        lines.append(_("   tiers: %(tiers)s", tiers=_tiers(channel, now)))
        lines.append(_("   donations: %(bounds)s", bounds=_bounds(channel.donation_bounds)))
        lines.append(_("   trial: %(trial)s", trial=trial_setting(channel.trial)))
    return "\n".join(lines)


def _tier_line(tier: Tier, now: datetime) -> str:
    if not tier.on_sale_at(now):
        return _(
            "   • tier %(number)s: %(label)s (ended, no longer sold)",
            number=tier.number,
            label=tier_label(tier),
        )
    return _("   • tier %(number)s: %(label)s", number=tier.number, label=tier_label(tier))


def tiers(numbered: Sequence[tuple[int, Channel]], now: datetime) -> str:
    if not numbered:
        return no_channels()
    lines = []
    for number, channel in numbered:
        lines.append(f"{number}. {channel.title}")
        lines.extend(_tier_line(t, now) for t in channel.tiers)
        if not channel.tiers:
            lines.append(_("   no tiers: nothing is on sale"))
        lines.append(_("   trial: %(trial)s", trial=trial_setting(channel.trial)))
    lines.append(
        _(
            "\nChange them with /tiers <channel> %(tiers)s (up to three; none to stop selling).",
            tiers=TIERS_EXAMPLE,
        )
    )
    lines.append(
        _(
            "Days, a lifetime or a season that ends on one date for everyone: %(example)s",
            example=PLANS_EXAMPLE,
        )
    )
    lines.append(
        _(
            "To sell a tier for Telegram Stars too, add its Stars price: %(example)s",
            example=STARS_TIER_EXAMPLE,
        )
    )
    return "\n".join(lines)


def donations(numbered: Sequence[tuple[int, Channel]]) -> str:
    if not numbered:
        return no_channels()
    lines = [f"{number}. {c.title}: {_bounds(c.donation_bounds)}" for number, c in numbered]
    lines.append(
        _("\nChange them with /donations <channel> %(bounds)s, or off.", bounds=BOUNDS_EXAMPLE)
    )
    return "\n".join(lines)


WALLET_EXAMPLE = "/wallet 1 btc bc1q…"


def _wallet(channel: Channel) -> str:
    wallet = channel.payout_wallet
    return _("not set") if wallet is None else wallet.masked()


def wallets(numbered: Sequence[tuple[int, Channel]]) -> str:
    if not numbered:
        return no_channels()
    lines = [f"{number}. {c.title}: {_wallet(c)}" for number, c in numbered]
    lines.append(
        _(
            "\nSet one with /wallet <channel> <currency> <address> (%(example)s), or off.",
            example=WALLET_EXAMPLE,
        )
    )
    return "\n".join(lines)


def wallet_saved(channel: Channel) -> str:
    if channel.payout_wallet is None:
        return _("%(title)s: payout wallet removed.", title=channel.title)
    return _(
        "%(title)s: payouts go to %(wallet)s.",
        title=channel.title,
        wallet=channel.payout_wallet.masked(),
    )


def tiers_saved(channel: Channel, now: datetime | None = None) -> str:
    if not channel.tiers:
        return _("%(title)s: no tiers, so nothing is on sale.", title=channel.title)
    lines = [_("%(title)s: tiers saved.", title=channel.title)]
    lines.extend(
        _("• tier %(number)s: %(label)s", number=t.number, label=_listed(t, now))
        for t in channel.tiers
    )
    lines.append(_("The offer in the open channel is refreshed shortly."))
    return "\n".join(lines)


def trial_saved(channel: Channel) -> str:
    if channel.trial is None:
        return _("%(title)s: no trial is offered.", title=channel.title)
    return _(
        "%(title)s: %(trial)s, once per person; not for those who paid before. "
        "The offer in the open channel is refreshed shortly.",
        title=channel.title,
        trial=trial_setting(channel.trial),
    )


def stars_link_saved(channel: Channel) -> str:
    link = channel.stars_link
    if link is None:
        return _(
            "%(title)s: Telegram's Stars subscription link is off and revoked; those who "
            "joined through it stay until Telegram ends their subscription.",
            title=channel.title,
        )
    return _(
        "%(title)s: the offer now also shows Telegram's own Stars subscription link, "
        "%(stars)s Stars every 30 days. Telegram charges and renews it and removes "
        "those who stop paying: %(url)s",
        title=channel.title,
        stars=int(link.price.amount),
        url=link.url,
    )


def stars_link_usage() -> str:
    return _(
        "write the price in Stars after the channel number (1 to 10000, charged every "
        "30 days by Telegram), or off"
    )


def trial_usage() -> str:
    return _(
        "write the trial after the channel number: 7d for a free week, 3d 1USD for a "
        "paid one, or off"
    )


def donations_saved(channel: Channel) -> str:
    if channel.donation_bounds is None:
        return _("%(title)s: donations are off.", title=channel.title)
    return _(
        "%(title)s: donations from %(bounds)s.",
        title=channel.title,
        bounds=_bounds(channel.donation_bounds),
    )


def reposted(title: str, posted: int, paused: int) -> str:
    if posted:
        return _("%(title)s: a fresh offer is posted in the open channel.", title=title)
    if paused:
        return _(
            "%(title)s: I cannot post in the open channel, so sales are paused. Check my rights.",
            title=title,
        )
    return _(
        "%(title)s: Telegram did not take the post just now; I will try again shortly.",
        title=title,
    )


def resumed(title: str) -> str:
    return _("%(title)s: the bot has its rights in both chats, so sales are back on.", title=title)


def not_paused(title: str) -> str:
    return _("%(title)s: sales are not paused, so there is nothing to resume.", title=title)


def resume_refused(
    title: str, number: int, shortfalls: Sequence[tuple[str | None, Shortfall]], paused: bool
) -> str:
    """What the bot lacks, chat by chat, named as the owner knows the chats."""
    needs = []
    for name, gap in shortfalls:
        role = _("open") if gap.role == "open" else _("closed")
        where = (
            _("%(name)s (the %(role)s channel)", name=name, role=role)
            if name
            else _("the %(role)s channel (chat %(chat)s)", role=role, chat=gap.chat_id)
        )
        rights = right_names(gap.missing)
        if gap.status is None:
            needs.append(
                _(
                    "to be added as an admin with %(rights)s to %(where)s",
                    rights=rights,
                    where=where,
                )
            )
        elif gap.status not in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR):
            needs.append(
                _("to be an admin with %(rights)s in %(where)s", rights=rights, where=where)
            )
        else:
            needs.append(_("%(rights)s in %(where)s", rights=rights, where=where))
    if not paused:
        return _(
            "%(title)s: sales are not paused, but the bot needs: %(needs)s.\n"
            "Give it those rights, or sales pause at the next check.",
            title=title,
            needs="; ".join(needs),
        )
    return _(
        "I cannot resume %(title)s yet. The bot needs: %(needs)s.\n"
        "Give it those rights, then send /resume %(number)s again.",
        title=title,
        needs="; ".join(needs),
        number=number,
    )


def _state(channel: Channel) -> str:
    if channel.sales_paused:
        if channel.pause_reason:
            return _("paused (%(reason)s)", reason=pause_reason(channel.pause_reason))
        return _("paused")
    return _("selling") if channel.tiers else _("not selling: no tiers yet")


def _tiers(channel: Channel, now: datetime | None) -> str:
    return "; ".join(_listed(t, now) for t in channel.tiers) or _("none")


def _listed(tier: Tier, now: datetime | None) -> str:
    if now is not None and not tier.on_sale_at(now):
        return _("%(label)s (ended)", label=tier_label(tier))
    return tier_label(tier)


def _bounds(bounds: DonationBounds | None) -> str:
    if bounds is None:
        return _("off")
    return _(
        "%(minimum)s to %(maximum)s",
        minimum=money_text(bounds.minimum),
        maximum=money_text(bounds.maximum),
    )


# ------------------------------------------------------------- languages
def language_menu(current: str, names: Sequence[tuple[str, str]]) -> str:
    """``/language`` alone: what the person reads now and how to change it."""
    listed = ", ".join(f"/language {code} ({name})" for code, name in names)
    return _(
        "I speak %(current)s to you. To change it: %(choices)s.\n"
        "Channel owners: /language <channel> <code> sets the language of that channel's "
        "posts.",
        current=current,
        choices=listed,
    )


def language_saved(name: str) -> str:
    return _("From now on I speak %(language)s to you.", language=name)


def channel_language_saved(title: str, name: str, number: int) -> str:
    return _(
        "%(title)s: its offer and Donate posts are in %(language)s from the next post on; "
        "/repost %(number)s posts a fresh offer now.",
        title=title,
        language=name,
        number=number,
    )


def unknown_language(code: str, names: Sequence[tuple[str, str]]) -> str:
    return _(
        "I do not speak “%(code)s”. Pick one of: %(choices)s.",
        code=code[:16],
        choices=", ".join(f"{c} ({n})" for c, n in names),
    )


# ------------------------------------------------------------- what to type
# Why the bot could not read what was typed or pressed, as the start of a sentence
# (the bot's error handler capitalises it and ends it with a full stop).
def amount_usage() -> str:
    return _("send just the amount, such as 12.50 or 12,50")


def amount_decimals() -> str:
    return _("use at most two decimals, such as 12.50")


def tiers_usage() -> str:
    return _("write the tiers after the channel number, such as %(example)s", example=TIERS_EXAMPLE)


def tier_unreadable(word: str) -> str:
    return _(
        "I could not read “%(word)s”: write each tier as number=price/days, such as %(example)s",
        word=word[:40],
        example=TIERS_EXAMPLE,
    )


def bounds_usage() -> str:
    return _(
        "write the limits as minimum-maximum, such as %(example)s, or off", example=BOUNDS_EXAMPLE
    )


def bounds_currencies() -> str:
    return _("both limits must be in the same currency")


def chat_ref_usage() -> str:
    return _(
        "send the channel's @username, its t.me link or its id (such as -1001234567890), "
        "or forward me a message from it"
    )


def channel_number_usage() -> str:
    return _("start with the channel's number from /channels, such as 1")


def no_such_channel(number: int) -> str:
    return _("you have no channel %(number)s; /channels lists yours", number=number)


def keypad_not_valid() -> str:
    return _("this keypad is out of date or not one of mine; tap Donate in the channel again")


def button_stale() -> str:
    return _("this button no longer works; please start again")


def not_a_donate_button() -> str:
    return _("this link is not a Donate button")


def donations_gone() -> str:
    return _("this channel no longer takes donations")


def register_usage() -> str:
    return _(
        "write /register <open channel> <closed channel> <title>, "
        "or just /register and I will ask for each"
    )


def chat_not_found(reference: str) -> str:
    return _("I cannot find %(chat)s; check the name", chat=reference)


def wallet_usage() -> str:
    return _(
        "write /wallet <channel> <currency> <address>, such as %(example)s",
        example=WALLET_EXAMPLE,
    )


def bundle_usage() -> str:
    return _(
        "write /bundle <channel>, /bundle <channel> add <channels> or "
        "/bundle <channel> remove <channels>, with the numbers from /channels, "
        "such as /bundle 1 add 2 3"
    )


def bundle(number: int, found: Bundle, numbers: dict[ChannelId, int]) -> str:
    """What a subscription to the owner's channel ``number`` opens."""
    if not found.members:
        return _(
            "%(title)s: a subscription opens its own closed channel only. "
            "Add others with /bundle %(number)s add <channels>.",
            title=found.home.title,
            number=number,
        )
    lines = [
        _(
            "%(title)s: a subscription also opens the closed channels of:",
            title=found.home.title,
        )
    ]
    lines += [
        _("• %(number)s. %(title)s", number=numbers.get(m.id, "?"), title=m.title)
        for m in found.members
    ]
    return "\n".join(lines)


def bundle_saved(number: int, found: Bundle, numbers: dict[ChannelId, int]) -> str:
    lines = [bundle(number, found, numbers)]
    if found.granted:
        lines.append(
            n_(
                "An invite to the added channels is on its way to %(n)s active subscriber.",
                "Invites to the added channels are on their way to %(n)s active subscribers.",
                found.granted,
            )
        )
    lines.append(_("The offer in the open channel is refreshed shortly."))
    return "\n".join(lines)


def command_usage(command: str) -> str:
    return _(
        "write /%(command)s and the channel's number from /channels, such as /%(command)s 1",
        command=command,
    )


# ------------------------------------------------------------ command menu
def subscriber_commands() -> list[tuple[str, str]]:
    """The menu Telegram shows everyone in a private chat with the bot: (command,
    what it does)."""
    return [
        ("start", _("what I do")),
        ("status", _("your subscriptions")),
        ("stoprenewal", _("stop renewing your Telegram Stars subscriptions")),
        ("language", _("the language I speak to you")),
        ("help", _("everything I can do")),
        ("redeem", _("use a discount or access code")),
        ("cancel", _("stop what we are doing")),
    ]


def owner_only_commands() -> list[tuple[str, str]]:
    """The commands only a channel's owner has a use for."""
    return [
        ("channels", _("your channels and their state")),
        ("register", _("connect an open and a closed channel")),
        ("tiers", _("view or set prices")),
        ("trial", _("a trial once per person")),
        ("stars_link", _("Telegram's own Stars subscription link for a channel")),
        ("donations", _("donation limits")),
        ("wallet", _("where payouts go")),
        ("repost", _("post a fresh offer now")),
        ("resume", _("resume paused sales")),
        ("bundle", _("one subscription for several of your channels")),
        ("wording", _("your own words for your channel's messages")),
        ("dashboard", _("log in to the web dashboard")),
        ("refund", _("refund a Telegram Stars payment")),
        ("coupon", _("make a discount or access code, or switch one off")),
        ("coupons", _("your discount and access codes")),
    ]


def owner_commands() -> list[tuple[str, str]]:
    """The menu of a channel owner's private chat: theirs, then the subscribers'."""
    return [*owner_only_commands(), *subscriber_commands()]


def operator_only_commands() -> list[tuple[str, str]]:
    """The commands of this PayGate's operators (``PAYGATE_OPERATOR_IDS``)."""
    return [("owners", _("every channel, its owner and its state"))]


def operator_commands() -> list[tuple[str, str]]:
    """The menu of an operator's private chat: theirs, the owners', the subscribers'."""
    return [*operator_only_commands(), *owner_commands()]


# ------------------------------------------------------------ Telegram Stars
def pre_checkout_refused(refusal: Refusal | None) -> str:
    """Why Telegram will not take the Stars (shown by Telegram); None: we could not
    check in time."""
    if refusal is Refusal.CLOSED:
        return _("This invoice is closed. Tap the offer again for a new one.")
    if refusal is Refusal.CHANGED:
        return _("This invoice no longer matches the offer. Tap the offer again for a new one.")
    if refusal is Refusal.SOMEONE_ELSE:
        return _("This invoice was made for someone else. Tap the offer to get your own.")
    if refusal is Refusal.UNKNOWN:
        return _("I do not know this invoice. Tap the offer to get a new one.")
    return _("I cannot check this invoice right now. Please try again in a minute.")


def refund_usage() -> str:
    return _("write /refund <charge id> <reason>, such as /refund stxAbc123 asked by the buyer")


def refunded(charge_id: str, amount: Money) -> str:
    return _(
        "Refunded %(amount)s of payment %(charge)s; what it bought is taken back.",
        amount=money(amount),
        charge=charge_id,
    )


def stars_off() -> str:
    return _("This bot does not take Telegram Stars.")


def stars_renewal_note() -> str:
    return _(
        "Paid in Stars, it is a subscription that Telegram renews every 30 days until you "
        "send /stoprenewal."
    )


def no_renewal() -> str:
    return _("You have no Telegram Stars subscription that renews.")


def renewal_stopped(count: int) -> str:
    return n_(
        "Done: your Stars subscription will not renew. You keep access until the end of "
        "what you paid for.",
        "Done: your %(n)s Stars subscriptions will not renew. You keep access until the "
        "end of what you paid for.",
        count,
    )


# ------------------------------------------------------------ who may sell
# PAYGATE_SELLERS=approval: a request to sell, and the operators' decision on it.


def seller_asked(asked: Asked) -> str:
    """What someone who may not sell yet reads when they try to register."""
    match asked:
        case Asked.SENT:
            return _(
                "This PayGate lets its operators choose who sells here, and you are not on "
                "their list yet. I have asked them for you; I will tell you here as soon as "
                "they decide."
            )
        case Asked.WAITING:
            return _(
                "Your request to sell here is with the operators of this PayGate. I will tell "
                "you here as soon as they decide."
            )
        case Asked.APPROVED:
            return _("You are approved as a seller here: send /register to connect a channel.")
        case Asked.DECLINED:
            return _("The operators of this PayGate declined your request to sell channels here.")


def not_an_operator_button() -> str:
    return _("Only the operators of this PayGate decide who may sell.")


def seller_decided(decision: Decision, operator: int) -> str:
    """The operator's request message once decided: who decided what, and whether the
    press just now did it (or another operator had decided already)."""
    request = decision.request
    name = request.name or _("Someone")
    if request.decided_by == operator:
        by = _("you")
    else:
        by = _("operator %(operator)s", operator=request.decided_by)
    if request.approved:
        said = _(
            "%(name)s (Telegram user %(user)s): approved by %(by)s",
            name=name,
            user=request.user_id,
            by=by,
        )
    else:
        said = _(
            "%(name)s (Telegram user %(user)s): declined by %(by)s",
            name=name,
            user=request.user_id,
            by=by,
        )
    if decision.decided_now:
        return _("%(said)s. They have been told.", said=said)
    return _("%(said)s already; nothing changed.", said=said)


# ------------------------------------------------------------ the operators
# What the bot says to the deployment's operators (PAYGATE_OPERATOR_IDS).


def not_an_operator() -> str:
    return _("/owners is for the operators of this PayGate.")


def owners(channels: Sequence[Channel]) -> str:
    """Every owner (by Telegram user id) with their channels and each one's state,
    owners in id order, channels oldest first."""
    if not channels:
        return _("No channels are registered yet.")
    ordered = sorted(channels, key=lambda c: (c.owner_id, c.created_at, c.id))
    lines: list[str] = []
    for owner, owned in groupby(ordered, key=lambda c: c.owner_id):
        mine = list(owned)
        lines.append(
            n_(
                "Owner %(owner)s (%(n)s channel):",
                "Owner %(owner)s (%(n)s channels):",
                len(mine),
                owner=owner,
            )
        )
        lines.extend(f"  • {channel.title} ({_state(channel)})" for channel in mine)
    return "\n".join(lines)
