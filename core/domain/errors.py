"""The domain's error hierarchy.

Every rule the domain keeps raises a specific subclass of :class:`DomainError`, so an
inbound adapter can map the whole family to a transport answer in one place (a 4xx
over HTTP, a short message in the bot) without ever leaking a stack trace.

An error says *why* it was raised as a :class:`Why` code with named values (a
channel's title, a bound, a tier's number), never as a sentence: the catalog
(``adapters/catalog/refusals.py``) words each code in the language of the person who
reads it. ``str()`` of an error is the code and its values, for logs.
"""

from __future__ import annotations

from enum import StrEnum


class Why(StrEnum):
    """What a refusal means. Values name what the catalog fills in."""

    # money
    CURRENCY_NOT_TEXT = "currency_not_text"
    CURRENCY_CODE = "currency_code"  # given
    AMOUNT_FLOAT = "amount_float"
    AMOUNT_MALFORMED = "amount_malformed"  # given
    AMOUNT_INFINITE = "amount_infinite"
    CURRENCIES_MIXED = "currencies_mixed"  # first, second
    # tiers
    TIER_NUMBER = "tier_number"  # most, given
    TIER_PRICE_ZERO = "tier_price_zero"
    TIER_PRICE_DECIMALS = "tier_price_decimals"  # most
    STARS_CURRENCY = "stars_currency"  # currency
    STARS_WHOLE = "stars_whole"  # most
    TIER_DAYS_WHOLE = "tier_days_whole"
    TIER_DAYS_RANGE = "tier_days_range"  # most, given
    TIER_MAIN_PRICE_STARS = "tier_main_price_stars"
    TIER_NOT_FOR_STARS = "tier_not_for_stars"  # number
    TIERS_TOO_MANY = "tiers_too_many"  # most
    TIER_NUMBERS_TWICE = "tier_numbers_twice"
    TIERS_CURRENCIES = "tiers_currencies"
    NO_SUCH_TIER = "no_such_tier"  # number
    RENEWS_WITHOUT_STARS = "renews_without_stars"
    RENEWAL_DAYS = "renewal_days"  # days
    NO_RENEWAL = "no_renewal"
    STARS_NOT_TAKEN = "stars_not_taken"
    TIER_SPAN_DAYS = "tier_span_days"
    SEASON_END_DATE = "season_end_date"
    SEASON_TOO_LATE = "season_too_late"
    SEASON_OVER = "season_over"  # number
    LIFETIME_HELD = "lifetime_held"  # title
    # trials
    TRIAL_DAYS = "trial_days"  # most
    TRIAL_PRICE = "trial_price"
    STARS_LINK_PRICE = "stars_link_price"  # most
    TRIAL_PRICE_DECIMALS = "trial_price_decimals"  # most
    TRIAL_NOT_OFFERED = "trial_not_offered"
    TRIAL_TAKEN = "trial_taken"
    TRIAL_PAID = "trial_paid"
    OFFER_FOR_TRIAL = "offer_for_trial"
    # channels
    BOUNDS_CURRENCIES = "bounds_currencies"
    BOUNDS_MINIMUM_ZERO = "bounds_minimum_zero"
    BOUNDS_INVERTED = "bounds_inverted"
    BOUNDS_DECIMALS = "bounds_decimals"
    WALLET_MALFORMED = "wallet_malformed"
    WALLET_SPACES = "wallet_spaces"
    WALLET_LENGTH = "wallet_length"  # least, most
    WALLET_NOT_FOR = "wallet_not_for"  # currency
    SAME_CHATS = "same_chats"
    TITLE_LENGTH = "title_length"  # most
    NO_SUCH_CHANNEL = "no_such_channel"
    # offers and checkout
    OFFER_INVALID = "offer_invalid"
    OFFER_FOR_DONATIONS = "offer_for_donations"
    OFFER_CHANGED = "offer_changed"
    OFFER_GONE = "offer_gone"
    NO_OFFERS = "no_offers"
    SALES_PAUSED = "sales_paused"  # title
    # donations
    DONATIONS_GONE = "donations_gone"
    NO_DONATIONS = "no_donations"  # title
    DONATION_FORMAT = "donation_format"
    DONATION_DECIMALS = "donation_decimals"
    DONATION_BELOW = "donation_below"  # least
    DONATION_ABOVE = "donation_above"  # most
    # who may do what
    NOT_OWNER = "not_owner"
    OPERATORS_DECIDE = "operators_decide"
    OWNERS_ONLY = "owners_only"
    REFUNDER_NOT_ALLOWED = "refunder_not_allowed"
    CLOSED_TO_SELLERS = "closed_to_sellers"
    NO_SELLER_REQUEST = "no_seller_request"  # user
    # registering a channel; ``which`` is "open" or "closed"
    BOT_NOT_ADMIN = "bot_not_admin"  # which
    BOT_RIGHTS = "bot_rights"  # which, and MissingRights.missing
    CREATOR_ONLY = "creator_only"  # which
    CREATOR_ONLY_ADMIN = "creator_only_admin"  # which
    NO_LONGER_CREATOR = "no_longer_creator"  # which, chat
    BOT_CANNOT_SEE_CREATOR = "bot_cannot_see_creator"  # which
    TAKEN_BY_YOU = "taken_by_you"  # which, title
    TAKEN_YOU_CREATED = "taken_you_created"  # which, open, closed
    TAKEN_BY_OTHER = "taken_by_other"  # which, open, closed, chat
    REGISTERED_MEANWHILE = "registered_meanwhile"
    # owners' changes
    REASON_MISSING = "reason_missing"
    REASON_TOO_LONG = "reason_too_long"  # most
    NO_TIERS_YET = "no_tiers_yet"
    PAUSED_NO_POST = "paused_no_post"  # reason ("" when none)
    POSTED_MOMENTS_AGO = "posted_moments_ago"  # minutes
    # bundles
    BUNDLE_SELF = "bundle_self"
    BUNDLE_OTHER_OWNER = "bundle_other_owner"
    BUNDLE_HAS_ALREADY = "bundle_has_already"  # title
    BUNDLE_FULL = "bundle_full"  # most
    BUNDLE_HAS_NOT = "bundle_has_not"  # title
    # subscribers
    NO_SUBSCRIPTION = "no_subscription"
    ACCESS_PREPARING = "access_preparing"
    # the dashboard and the API
    OVERVIEW_WINDOW = "overview_window"
    OVERVIEW_PAGE = "overview_page"
    SEARCH_USER_ID = "search_user_id"
    SEARCH_PAGE_BROKEN = "search_page_broken"
    SEARCH_WHAT = "search_what"
    NO_SUCH_SUBSCRIBER = "no_such_subscriber"
    SUBSCRIPTION_NOT_ACTIVE = "subscription_not_active"
    GRANT_DAYS = "grant_days"  # most
    NO_SUCH_PAYMENT = "no_such_payment"
    NO_LATE_MONEY = "no_late_money"
    TOKEN_NAME_MISSING = "token_name_missing"  # noqa: S105 - a code, not a secret
    TOKEN_NAME_TOO_LONG = "token_name_too_long"  # noqa: S105 - a code, not a secret; most
    TOKEN_SCOPE = "token_scope"  # noqa: S105 - a code, not a secret
    TOKENS_TOO_MANY = "tokens_too_many"  # most
    NO_SUCH_TOKEN = "no_such_token"  # noqa: S105 - a code, not a secret
    WEB_LOGIN = "web_login"  # detail (for logs; people read why the login failed)
    # refunds and people's data
    REFUND_REASON_MISSING = "refund_reason_missing"
    NO_STARS_PAYMENT = "no_stars_payment"  # charge
    NOT_REFUNDABLE = "not_refundable"
    HOLDS_SUBSCRIPTIONS = "holds_subscriptions"  # n
    OWNS_CHANNELS = "owns_channels"  # n
    # coupons and access codes (issue 21)
    COUPON_BAD_CODE = "coupon_bad_code"
    COUPON_CODE_TAKEN = "coupon_code_taken"
    COUPON_BAD_DISCOUNT = "coupon_bad_discount"
    COUPON_FREE_DAYS_NEED_A_CHANNEL = "coupon_free_days_need_a_channel"
    COUPON_WRONG_CURRENCY = "coupon_wrong_currency"  # currency
    COUPON_UNKNOWN = "coupon_unknown"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_USED_UP = "coupon_used_up"
    COUPON_ALREADY_REDEEMED = "coupon_already_redeemed"
    COUPON_NOTHING_ON_SALE = "coupon_nothing_on_sale"
    COUPON_NO_CHANNELS = "coupon_no_channels"
    # the system's own bookkeeping: people read a generic refusal
    ORDER_ID = "order_id"
    MOVE_REFUSED = "move_refused"  # what, source, target
    ADAPTER = "adapter"
    """An inbound adapter's refusal in its own words (value ``text``, already in the
    person's language)."""


class DomainError(Exception):
    """A business rule refused the request, for the reason ``why`` with ``values``."""

    def __init__(self, why: Why, /, **values: object) -> None:
        detail = ", ".join(f"{name}={value!s:.80}" for name, value in values.items())
        super().__init__(f"{why.value}({detail})" if detail else why.value)
        self.why = why
        self.values: dict[str, object] = values


class InvalidMoney(DomainError):
    """An amount or a currency code is malformed (floats, NaN, bad code, mixed currencies)."""


class InvalidTier(DomainError):
    """A tier's number, price or duration breaks the rules."""


class InvalidChannel(DomainError):
    """A channel's chats, tiers or donation settings break the rules."""


class InvalidToken(DomainError):
    """An offer token is malformed, tampered with or names something that no longer exists."""


class InvalidOrderId(DomainError):
    """An order id is malformed or its MAC tag does not match: it was guessed or edited."""


class InvalidTransition(DomainError):
    """A state machine was asked to move somewhere its table does not allow."""


class InvalidAmount(DomainError):
    """A donation amount is outside the channel's bounds or has more than two decimals."""


class NotAuthorized(DomainError):
    """The caller may not do this (e.g. someone other than the owner edits a channel)."""


class MissingRights(DomainError):
    """The owner or the bot lacks the rights the operation needs in a chat."""

    def __init__(self, why: Why, /, missing: tuple[str, ...] = (), **values: object) -> None:
        super().__init__(why, **values)
        self.missing = missing


class ClosedToSellers(DomainError):
    """This PayGate lets only the sellers its operator listed own channels."""


class UnknownSellerRequest(DomainError):
    """Nobody with that Telegram user id asked to sell here."""


class AlreadyRegistered(DomainError):
    """A chat is already part of a registered channel pair."""


class UnknownChannel(DomainError):
    """No registered channel matches."""


class SalesPaused(DomainError):
    """The channel is not selling right now (the bot lost its rights, or posting failed)."""


class LifetimeHeld(DomainError):
    """The person already has lifetime access: there is nothing to renew."""


class SeasonOver(DomainError):
    """A season tier is no longer sold: its end date has passed."""
