"""Channels, their tiers and their chats. The payout wallet is stored encrypted."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, delete, insert, select, update

from adapters.outbound.sqla.arrays import any_of
from adapters.outbound.sqla.tables import channel_chats, channel_tiers, channels
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.channel import Channel, DonationBounds, OfferPost, PayoutWallet
from core.domain.ids import ChannelId, ChatId, MessageId, UserId
from core.domain.money import Money
from core.domain.stars_link import StarsLink, stars_link_price
from core.domain.tier import STARS, Tier, TierKind
from core.domain.trial import TrialOffer
from core.ports.errors import NotFound
from core.ports.security import Cipher


def _seal_wallet(wallet: PayoutWallet | None, cipher: Cipher) -> bytes | None:
    if wallet is None:
        return None
    plain = json.dumps({"address": wallet.address, "currency": wallet.currency})
    return cipher.encrypt(plain.encode("utf-8"))


def _open_wallet(token: bytes | None, cipher: Cipher) -> PayoutWallet | None:
    if token is None:
        return None
    fields = json.loads(cipher.decrypt(bytes(token)).decode("utf-8"))
    return PayoutWallet(address=fields["address"], currency=fields["currency"])


def _post_columns(prefix: str, post: OfferPost | None) -> dict[str, Any]:
    return {
        f"{prefix}_message_id": None if post is None else post.message_id,
        f"{prefix}_posted_at": None if post is None else post.posted_at,
        f"{prefix}_tiers_version": None if post is None else post.tiers_version,
    }


def _post_from(row: Row[Any], prefix: str) -> OfferPost | None:
    message_id = row._mapping[f"{prefix}_message_id"]
    if message_id is None:
        return None
    return OfferPost(
        MessageId(message_id),
        row._mapping[f"{prefix}_posted_at"],
        row._mapping[f"{prefix}_tiers_version"],
    )


def channel_to_row(channel: Channel, cipher: Cipher) -> dict[str, Any]:
    bounds, link = channel.donation_bounds, channel.stars_link
    return {
        "id": channel.id,
        "owner_id": channel.owner_id,
        "open_chat_id": channel.open_chat_id,
        "closed_chat_id": channel.closed_chat_id,
        "title": channel.title,
        "created_at": channel.created_at,
        "donation_min": None if bounds is None else bounds.minimum.amount,
        "donation_max": None if bounds is None else bounds.maximum.amount,
        "donation_currency": None if bounds is None else bounds.minimum.currency,
        "payout_wallet": _seal_wallet(channel.payout_wallet, cipher),
        "sales_paused": channel.sales_paused,
        "pause_reason": channel.pause_reason,
        "tiers_version": channel.tiers_version,
        **_post_columns("offer", channel.offer_post),
        **_post_columns("donate", channel.donate_post),
        **_trial_columns(channel.trial),
        "stars_link_url": None if link is None else link.url,
        "stars_link_stars": None if link is None else int(link.price.amount),
    }


def _trial_columns(trial: TrialOffer | None) -> dict[str, Any]:
    price = None if trial is None else trial.price
    return {
        "trial_days": None if trial is None else trial.days,
        "trial_price": None if price is None else price.amount,
        "trial_currency": None if price is None else price.currency,
    }


def _trial_from(row: Row[Any]) -> TrialOffer | None:
    if row.trial_days is None:
        return None
    price = None if row.trial_currency is None else Money(row.trial_price, row.trial_currency)
    return TrialOffer(row.trial_days, price)


def channel_from_row(row: Row[Any], tiers: Iterable[Tier], cipher: Cipher) -> Channel:
    bounds = None
    if row.donation_currency is not None:
        bounds = DonationBounds(
            Money(row.donation_min, row.donation_currency),
            Money(row.donation_max, row.donation_currency),
        )
    return Channel(
        id=ChannelId(row.id),
        owner_id=UserId(row.owner_id),
        open_chat_id=ChatId(row.open_chat_id),
        closed_chat_id=ChatId(row.closed_chat_id),
        title=row.title,
        created_at=row.created_at,
        tiers=tuple(tiers),
        donation_bounds=bounds,
        payout_wallet=_open_wallet(row.payout_wallet, cipher),
        sales_paused=row.sales_paused,
        pause_reason=row.pause_reason,
        tiers_version=row.tiers_version,
        offer_post=_post_from(row, "offer"),
        donate_post=_post_from(row, "donate"),
        trial=_trial_from(row),
        stars_link=None
        if row.stars_link_url is None
        else StarsLink(row.stars_link_url, stars_link_price(row.stars_link_stars)),
    )


def _tier_rows(channel: Channel) -> list[dict[str, Any]]:
    return [
        {
            "channel_id": channel.id,
            "number": tier.number,
            "price": tier.price.amount,
            "currency": tier.price.currency,
            "duration_days": tier.duration_days,
            "stars_price": None if tier.stars_price is None else int(tier.stars_price.amount),
            "kind": tier.span.value,
            "ends_on": tier.ends_on,
            "stars_renews": tier.stars_renews,
        }
        for tier in channel.tiers
    ]


def _chat_rows(channel: Channel) -> list[dict[str, Any]]:
    return [
        {"chat_id": channel.open_chat_id, "channel_id": channel.id, "role": "open"},
        {"chat_id": channel.closed_chat_id, "channel_id": channel.id, "role": "closed"},
    ]


class SqlChannelRepository:
    def __init__(self, tx: SqlTransaction, cipher: Cipher) -> None:
        self._tx = tx
        self._cipher = cipher

    async def add(self, channel: Channel) -> None:
        async with self._tx.savepoint("add channel"):
            await self._tx.conn.execute(
                insert(channels).values(channel_to_row(channel, self._cipher))
            )
            await self._tx.conn.execute(insert(channel_chats), _chat_rows(channel))
            if channel.tiers:
                await self._tx.conn.execute(insert(channel_tiers), _tier_rows(channel))

    async def get(self, channel_id: ChannelId) -> Channel:
        found = await self._load(_BY_ID, {"channel_id": channel_id})
        if not found:
            raise NotFound(f"no channel {channel_id}")
        return found[0]

    async def get_many(self, channel_ids: Collection[ChannelId]) -> Mapping[ChannelId, Channel]:
        """The channels that exist among ``channel_ids``, by id (for ``payment_ledger``)."""
        if not channel_ids:
            return {}
        query = _BY_IDS if self._tx.is_postgres else _BY_IDS_SQLITE
        found = await self._load(query, {"channel_ids": sorted(set(channel_ids))})
        return {channel.id: channel for channel in found}

    async def by_chat(self, chat_id: ChatId) -> Channel | None:
        owning = select(channel_chats.c.channel_id).where(channel_chats.c.chat_id == chat_id)
        found = await self._load(
            select(channels).where(channels.c.id.in_(owning.scalar_subquery()))
        )
        return found[0] if found else None

    async def by_owner(self, owner_id: UserId) -> Sequence[Channel]:
        return await self._load(
            select(channels)
            .where(channels.c.owner_id == owner_id)
            .order_by(channels.c.created_at, channels.c.id)
        )

    async def all(self) -> Sequence[Channel]:
        return await self._load(select(channels).order_by(channels.c.created_at, channels.c.id))

    async def update(self, channel: Channel) -> None:
        row = channel_to_row(channel, self._cipher)
        del row["id"]
        async with self._tx.savepoint("update channel"):
            conn = self._tx.conn
            result = await conn.execute(
                update(channels).where(channels.c.id == channel.id).values(row)
            )
            if result.rowcount == 0:
                raise NotFound(f"no channel {channel.id}")
            await conn.execute(
                delete(channel_chats).where(channel_chats.c.channel_id == channel.id)
            )
            await conn.execute(insert(channel_chats), _chat_rows(channel))
            await conn.execute(
                delete(channel_tiers).where(channel_tiers.c.channel_id == channel.id)
            )
            if channel.tiers:
                await conn.execute(insert(channel_tiers), _tier_rows(channel))

    async def record_post(
        self,
        channel_id: ChannelId,
        donate: bool,
        post: OfferPost | None,
        previous: MessageId | None,
    ) -> bool:
        prefix = "donate" if donate else "offer"
        standing = channels.c[f"{prefix}_message_id"]
        result = await self._tx.execute(
            update(channels)
            .where(channels.c.id == channel_id, standing.is_not_distinct_from(previous))
            .values(_post_columns(prefix, post)),
            "record post",
        )
        return result.rowcount == 1

    async def _load(
        self, query: Select[Any], params: dict[str, Any] | None = None
    ) -> list[Channel]:
        """The channels ``query`` selects, in its order, each with its tiers."""
        joined = query if params is not None else _with_tiers(query)
        rows = (await self._tx.execute(joined, "read channels", params)).all()
        first_rows: dict[str, Row[Any]] = {}
        tiers: defaultdict[str, list[Tier]] = defaultdict(list)
        for row in rows:
            first_rows.setdefault(row.id, row)
            if row.tier_number is not None:
                tiers[row.id].append(tier_from_row(row))
        return [channel_from_row(r, tiers[r.id], self._cipher) for r in first_rows.values()]


TIER_COLUMNS = (
    channel_tiers.c.number.label("tier_number"),
    channel_tiers.c.price.label("tier_price"),
    channel_tiers.c.currency.label("tier_currency"),
    channel_tiers.c.duration_days.label("tier_duration_days"),
    channel_tiers.c.stars_price.label("tier_stars_price"),
    channel_tiers.c.kind.label("tier_kind"),
    channel_tiers.c.ends_on.label("tier_ends_on"),
    channel_tiers.c.stars_renews.label("tier_stars_renews"),
)


def tier_from_row(row: Row[Any]) -> Tier:
    """A tier from the columns of :data:`TIER_COLUMNS` in ``row``."""
    price = Money(row.tier_price, row.tier_currency)
    stars = None if row.tier_stars_price is None else Money(row.tier_stars_price, STARS)
    return Tier(
        row.tier_number,
        price,
        row.tier_duration_days,
        stars,
        TierKind(row.tier_kind),
        row.tier_ends_on,
        stars_renews=bool(row.tier_stars_renews),
    )


def _with_tiers(query: Select[Any]) -> Select[Any]:
    """One statement (channels outer-joined to their tiers), as every payment reads one."""
    return (
        query.add_columns(*TIER_COLUMNS)
        .outerjoin(channel_tiers, channel_tiers.c.channel_id == channels.c.id)
        .order_by(channel_tiers.c.number)
    )


# Read on every paying notification: built once (building it costs more CPU than
# the round trip it makes).
_BY_ID = _with_tiers(select(channels).where(channels.c.id == bindparam("channel_id")))
# A batch of them, one statement text for any size: an array on Postgres (asyncpg
# prepares each text once per connection), an expanding IN on SQLite.
_BY_IDS = _with_tiers(select(channels).where(any_of(channels, "id", "channel_ids")))
_BY_IDS_SQLITE = _with_tiers(
    select(channels).where(channels.c.id.in_(bindparam("channel_ids", expanding=True)))
)
