"""The dashboard's Channels page shows what each channel's subscription also opens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import pytest

from adapters.inbound.http.app import build_app
from adapters.inbound.http.dashboard import Dashboard, DashboardSettings
from adapters.outbound.memory import InMemoryNonceStore
from adapters.outbound.memory.dashboard import InMemoryChannelFigures, InMemorySessionStore
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.system.clock import SystemClock
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.ids import ChatId
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.services.bundles import ManageBundle
from core.services.channel_settings import ChangeSales
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
from tests.contract.http.test_dashboard import BOT_TOKEN, OTHER_OWNER, link

GAMMA_OPEN, GAMMA_CLOSED = ChatId(-3001), ChatId(-3002)
OTHER_OPEN, OTHER_CLOSED = ChatId(-2001), ChatId(-2002)


@attrs.frozen
class Site:
    client: Client


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    """Alpha Signals bundles Gamma VIP (both the owner's); Beta Club is someone else's."""
    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    shop = build_shop(uow)
    alpha = await shop.open_channel()
    chats = ((GAMMA_OPEN, GAMMA_CLOSED, OWNER), (OTHER_OPEN, OTHER_CLOSED, OTHER_OWNER))
    for open_chat, closed_chat, owner in chats:
        for chat in (open_chat, closed_chat):
            shop.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
            shop.chat.set_member(chat, owner, ChatRights(MemberStatus.CREATOR))
    gamma = await shop.register.execute(OWNER, GAMMA_OPEN, GAMMA_CLOSED, "Gamma VIP")
    await shop.register.execute(OTHER_OWNER, OTHER_OPEN, OTHER_CLOSED, "Beta Club")
    clock = SystemClock()
    await ManageBundle(uow, clock).add(OWNER, alpha.id, [gamma.id])
    sales = ChangeSales(uow, clock)
    dashboard = Dashboard(
        OwnerDashboard(
            uow, clock, InMemoryChannelFigures(store), sales, ResumeSales(uow, shop.chat, sales)
        ),
        DashboardSessions(InMemorySessionStore(clock), clock, RandomIdGenerator()),
        InMemoryNonceStore(clock),
        clock,
        DashboardSettings((BOT_TOKEN,), secure_cookie=False),
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(make_deps(shop, gateway), dashboard=dashboard)
        async with serve(build_app(deps)) as client:
            yield Site(client)


async def login(site: Site, user: int) -> None:
    answer = await site.client.get(link(user), allow_redirects=False)
    assert answer.status == 303, await answer.text()


async def test_the_channels_page_shows_a_channels_bundle(site: Site) -> None:
    await login(site, OWNER)
    page = await (await site.client.get("/dashboard/channels")).text()
    assert page.count("A subscription also opens: Gamma VIP") == 1


async def test_another_owner_does_not_see_the_bundle(site: Site) -> None:
    await login(site, OTHER_OWNER)
    page = await (await site.client.get("/dashboard/channels")).text()
    assert "Beta Club" in page
    assert "Gamma VIP" not in page and "also opens" not in page
