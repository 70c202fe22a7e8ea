"""Telegram Stars as a payment provider: ``core.ports.payments.PaymentGateway`` and
``PaymentRefunds`` over the Bot API.

An invoice is a ``createInvoiceLink`` in ``XTR`` with exactly one price item and no
provider token (with ``subscription_period`` 30 days for a subscription that renews,
at most 10,000 Stars; ``editUserStarSubscription`` stops its renewals); its payload
is our MAC-tagged order id, which Telegram hands back in
the pre-checkout query and the ``successful_payment`` message. Those arrive as bot
updates, not as signed webhooks: the bot reads them (:mod:`core.services.stars`), so
:meth:`TelegramStarsGateway.verify_notification` believes no HTTP body at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from telegram import LabeledPrice
from telegram.error import BadRequest, TelegramError

from adapters.outbound.telegram.client import TelegramBotClient
from adapters.outbound.telegram.errors import has, translate
from core.domain.ids import UserId
from core.domain.payment import ProviderNotification
from core.domain.tier import STARS
from core.ports.errors import NotFound, Unavailable
from core.ports.payments import (
    InvalidSignature,
    Invoice,
    InvoiceRequest,
    NotConfigured,
    ProviderRejected,
)

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_PAYLOAD_BYTES",
    "MAX_TITLE",
    "STARS_PROVIDER",
    "TelegramStarsGateway",
]

STARS_PROVIDER = "telegram_stars"
"""The provider name stored with Stars intents and events."""

MAX_TITLE = 32
MAX_DESCRIPTION = 255
MAX_PAYLOAD_BYTES = 128
SUBSCRIPTION_PERIOD = 2_592_000
"""Seconds between a Stars subscription's charges: Telegram allows 30 days only."""
MAX_SUBSCRIPTION_STARS = 10_000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TelegramStarsGateway:
    def __init__(self, client: TelegramBotClient, *, title: str = "Subscription") -> None:
        self._bot = client.bot
        self._title = _clip(title, MAX_TITLE)

    @property
    def name(self) -> str:
        return STARS_PROVIDER

    async def create_invoice(self, request: InvoiceRequest) -> Invoice:
        """A Stars invoice link for ``request``; its invoice id is the order id (Telegram
        gives invoice links no id of their own)."""
        price = request.price
        if price.currency != STARS or price.decimal_places() > 0 or not price.is_positive:
            raise ProviderRejected(f"Stars invoices are whole positive {STARS}, not {price}")
        if not 1 <= len(request.order_id.encode("utf-8")) <= MAX_PAYLOAD_BYTES:
            raise ProviderRejected(f"an invoice payload is 1..{MAX_PAYLOAD_BYTES} bytes")
        if request.renews and price.amount > MAX_SUBSCRIPTION_STARS:
            raise ProviderRejected(f"a Stars subscription costs 1..{MAX_SUBSCRIPTION_STARS} XTR")
        description = _clip(request.description, MAX_DESCRIPTION) or self._title
        try:
            url = await self._bot.create_invoice_link(
                title=self._title,
                description=description,
                payload=request.order_id,
                currency=STARS,
                prices=[LabeledPrice(self._title, int(price.amount))],
                subscription_period=SUBSCRIPTION_PERIOD if request.renews else None,
            )
        except BadRequest as exc:
            raise ProviderRejected(f"Telegram refused the invoice: {exc.message}") from exc
        except TelegramError as exc:
            raise _unavailable(exc) from exc
        return Invoice(invoice_id=request.order_id, url=url)

    async def refund(self, user_id: UserId, payment_id: str) -> None:
        try:
            await self._bot.refund_star_payment(user_id, payment_id)
        except BadRequest as exc:
            if has(exc, "charge_already_refunded"):
                return  # refunded before (our earlier attempt): the refund stands
            raise ProviderRejected(f"Telegram refused the refund: {exc.message}") from exc
        except TelegramError as exc:
            raise _unavailable(exc) from exc

    async def stop_renewal(self, user_id: UserId, charge_id: str) -> None:
        """RenewalControl: ``editUserStarSubscription`` with ``is_canceled``."""
        try:
            await self._bot.edit_user_star_subscription(user_id, charge_id, is_canceled=True)
        except BadRequest as exc:
            raise ProviderRejected(f"Telegram refused to cancel: {exc.message}") from exc
        except TelegramError as exc:
            raise _unavailable(exc) from exc

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> ProviderNotification:
        raise InvalidSignature("Stars payments arrive as bot updates, never as webhooks")

    async def lookup_payment(self, payment_id: str) -> ProviderNotification:
        # Telegram resends an update until the bot takes it: nothing to look up.
        raise NotFound("Telegram offers no lookup of one Stars payment")

    async def payments_for_invoice(self, invoice_id: str) -> Sequence[ProviderNotification]:
        raise NotConfigured("Telegram lists no payments per Stars invoice")


def _unavailable(exc: TelegramError) -> Unavailable:
    translated = translate(exc, 0)
    if isinstance(translated, Unavailable):
        return translated
    return Unavailable(f"Telegram failed the call: {exc.message}")
