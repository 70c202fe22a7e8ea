"""What the bot needs from the rest of PayGate: the use cases it calls, a few ports,
and its settings. Composition builds these once and hands them over."""

from __future__ import annotations

from datetime import timedelta

import attrs

from core.domain.ids import UserId
from core.domain.signing import MacKeyring
from core.ports.clock import Clock
from core.ports.conversations import ConversationStore
from core.ports.languages import LanguageBook
from core.ports.repositories import UnitOfWorkFactory
from core.ports.security import RateLimiter
from core.ports.subscriber_directory import PersonNames
from core.services.bundles import ManageBundle
from core.services.channel_settings import ChangeSales, SetDonationBounds, SetPayoutWallet, SetTiers
from core.services.checkout import ResolveOffer, StartCheckout
from core.services.coupon_prices import CouponPrices
from core.services.coupons import OwnerCoupons
from core.services.donations import StartDonation
from core.services.join_requests import HandleJoinRequest
from core.services.publish_posts import PublishPosts
from core.services.redeem_coupon import RedeemCoupon
from core.services.register_channel import RegisterChannel
from core.services.resume_sales import ResumeSales
from core.services.seller_requests import SellerRequests
from core.services.stars import AnswerPreCheckout, RecordStarsPayment, RefundStarsPayment
from core.services.stars_link import StarsLinkMembers, SwitchStarsLink
from core.services.stars_renewals import CancelStarsRenewal
from core.services.subscriber_status import ResendAccess, SubscriberStatus
from core.services.trials import SetTrial, TakeTrial
from core.services.wordings import OwnWording


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1")


def _some_time(_: object, attribute: attrs.Attribute[timedelta], value: timedelta) -> None:
    if value <= timedelta(0):
        raise ValueError(f"{attribute.name} must be a positive time")


@attrs.frozen
class BotSettings:
    conversation_timeout: timedelta = attrs.field(
        default=timedelta(minutes=5), validator=_some_time
    )
    """An unfinished conversation (donation amount, /register) ends after this idle time."""
    timeout_sweep: timedelta = attrs.field(default=timedelta(seconds=5), validator=_some_time)
    """How often each bot process looks for conversations whose idle time ran out, to
    tell their people: a "timed out" notice comes at most this late."""
    keypad_ttl: timedelta = timedelta(minutes=5)
    """A donation keypad's preset buttons stop working this long after it was shown."""
    command_cost: int = attrs.field(default=1, validator=_positive)
    """Tokens a message or a button press takes from the user's bucket."""
    checkout_cost: int = attrs.field(default=5, validator=_positive)
    """Tokens an invoice request takes from the user's checkout bucket (a provider
    call). Must not exceed the limiter's capacity."""
    concurrent_updates: int = attrs.field(default=16, validator=_positive)
    """Updates handled at once: one slow invoice must not hold up everyone else."""
    presets: int = attrs.field(default=6, validator=_positive)
    """Preset amounts on the donation keypad."""


@attrs.frozen
class BotDeps:
    """The already-built use cases and ports the bot's handlers call."""

    resolve_offer: ResolveOffer
    checkout: StartCheckout
    donate: StartDonation
    join_requests: HandleJoinRequest
    register: RegisterChannel
    set_tiers: SetTiers
    set_trial: SetTrial
    stars_link: SwitchStarsLink
    """/stars_link: Telegram's own Stars subscription link for a channel, or none."""
    stars_link_members: StarsLinkMembers
    """chat_member updates of those who joined or renewed through it."""
    """/trial: the owner offers a trial, free or paid, or none."""
    take_trial: TakeTrial
    """A Trial button's deep link, for a free trial."""
    set_donations: SetDonationBounds
    set_wallet: SetPayoutWallet
    """/wallet: the owner sets where the channel's takings are paid."""
    sales: ChangeSales
    bundles: ManageBundle
    """/bundle: the channels a channel's subscription also opens."""
    status: SubscriberStatus
    resend: ResendAccess
    publish: PublishPosts
    resume: ResumeSales
    """/resume: the owner asks for sales back once the bot's rights are."""
    uow: UnitOfWorkFactory
    """Read-only views for owners' lists and the donation keypad."""
    keyring: MacKeyring
    """Verifies Donate tokens (subscription tokens are ResolveOffer's job)."""
    clock: Clock
    limiter: RateLimiter
    """Per-user buckets for messages, button presses and invoice requests."""
    conversations: ConversationStore
    """Where each person's step in a conversation is kept, shared by every process."""
    bot_username: str
    settings: BotSettings = BotSettings()
    operators: frozenset[UserId] = frozenset()
    """``PAYGATE_OPERATOR_IDS``: who may use the operators' commands (/owners)."""
    dashboard_login_url: str | None = None
    """Where the dashboard's login button points (PAYGATE_PUBLIC_URL + its login path);
    None: no dashboard is served, and /dashboard says so."""
    languages: LanguageBook | None = None
    """What each chat reads (/language, Telegram's language_code, a channel's posts);
    without it the bot speaks each person's app language and /language only lists."""
    pre_checkout: AnswerPreCheckout | None = None
    """Telegram Stars (PAYGATE_TELEGRAM_STARS): the pre-checkout check, the payment
    and refunds; None where the bot sells for crypto only."""
    stars_payment: RecordStarsPayment | None = None
    stars_refund: RefundStarsPayment | None = None
    cancel_renewal: CancelStarsRenewal | None = None
    """/stoprenewal: stop the renewals of one's Stars subscriptions (tiers sold +auto)."""
    seller_requests: SellerRequests | None = None
    """With ``PAYGATE_SELLERS=approval``: someone who may not sell yet and tries to
    register asks the operators instead, who decide with the buttons they get."""
    names: PersonNames | None = None
    """Where the username each person shows the bot is kept (the dashboard finds
    subscribers by it); None keeps none."""
    wording: OwnWording | None = None
    """/wording: owners' own texts for their channel's messages; without it /wording
    does nothing."""
    coupons: OwnerCoupons | None = None
    """/coupon and /coupons: owners' codes (issue 21); without it they do nothing."""
    redeem: RedeemCoupon | None = None
    """``/start c-CODE`` and /redeem: a subscriber redeems a code."""
    coupon_prices: CouponPrices | None = None
    """An offer shows the prices a person's redeemed code gives them."""
