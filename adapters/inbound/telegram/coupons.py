"""Coupons and access codes in the bot (issue 21).

Owners: ``/coupon new [CODE] 20%|5USD|7d [channel 1|all] [tier N] [uses N]
[until YYYY-MM-DD]``,
``/coupon off CODE``, ``/coupons``. Subscribers: ``/start c-CODE`` (a code's deep
link) or ``/redeem CODE``; a discount shows the tiers it lowers, a button each
(the price is computed again at checkout), free days are granted at once.

An expiry date is the last day the code works: it ends at midnight UTC after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
from telegram import Update

from adapters.catalog import coupon_texts
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.errors import RateGate
from adapters.inbound.telegram.parsing import BadInput
from adapters.inbound.telegram.queries import ChannelViews
from adapters.inbound.telegram.replies import Context, reply
from core.domain.coupon import Discount
from core.domain.ids import UserId
from core.domain.money import Money
from core.domain.offer_token import OfferToken
from core.services.coupons import CouponTerms

_PERCENT = re.compile(r"\A(\d{1,3})%\Z")
_DAYS = re.compile(r"\A(\d{1,4})(?:d|days?)\Z", re.IGNORECASE)
_AMOUNT = re.compile(r"\A(\d{1,9}(?:[.,]\d{1,2})?)([A-Za-z][A-Za-z0-9]{2,11})\Z")
_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_COUNT = re.compile(r"\A\d{1,7}\Z")


@attrs.frozen
class CouponCommand:
    """``/coupon new …`` as typed: the channel still as the owner's number."""

    discount: Discount
    code: str | None = None
    channel: str | None = None
    """The channel's number from /channels; None: all the owner's channels."""
    uses: int | None = None
    until: datetime | None = None
    tier: int | None = None


def parse_discount(word: str) -> Discount | None:
    """``20%``, ``7d`` or ``5USD`` (``5.50USD``); None when ``word`` is none of them."""
    if match := _PERCENT.match(word):
        return Discount.off_percent(int(match[1]))
    if match := _DAYS.match(word):
        return Discount.free_days(int(match[1]))
    if match := _AMOUNT.match(word):
        return Discount.off_amount(Money(Decimal(match[1].replace(",", ".")), match[2]))
    return None


def parse_coupon_command(words: Sequence[str]) -> CouponCommand:
    """The words after ``/coupon new``. Raises BadInput with the usage."""
    rest = list(words)
    code = None
    if rest and parse_discount(rest[0]) is None:
        code = rest.pop(0)
    discount = parse_discount(rest.pop(0)) if rest else None
    if discount is None:
        raise BadInput(coupon_texts.usage())
    found: dict[str, object] = {}
    while rest:
        key = rest.pop(0).lower()
        if key == "all" and "channel" not in found:
            found["channel"] = None
            continue
        if not rest or key not in ("channel", "tier", "uses", "until") or key in found:
            raise BadInput(coupon_texts.usage())
        value = rest.pop(0)
        found[key] = _value(key, value)
    channel = found.get("channel")
    uses = found.get("uses")
    until = found.get("until")
    tier = found.get("tier")
    return CouponCommand(
        discount,
        code,
        channel if isinstance(channel, str) else None,
        uses if isinstance(uses, int) else None,
        until if isinstance(until, datetime) else None,
        tier if isinstance(tier, int) else None,
    )


def _value(key: str, value: str) -> object:
    if key == "channel":
        return None if value.lower() == "all" else value.lstrip("#")
    if key in ("uses", "tier"):
        if not _COUNT.match(value):
            raise BadInput(coupon_texts.usage())
        return int(value)
    if not _DATE.match(value):
        raise BadInput(coupon_texts.bad_date())
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise BadInput(coupon_texts.bad_date()) from exc
    return day + timedelta(days=1)


class CouponHandlers:
    def __init__(self, deps: BotDeps, views: ChannelViews, gate: RateGate) -> None:
        self._deps = deps
        self._views = views
        self._gate = gate

    async def coupon(self, update: Update, context: Context) -> None:
        """``/coupon new …`` makes a code; ``/coupon off CODE`` switches one off."""
        user, coupons = update.effective_user, self._deps.coupons
        if user is None or coupons is None:
            return
        owner = UserId(user.id)
        args = context.args or []
        action = args[0].lower() if args else ""
        if action == "off" and len(args) == 2:
            off = await coupons.switch_off(owner, args[1])
            await reply(update, context, coupon_texts.switched_off(off))
            return
        if action != "new":
            await reply(update, context, coupon_texts.usage())
            return
        command = parse_coupon_command(args[1:])
        channel = None
        if command.channel is not None:
            channel = (await self._views.numbered(owner, command.channel))[1].id
        made = await coupons.create(
            owner,
            CouponTerms(
                command.discount,
                command.code,
                channel,
                command.uses,
                command.until,
                command.tier,
            ),
        )
        titles = {c.id: c.title for c in await self._views.owned_by(owner)}
        await reply(update, context, coupon_texts.created(made, titles, self._deps.bot_username))

    async def list(self, update: Update, context: Context) -> None:
        """``/coupons``: the owner's codes with their uses."""
        user, coupons = update.effective_user, self._deps.coupons
        if user is None or coupons is None:
            return
        owner = UserId(user.id)
        titles = {c.id: c.title for c in await self._views.owned_by(owner)}
        await reply(update, context, coupon_texts.listing(await coupons.list(owner), titles))

    async def redeem(self, update: Update, context: Context) -> None:
        """``/redeem CODE``."""
        args = context.args or []
        if len(args) != 1:
            await reply(update, context, coupon_texts.redeem_usage())
            return
        await self.redeem_code(update, context, args[0])

    async def redeem_code(self, update: Update, context: Context, code: str) -> None:
        """A code typed or from a deep link: its offer, or its free days."""
        user, redeem = update.effective_user, self._deps.redeem
        if user is None or redeem is None:
            return
        # A try costs as much as an invoice: codes cannot be guessed at speed.
        await self._gate.checkout(user.id)
        redeemed = await redeem.execute(UserId(user.id), code)
        if redeemed.granted_until is not None:
            await reply(update, context, coupon_texts.granted(redeemed))
            return
        tokens = {
            (t.channel_id, t.tier.number): OfferToken(t.channel_id, t.tier.number).encode(
                self._deps.keyring
            )
            for t in redeemed.tiers
        }
        await reply(update, context, coupon_texts.offer(redeemed, tokens))
