"""Why something was refused, in the reader's language: every :class:`Why` a domain
error carries, with its values, and the reasons sales paused
(:mod:`core.domain.pause`). What an adapter refuses in its own words is a
:class:`Worded` error, already written in the person's language."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

from adapters.catalog.language import _, n_
from adapters.catalog.words import money_text
from core.domain.errors import DomainError, Why
from core.domain.money import Money
from core.domain.pause import PauseCause, PauseReason, decode
from core.domain.rights import Right

logger = logging.getLogger(__name__)


class Worded(DomainError):
    """A refusal an inbound adapter words itself (``text``, in the person's language)."""

    def __init__(self, text: str) -> None:
        super().__init__(Why.ADAPTER, text=text)
        self.args = (text,)  # str(): the words themselves
        self.text = text


def right_names(rights: Iterable[Right]) -> str:
    """Rights as Telegram's admin screen words them, in the person's language."""
    names = {
        Right.POST_MESSAGES: _("post messages"),
        Right.EDIT_MESSAGES: _("edit messages"),
        Right.DELETE_MESSAGES: _("delete messages"),
        Right.INVITE_USERS: _("invite users"),
        Right.RESTRICT_MEMBERS: _("restrict members"),
    }
    return ", ".join(names[r] for r in rights)


def _which(role: object) -> str:
    return _("open") if role == "open" else _("closed")


def _shown(value: object) -> object:
    return money_text(value) if isinstance(value, Money) else value


def _missing(error: DomainError) -> str:
    known = {right.value: right for right in Right}
    return right_names(known[m] for m in getattr(error, "missing", ()) if m in known)


Words = Callable[[Mapping[str, object]], str]

_WORDS: dict[Why, Words] = {
    Why.CURRENCY_NOT_TEXT: lambda v: _("A currency is a code such as USD."),
    Why.CURRENCY_CODE: lambda v: _("%(given)s is not a currency code.", **v),
    Why.AMOUNT_FLOAT: lambda v: _("That is not an amount."),
    Why.AMOUNT_MALFORMED: lambda v: _("%(given)s is not an amount.", **v),
    Why.AMOUNT_INFINITE: lambda v: _("That is not an amount."),
    Why.CURRENCIES_MIXED: lambda v: _("%(first)s and %(second)s cannot be mixed.", **v),
    Why.TIER_NUMBER: lambda v: _("Tiers are numbered 1 to %(most)s, not %(given)s.", **v),
    Why.TIER_PRICE_ZERO: lambda v: _("A tier's price must be above zero."),
    Why.TIER_PRICE_DECIMALS: lambda v: n_(
        "A tier's price has at most %(n)s decimal.",
        "A tier's price has at most %(n)s decimals.",
        int(str(v["most"])),
    ),
    Why.STARS_CURRENCY: lambda v: _("A Stars price is in XTR, not %(currency)s.", **v),
    Why.STARS_WHOLE: lambda v: _("A Stars price is a whole number of Stars, 1 to %(most)s.", **v),
    Why.TIER_DAYS_WHOLE: lambda v: _("A tier lasts a whole number of days."),
    Why.TIER_DAYS_RANGE: lambda v: _("A tier lasts 1 to %(most)s days, not %(given)s.", **v),
    Why.TIER_MAIN_PRICE_STARS: lambda v: _(
        "A tier's main price is in crypto; give Stars as its Stars price."
    ),
    Why.TIER_NOT_FOR_STARS: lambda v: _("Tier %(number)s is not sold for Stars.", **v),
    Why.TIERS_TOO_MANY: lambda v: _("A channel has at most %(most)s tiers.", **v),
    Why.TIER_NUMBERS_TWICE: lambda v: _("Each tier number may appear only once."),
    Why.TIERS_CURRENCIES: lambda v: _("All tiers of a channel are priced in one currency."),
    Why.NO_SUCH_TIER: lambda v: _("This channel has no tier %(number)s.", **v),
    Why.RENEWS_WITHOUT_STARS: lambda v: _("Only a tier with a Stars price can renew in Stars."),
    Why.RENEWAL_DAYS: lambda v: _("A Stars subscription lasts %(days)s days.", **v),
    Why.NO_RENEWAL: lambda v: _("None of your Stars subscriptions renews."),
    Why.STARS_NOT_TAKEN: lambda v: _("Payments in Stars are not taken here."),
    Why.TIER_SPAN_DAYS: lambda v: _("A lifetime or season tier has no number of days."),
    Why.SEASON_END_DATE: lambda v: _("A season tier, and only it, has an end date."),
    Why.SEASON_TOO_LATE: lambda v: _("A season ends before the year 9999."),
    Why.SEASON_OVER: lambda v: _(
        "This season has ended and is no longer sold. Pick another tier from the channel."
    ),
    Why.LIFETIME_HELD: lambda v: _(
        "You already have lifetime access to this channel: there is nothing to renew."
    ),
    Why.TRIAL_DAYS: lambda v: _("A trial lasts 1 to %(most)s days.", **v),
    Why.STARS_LINK_PRICE: lambda v: _(
        "A Stars subscription link costs a whole number of Stars, 1 to %(most)s.", **v
    ),
    Why.TRIAL_PRICE: lambda v: _(
        "A paid trial costs more than zero, in the tiers' currency (not Stars)."
    ),
    Why.TRIAL_PRICE_DECIMALS: lambda v: n_(
        "A trial's price has at most %(n)s decimal.",
        "A trial's price has at most %(n)s decimals.",
        int(str(v["most"])),
    ),
    Why.TRIAL_NOT_OFFERED: lambda v: _(
        "This channel offers no trial right now. Pick a tier to subscribe."
    ),
    Why.TRIAL_TAKEN: lambda v: _(
        "You have already had the trial of this channel; it is once per person. "
        "Pick a tier to subscribe."
    ),
    Why.TRIAL_PAID: lambda v: _(
        "The trial is for people new to this channel, and you have paid for it "
        "before. Pick a tier to subscribe."
    ),
    Why.OFFER_FOR_TRIAL: lambda v: _("This link is for a trial, not a tier."),
    Why.BOUNDS_CURRENCIES: lambda v: _("Both donation limits must be in one currency."),
    Why.BOUNDS_MINIMUM_ZERO: lambda v: _("The smallest donation must be above zero."),
    Why.BOUNDS_INVERTED: lambda v: _("The largest donation is below the smallest."),
    Why.BOUNDS_DECIMALS: lambda v: _("Donation limits have at most two decimals."),
    Why.WALLET_MALFORMED: lambda v: _("That payout wallet is malformed."),
    Why.WALLET_SPACES: lambda v: _("A payout address is one word, without spaces."),
    Why.WALLET_LENGTH: lambda v: _(
        "A payout address is %(least)s to %(most)s characters long.", **v
    ),
    Why.WALLET_NOT_FOR: lambda v: _("That is not a %(currency)s address.", **v),
    Why.SAME_CHATS: lambda v: _("The open and the closed channel must be different chats."),
    Why.TITLE_LENGTH: lambda v: _("A channel's title is 1 to %(most)s characters.", **v),
    Why.NO_SUCH_CHANNEL: lambda v: _("There is no such channel."),
    Why.OFFER_INVALID: lambda v: _("This link is not a valid offer."),
    Why.OFFER_FOR_DONATIONS: lambda v: _("This link is for donations, not a subscription."),
    Why.OFFER_CHANGED: lambda v: _(
        "This offer has changed; please pick a tier from the channel again."
    ),
    Why.OFFER_GONE: lambda v: _("This offer is no longer available."),
    Why.NO_OFFERS: lambda v: _("This channel has no offers right now."),
    Why.SALES_PAUSED: lambda v: _("%(title)s is not taking new subscriptions right now.", **v),
    Why.DONATIONS_GONE: lambda v: _("This channel no longer takes donations."),
    Why.NO_DONATIONS: lambda v: _("%(title)s does not take donations right now.", **v),
    Why.DONATION_FORMAT: lambda v: _("Enter an amount such as 5 or 12.50."),
    Why.DONATION_DECIMALS: lambda v: _("Use at most two decimals."),
    Why.DONATION_BELOW: lambda v: _("The smallest donation is %(least)s.", **v),
    Why.DONATION_ABOVE: lambda v: _("The largest donation is %(most)s.", **v),
    Why.NOT_OWNER: lambda v: _("Only the channel's owner can change it."),
    Why.OPERATORS_DECIDE: lambda v: _("Only the operators of this PayGate decide who may sell."),
    Why.OWNERS_ONLY: lambda v: _("The dashboard is for channel owners."),
    Why.REFUNDER_NOT_ALLOWED: lambda v: _("Only an operator or the channel's owner can refund."),
    Why.CLOSED_TO_SELLERS: lambda v: _(
        "This PayGate is not open for new sellers; ask its operator."
    ),
    Why.NO_SELLER_REQUEST: lambda v: _("User %(user)s has not asked to sell here.", **v),
    Why.BOT_NOT_ADMIN: lambda v: _(
        "Add the bot as an admin of the %(which)s channel first.", which=_which(v["which"])
    ),
    Why.CREATOR_ONLY: lambda v: _(
        "Only the creator of the %(which)s channel can register it.", which=_which(v["which"])
    ),
    Why.CREATOR_ONLY_ADMIN: lambda v: _(
        "Only the creator of the %(which)s channel can register it; you are an admin "
        "there, not its creator: ask its creator to register it.",
        which=_which(v["which"]),
    ),
    Why.NO_LONGER_CREATOR: lambda v: _(
        "You are not the creator of the %(which)s channel (chat %(chat)s) any more, and "
        "only the creator of both chats can change this channel.",
        which=_which(v["which"]),
        chat=v["chat"],
    ),
    Why.BOT_CANNOT_SEE_CREATOR: lambda v: _(
        "Add the bot as an admin of the %(which)s channel first: I cannot see who "
        "created it otherwise.",
        which=_which(v["which"]),
    ),
    Why.TAKEN_BY_YOU: lambda v: _(
        "The %(which)s channel is already part of your channel %(title)s.",
        which=_which(v["which"]),
        title=v["title"],
    ),
    Why.TAKEN_YOU_CREATED: lambda v: _(
        "The %(which)s channel is already part of a channel someone else registered "
        "(open %(open)s, closed %(closed)s). You created both of its chats: register "
        "exactly that pair to take it over.",
        which=_which(v["which"]),
        open=v["open"],
        closed=v["closed"],
    ),
    Why.TAKEN_BY_OTHER: lambda v: _(
        "The %(which)s channel is already part of a channel someone else registered "
        "(open %(open)s, closed %(closed)s). Only the creator of both of its chats can "
        "take it over, by registering exactly that pair, and you did not create chat "
        "%(chat)s: ask its creator.",
        which=_which(v["which"]),
        open=v["open"],
        closed=v["closed"],
        chat=v["chat"],
    ),
    Why.REGISTERED_MEANWHILE: lambda v: _("One of these chats was registered meanwhile."),
    Why.REASON_MISSING: lambda v: _("A reason is required."),
    Why.REASON_TOO_LONG: lambda v: _("A reason has at most %(most)s characters.", **v),
    Why.NO_TIERS_YET: lambda v: _("This channel has no tiers yet: set them with /tiers first."),
    Why.PAUSED_NO_POST: lambda v: (
        _(
            "Sales are paused (%(reason)s); /resume brings them back first.",
            reason=pause_reason(str(v["reason"])),
        )
        if v.get("reason")
        else _("Sales are paused; /resume brings them back first.")
    ),
    Why.POSTED_MOMENTS_AGO: lambda v: n_(
        "The offer was posted moments ago; try again in %(n)s minute.",
        "The offer was posted moments ago; try again in %(n)s minutes.",
        int(str(v["minutes"])),
    ),
    Why.BUNDLE_SELF: lambda v: _("A channel is always part of its own subscription."),
    Why.BUNDLE_OTHER_OWNER: lambda v: _("A bundle only holds channels of the same owner."),
    Why.BUNDLE_HAS_ALREADY: lambda v: _("%(title)s is in this bundle already.", **v),
    Why.BUNDLE_FULL: lambda v: _("A bundle holds at most %(most)s other channels.", **v),
    Why.BUNDLE_HAS_NOT: lambda v: _("%(title)s is not in this bundle.", **v),
    Why.NO_SUBSCRIPTION: lambda v: _("You have no active subscription to this channel."),
    Why.ACCESS_PREPARING: lambda v: _("Your access is being prepared; try again in a minute."),
    Why.REFUND_REASON_MISSING: lambda v: _("Say why the payment is refunded."),
    Why.NO_STARS_PAYMENT: lambda v: _("There is no Stars payment %(charge)s of ours.", **v),
    Why.NOT_REFUNDABLE: lambda v: _("This payment is not one that stands: nothing to refund."),
    Why.HOLDS_SUBSCRIPTIONS: lambda v: n_(
        "The person holds %(n)s active subscription.",
        "The person holds %(n)s active subscriptions.",
        int(str(v["n"])),
    ),
    Why.OWNS_CHANNELS: lambda v: n_(
        "The person owns %(n)s channel.", "The person owns %(n)s channels.", int(str(v["n"]))
    ),
    Why.OVERVIEW_WINDOW: lambda v: _("The overview shows the last 30 or 90 days."),
    Why.OVERVIEW_PAGE: lambda v: _("There is no such page."),
    Why.SEARCH_USER_ID: lambda v: _("A Telegram user id is a whole number."),
    Why.SEARCH_PAGE_BROKEN: lambda v: _("This page link is broken; start the search again."),
    Why.SEARCH_WHAT: lambda v: _("Search by a Telegram user id or a @username."),
    Why.NO_SUCH_SUBSCRIBER: lambda v: _("There is no such subscriber in this channel."),
    Why.SUBSCRIPTION_NOT_ACTIVE: lambda v: _("This subscription is not active."),
    Why.GRANT_DAYS: lambda v: _("A grant is 1 to %(most)s days.", **v),
    Why.NO_SUCH_PAYMENT: lambda v: _("There is no such payment."),
    Why.NO_LATE_MONEY: lambda v: _("This payment holds no late money to grant."),
    Why.TOKEN_NAME_MISSING: lambda v: _("A token needs a name."),
    Why.TOKEN_NAME_TOO_LONG: lambda v: _("A token's name has at most %(most)s characters.", **v),
    Why.TOKEN_SCOPE: lambda v: _("A token's scope is read or write."),
    Why.TOKENS_TOO_MANY: lambda v: _(
        "You hold %(most)s active tokens, the most: revoke one you no longer use.", **v
    ),
    Why.NO_SUCH_TOKEN: lambda v: _("There is no such token."),
    Why.WEB_LOGIN: lambda v: _(
        "Telegram did not confirm who you are. Start again from the sign-in page."
    ),
    Why.ORDER_ID: lambda v: _("That cannot be done."),
    Why.MOVE_REFUSED: lambda v: _("That cannot be done."),
    Why.ADAPTER: lambda v: str(v["text"]),
    # coupons and access codes (issue 21)
    Why.COUPON_BAD_CODE: lambda v: _("A code is 4 to 32 letters, digits or dashes."),
    Why.COUPON_CODE_TAKEN: lambda v: _("That code is taken. Please choose another one."),
    Why.COUPON_BAD_DISCOUNT: lambda v: _(
        "A discount is 1 to 99 percent or an amount above zero; free days are 1 to 3660, "
        "and uses at least 1."
    ),
    Why.COUPON_FREE_DAYS_NEED_A_CHANNEL: lambda v: _(
        "Free days are for one channel: add channel 1 (its number from /channels)."
    ),
    Why.COUPON_WRONG_CURRENCY: lambda v: _("An amount off must be in your tiers' currency."),
    Why.COUPON_UNKNOWN: lambda v: _("I do not know that code, or it was switched off."),
    Why.COUPON_EXPIRED: lambda v: _("That code has expired."),
    Why.COUPON_USED_UP: lambda v: _("That code has been used up."),
    Why.COUPON_ALREADY_REDEEMED: lambda v: _("You have already used that code."),
    Why.COUPON_NOTHING_ON_SALE: lambda v: _("That code has nothing on sale right now."),
    Why.COUPON_NO_CHANNELS: lambda v: _("You have no channels yet; /register connects one."),
}


def refusal(error: DomainError) -> str:
    """What ``error`` means to the person who reads it, in the current language."""
    if isinstance(error, Worded):
        return error.text
    try:
        if error.why is Why.BOT_RIGHTS:
            text = _bot_rights(error)
        else:
            values = {name: _shown(value) for name, value in error.values.items()}
            text = _WORDS[error.why](values)
        if "%(" in text:  # gettext fills nothing when no value at all was given
            raise KeyError(text)
    except (KeyError, TypeError, ValueError):
        # A value the words name was not given: a bug, but the person still gets a
        # sentence (tests/unit/catalog/test_refusals.py checks every raise in core).
        logger.exception("refusal %s cannot be worded", error.why.value)
        text = _("That cannot be done.")
    return text[:1].upper() + text[1:]


def _bot_rights(error: DomainError) -> str:
    return _(
        "Make the bot an admin of the %(which)s channel with: %(rights)s.",
        which=_which(error.values.get("which")),
        rights=_missing(error),
    )


def pause_reason(stored: str) -> str:
    """A stored pause reason as its reader reads it: the system's codes in the current
    language, anything else (an owner's words, an older release's) as stored."""
    reasons = decode(stored)
    if reasons is None:
        return stored
    return "; ".join(_pause(r) for r in reasons)


def _pause(reason: PauseReason) -> str:
    match reason.cause:
        case PauseCause.BOT_ABSENT:
            return _("the bot is not in the %(which)s channel any more", which=_which(reason.role))
        case PauseCause.BOT_NOT_ADMIN:
            return _(
                "the bot is no longer an admin of the %(which)s channel", which=_which(reason.role)
            )
        case PauseCause.RIGHTS_LOST:
            return _(
                "the bot lost its right to %(rights)s in the %(which)s channel",
                rights=right_names(reason.rights),
                which=_which(reason.role),
            )
        case PauseCause.POST_REFUSED:
            return _("Telegram refused the bot's post (%(detail)s)", detail=reason.detail)
        case PauseCause.DATA_ERASED:
            return _("the owner's data was erased")
