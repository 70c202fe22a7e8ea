"""The dashboard's overview over a real socket: the figures of the daily rollup and the
active subscribers as numbers and SVG charts, for the last 30 or 90 days and twelve
months; an owner sees only their channels (another's is "not found"), an operator
all of them; a window other than 30 or 90 days is refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

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
from core.domain.figures import DailyFigure, FigureKind
from core.domain.ids import ChannelId, SubscriptionId, UserId
from core.domain.money import Money
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.domain.subscription import Subscription
from core.ports.payment_ledger import PaymentChanges
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
from tests.contract.http.test_dashboard import (
    BOT_TOKEN,
    OPERATOR,
    OTHER_CLOSED,
    OTHER_OPEN,
    OTHER_OWNER,
    link,
)


@attrs.frozen
class Site:
    client: Client
    uow: InMemoryUnitOfWorkFactory
    mine: ChannelId
    theirs: ChannelId


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    shop = build_shop(uow)
    channel = await shop.open_channel()
    for chat in (OTHER_OPEN, OTHER_CLOSED):
        shop.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
        shop.chat.set_member(chat, OTHER_OWNER, ChatRights(MemberStatus.CREATOR))
    other = await shop.register.execute(OTHER_OWNER, OTHER_OPEN, OTHER_CLOSED, "Beta Club")
    clock = SystemClock()  # login links are signed with the real time
    sales = ChangeSales(uow, clock)
    dashboard = Dashboard(
        OwnerDashboard(
            uow,
            clock,
            InMemoryChannelFigures(store),
            sales,
            ResumeSales(uow, shop.chat, sales),
            frozenset({OPERATOR}),
        ),
        DashboardSessions(InMemorySessionStore(clock), clock, RandomIdGenerator()),
        InMemoryNonceStore(clock),
        clock,
        DashboardSettings((BOT_TOKEN,), secure_cookie=False),
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(make_deps(shop, gateway), dashboard=dashboard)
        async with serve(build_app(deps)) as client:
            yield Site(client, uow, channel.id, other.id)


async def sell(site: Site) -> None:
    """Through the payment path's own save: two subscribers of the owner's channel
    today, a renewal and a donation 40 days ago, a sale 200 days ago; one of the
    other owner's today (in EUR)."""
    now = datetime.now(UTC)
    changes = PaymentChanges(
        new_subscriptions=[
            Subscription.start(
                SubscriptionId(f"sub{n}"), UserId(800 + n), site.mine, 1, timedelta(days=30), now
            )
            for n in range(2)
        ],
        figures=[
            DailyFigure.money(site.mine, now, FigureKind.NEW, Money.of("10", "USD")),
            DailyFigure.money(site.mine, now, FigureKind.NEW, Money.of("10", "USD")),
            DailyFigure.money(
                site.mine, now - timedelta(days=40), FigureKind.RENEWED, Money.of("25", "USD")
            ),
            DailyFigure.money(
                site.mine, now - timedelta(days=40), FigureKind.DONATION, Money.of("7.5", "USD")
            ),
            DailyFigure.money(
                site.mine, now - timedelta(days=200), FigureKind.NEW, Money.of("10", "USD")
            ),
            DailyFigure.churn(site.mine, now),
            DailyFigure.money(site.theirs, now, FigureKind.NEW, Money.of("9", "EUR")),
        ],
    )
    async with site.uow() as tx:
        await tx.payments.save(changes, now)
        await tx.commit()


async def login(site: Site, user: int) -> None:
    answer = await site.client.get(link(user), allow_redirects=False)
    assert answer.status == 303, await answer.text()


def cell(page: str, name: str) -> str:
    found = re.search(rf'<td class="{name}"[^>]*>([^<]*)</td>', page)
    assert found is not None, name
    return found.group(1)


def takings(page: str) -> dict[str, str]:
    return dict(re.findall(r'<td class="takings" data-currency="([^"]+)">([^<]*)</td>', page))


async def test_the_owner_sees_the_figures_of_the_window_with_charts(site: Site) -> None:
    await sell(site)
    await login(site, OWNER)

    month = await (await site.client.get("/dashboard")).text()
    quarter = await (await site.client.get("/dashboard?days=90")).text()

    assert (cell(month, "active"), cell(month, "new"), cell(month, "churned")) == ("2", "2", "1")
    assert (cell(month, "renewed"), cell(month, "donations")) == ("0", "0")
    assert takings(month) == {"USD": "20"}
    assert (cell(quarter, "renewed"), cell(quarter, "donations")) == ("1", "1")
    assert takings(quarter) == {"USD": "52.5"}
    assert "EUR" not in quarter and "Beta Club" not in quarter
    assert month.count("<svg") == 5  # USD per day and per month, new, renewed, ended
    assert "Takings per day in USD" in month and "Takings per month in USD" in month
    this_month = datetime.now(UTC).strftime("%Y-%m")
    assert re.search(rf'<tr data-month="{this_month}"><td>{this_month}</td><td>20</td>', month)
    assert len(re.findall(r"<tr data-day=", quarter)) == 90
    assert "<script" not in month and " style=" not in month


async def test_the_operator_sees_every_channel_added_up_and_one_at_a_time(site: Site) -> None:
    await sell(site)
    await login(site, OPERATOR)

    everything = await (await site.client.get("/dashboard")).text()
    theirs = await (await site.client.get(f"/dashboard?channel={site.theirs}")).text()

    assert takings(everything) == {"EUR": "9", "USD": "20"}
    assert '<td class="active">' not in everything.split('<table class="channels">')[0]
    lines = re.findall(
        r'<tr data-channel="(\w+)">.*?<td class="active">(\d+)</td>', everything, re.S
    )
    assert dict(lines) == {site.mine: "2", site.theirs: "0"}
    assert cell(everything, "new") == "3"
    assert "Alpha Signals" in everything and "Beta Club" in everything
    assert takings(theirs) == {"EUR": "9"}
    assert cell(theirs, "active") == "0"


async def test_another_owners_channel_is_not_found_and_an_odd_window_refused(site: Site) -> None:
    await sell(site)
    await login(site, OTHER_OWNER)

    own = await (await site.client.get("/dashboard")).text()
    probed = await site.client.get(f"/dashboard?channel={site.mine}")
    missing = await site.client.get("/dashboard?channel=nosuchchannel")
    odd = await site.client.get("/dashboard?days=7")

    assert takings(own) == {"EUR": "9"} and "Alpha Signals" not in own
    assert (probed.status, missing.status) == (404, 404)
    nonce = re.compile(r'nonce="[^"]*"')
    assert nonce.sub("", await probed.text()) == nonce.sub("", await missing.text())
    assert odd.status == 400
    assert "30 or 90 days" in await odd.text()


async def test_the_overview_speaks_the_browsers_language(site: Site) -> None:
    await sell(site)
    await login(site, OWNER)

    ru = await site.client.get("/dashboard", headers={"Accept-Language": "ru"})
    es = await site.client.get("/dashboard?days=90", headers={"Accept-Language": "es"})

    assert "Поступления по дням в USD" in await ru.text()
    assert "Последние 30 дней" in await ru.text()
    assert "Ingresos por mes en USD" in await es.text()
    assert "Por canal, los últimos 90 días" in await es.text()


async def test_the_overview_without_login_is_refused(site: Site) -> None:
    answer = await site.client.get("/dashboard?days=90")
    assert answer.status == 403
    assert "not logged in" in await answer.text()
