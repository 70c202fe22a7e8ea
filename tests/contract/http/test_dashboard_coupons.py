"""The dashboard's list of coupons over a real socket (issue 21): an owner sees
their own codes with their uses, nobody else's; logged out is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import pytest

from adapters.inbound.http.app import build_app
from adapters.inbound.http.dashboard import Dashboard, DashboardSettings
from adapters.inbound.http.dashboard.coupons import CouponsSection
from adapters.outbound.memory import InMemoryNonceStore
from adapters.outbound.memory.dashboard import InMemoryChannelFigures, InMemorySessionStore
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.system.clock import SystemClock
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.coupon import Discount, Redemption
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.services.channel_settings import ChangeSales
from core.services.coupons import CouponTerms, OwnerCoupons
from core.services.dashboard import OwnerDashboard
from core.services.dashboard_sessions import DashboardSessions
from core.services.resume_sales import ResumeSales
from tests.contract.http.shop import (
    OWNER,
    Client,
    build_shop,
    make_deps,
    nowpayments_gateway,
    serve,
)
from tests.contract.http.test_dashboard import (
    BOT_TOKEN,
    OTHER_CLOSED,
    OTHER_OPEN,
    OTHER_OWNER,
    STRANGER,
    link,
)


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    shop = build_shop(uow)
    channel = await shop.open_channel()
    for chat in (OTHER_OPEN, OTHER_CLOSED):
        shop.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
        shop.chat.set_member(chat, OTHER_OWNER, ChatRights(MemberStatus.CREATOR))
    await shop.register.execute(OTHER_OWNER, OTHER_OPEN, OTHER_CLOSED, "Beta Club")
    clock = SystemClock()
    coupons = OwnerCoupons(uow, clock, RandomIdGenerator())
    mine = await coupons.create(
        OWNER, CouponTerms(Discount.off_percent(20), "ALPHA-20", channel.id, max_uses=3)
    )
    await coupons.create(OWNER, CouponTerms(Discount.free_days(7), "ALPHA-WEEK", channel.id))
    await coupons.create(OTHER_OWNER, CouponTerms(Discount.off_percent(50), "BETA-HALF"))
    async with uow() as tx:
        assert await tx.coupons.redeem(Redemption(mine.id, STRANGER, clock.now()))
        await tx.commit()
    sales = ChangeSales(uow, clock)
    owners = OwnerDashboard(
        uow, clock, InMemoryChannelFigures(store), sales, ResumeSales(uow, shop.chat, sales)
    )
    dashboard = Dashboard(
        owners,
        DashboardSessions(InMemorySessionStore(clock), clock, RandomIdGenerator()),
        InMemoryNonceStore(clock),
        clock,
        DashboardSettings((BOT_TOKEN,), secure_cookie=False),
        (CouponsSection(coupons, owners),),
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(make_deps(shop, gateway), dashboard=dashboard)
        async with serve(build_app(deps)) as served:
            yield served


async def test_an_owner_sees_their_codes_with_their_uses(client: Client) -> None:
    assert (await client.get(link(OWNER), allow_redirects=False)).status == 303

    page = await client.get("/dashboard/coupons")

    assert page.status == 200
    text = await page.text()
    assert '<tr data-code="ALPHA-20">' in text and '<tr data-code="ALPHA-WEEK">' in text
    assert '<td class="used">1</td>' in text and '<td class="left">2</td>' in text
    assert "Alpha Signals" in text and "7 days free" in text
    assert "BETA-HALF" not in text
    assert 'href="/dashboard/coupons"' in text


async def test_another_owner_sees_only_theirs(client: Client) -> None:
    assert (await client.get(link(OTHER_OWNER), allow_redirects=False)).status == 303

    text = await (await client.get("/dashboard/coupons")).text()

    assert "BETA-HALF" in text and "all your channels" in text
    assert "ALPHA" not in text


async def test_nobody_logged_out_sees_a_code(client: Client) -> None:
    page = await client.get("/dashboard/coupons")

    assert page.status == 403
    assert "ALPHA" not in await page.text()
