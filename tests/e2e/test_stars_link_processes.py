"""Telegram's own Stars subscription link through real ``paygate bot`` and ``worker``
processes (issue 21): the owner's switch has the emulated Telegram make the link in the
closed channel; a person who joins through it (Telegram charges the Stars) is recorded
by the bot process with a subscription to Telegram's until_date, which a renewal moves
on, and no sweep removes them while that date is ahead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.outbound.sqla import tables as t
from core.domain.stars_link import PERIOD_SECONDS, STARS_LINK_TIER
from tests.e2e.shop import Shop, open_shop
from tests.services import require_postgres


async def until(
    shop: Shop, what: str, check: Callable[[], Awaitable[bool]], within: float = 60
) -> None:
    deadline = time.monotonic() + within
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{shop.fleet.logs()}")
        await asyncio.sleep(0.2)


async def subscription(shop: Shop, user: int) -> tuple[str, int, datetime] | None:
    async with shop.engine.connect() as connection:
        row = (
            await connection.execute(
                select(
                    t.subscriptions.c.status, t.subscriptions.c.tier, t.subscriptions.c.expires_at
                ).where(t.subscriptions.c.user_id == user)
            )
        ).one_or_none()
    return None if row is None else (row.status, row.tier, row.expires_at)


@pytest.mark.postgres
async def test_a_member_through_telegrams_stars_link_follows_until_date(tmp_path: Path) -> None:
    require_postgres()
    async with open_shop(
        tmp_path, web=1, workers=1, bots=1, ipn_retries=5, ipn_retry_delay=0.2
    ) as shop:
        await shop.set_up_channels(1)
        channel = shop.channels[0]
        services = shop.seller.services
        switched = await services.stars_link.execute(channel.owner_id, channel.id, 500)
        assert switched.stars_link is not None
        url = switched.stars_link.url
        link = shop.telegram.chat(channel.closed_chat_id).links[url]
        assert (link.subscription_price, link.subscription_period) == (500, PERIOD_SECONDS)
        (person,) = shop.add_subscribers(1)
        await shop.start_fleet()

        async def polled() -> bool:  # Telegram drops chat_member updates till asked
            return "chat_member" in shop.telegram.hub.allowed

        await until(shop, "the bot's first poll", polled)

        assert str(shop.telegram.user_opens_link(person, url)) == "joined"
        closed = channel.closed_chat_id
        first = shop.telegram.chat(closed).members[person].until_date

        async def ends_at(end: int) -> bool:
            found = await subscription(shop, person)
            return found is not None and int(found[2].timestamp()) == end

        await until(shop, "the member's subscription", lambda: ends_at(first))
        found = await subscription(shop, person)
        assert found is not None and (found[0], found[1]) == ("active", STARS_LINK_TIER)
        assert first > datetime.now(UTC).timestamp()

        shop.telegram.channel_subscription_renews(closed, person)
        await until(shop, "the renewal", lambda: ends_at(first + PERIOD_SECONDS))
        assert shop.telegram.status_of(closed, person) == "member"
