"""The owners' dashboard over a real socket: login from a signed bot link (once,
fresh), sessions, the CSRF rule, the strict CSP, and every route tried as another
owner (no IDOR)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import date

import attrs
import pytest

from adapters.inbound.http.app import build_app
from adapters.inbound.http.dashboard import Dashboard, DashboardSettings
from adapters.inbound.http.dashboard.telegram_login import login_hash
from adapters.inbound.http.dashboard.wording import WordingSection
from adapters.outbound.memory import InMemoryNonceStore
from adapters.outbound.memory.dashboard import InMemoryChannelFigures, InMemorySessionStore
from adapters.outbound.memory.languages import InMemoryLanguageBook
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.memory.wordings import InMemoryWordingBook
from adapters.outbound.system.clock import SystemClock
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.money import Money
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.domain.stars_link import StarsLink, stars_link_price
from core.domain.tier import Tier
from core.domain.trial import TrialOffer
from core.services.channel_settings import ChangeSales
from core.services.dashboard import OwnerDashboard
from core.services.dashboard_sessions import DashboardSessions
from core.services.resume_sales import ResumeSales
from core.services.wording_preview import WordingPreview
from core.services.wordings import OwnWording
from tests.contract.http.shop import (
    OWNER,
    Client,
    build_shop,
    make_deps,
    nowpayments_gateway,
    serve,
)

BOT_TOKEN = "123456:dashboard-test-token-abcdefghijklmnop"
STRANGER = UserId(4242)
OPERATOR = UserId(9999)
OTHER_OWNER = UserId(2000)
OTHER_OPEN, OTHER_CLOSED = ChatId(-2001), ChatId(-2002)


@attrs.frozen
class Site:
    client: Client
    channel_id: str
    languages: InMemoryLanguageBook = attrs.field(factory=InMemoryLanguageBook)
    wording: OwnWording | None = None
    other_channel_id: str = ""
    sales: ChangeSales | None = None
    uow: InMemoryUnitOfWorkFactory | None = None


def link(user: int, *, token: str = BOT_TOKEN, age: int = 0) -> str:
    fields = {"id": str(user), "first_name": "Ann", "auth_date": str(int(time.time()) - age)}
    fields["hash"] = login_hash(fields, token)
    return "/dashboard/login?" + "&".join(f"{k}={v}" for k, v in fields.items())


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
    languages = InMemoryLanguageBook()
    wording = OwnWording(uow, clock, InMemoryWordingBook())
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
        sections=(WordingSection(WordingPreview(uow, wording)),),
        languages=languages,
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(make_deps(shop, gateway), dashboard=dashboard)
        async with serve(build_app(deps)) as client:
            yield Site(client, channel.id, languages, wording, other.id, sales, uow)


async def login(site: Site, user: int) -> None:
    answer = await site.client.get(link(user), allow_redirects=False)
    assert answer.status == 303, await answer.text()


async def csrf(site: Site, path: str = "/dashboard/channels") -> str:
    page = await (await site.client.get(path)).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def test_the_owner_logs_in_with_the_bot_link_and_sees_the_overview(site: Site) -> None:
    answer = await site.client.get(link(OWNER), allow_redirects=False)
    assert answer.status == 303
    cookie = answer.cookies["paygate"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    page = await site.client.get("/dashboard")
    assert page.status == 200
    text = await page.text()
    assert "Alpha Signals" in text
    csp = page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None and f'<style nonce="{nonce.group(1)}">' in text
    assert "<script" not in text and " style=" not in text


async def test_a_login_link_works_once(site: Site) -> None:
    url = link(OWNER)
    assert (await site.client.get(url, allow_redirects=False)).status == 303
    again = await site.client.get(url, allow_redirects=False)
    assert again.status == 403
    assert "used already" in await again.text()


async def test_a_forged_or_stale_link_is_refused(site: Site) -> None:
    forged = await site.client.get(link(OWNER, token="999:not-the-bot"), allow_redirects=False)
    stale = await site.client.get(link(OWNER, age=600), allow_redirects=False)
    assert (forged.status, stale.status) == (403, 403)
    assert "expired" in await stale.text()
    assert (await site.client.get("/dashboard")).status == 403


async def test_someone_who_owns_nothing_gets_a_polite_403(site: Site) -> None:
    answer = await site.client.get(link(STRANGER))
    assert answer.status == 403
    assert "for channel owners" in await answer.text()


async def test_pausing_and_resuming_with_a_reason(site: Site) -> None:
    await login(site, OWNER)
    token = await csrf(site)
    paused = await site.client.post(
        f"/dashboard/channels/{site.channel_id}/pause", data={"csrf": token, "reason": "holiday"}
    )
    assert "Sales paused: holiday" in await paused.text()
    resumed = await site.client.post(
        f"/dashboard/channels/{site.channel_id}/resume", data={"csrf": token, "reason": "back"}
    )
    assert "Selling" in await resumed.text()


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(site: Site) -> None:
    await login(site, OWNER)
    answer = await site.client.post(
        f"/dashboard/channels/{site.channel_id}/pause", data={"reason": "no token"}
    )
    assert answer.status == 403
    assert "Selling" in await (await site.client.get("/dashboard/channels")).text()


async def test_a_pause_without_a_reason_is_refused(site: Site) -> None:
    await login(site, OWNER)
    answer = await site.client.post(
        f"/dashboard/channels/{site.channel_id}/pause", data={"csrf": await csrf(site)}
    )
    assert answer.status == 400


async def test_an_operator_sees_every_channel_but_changes_none(site: Site) -> None:
    await login(site, OPERATOR)
    assert "Alpha Signals" in await (await site.client.get("/dashboard/channels")).text()
    answer = await site.client.post(
        f"/dashboard/channels/{site.channel_id}/pause",
        data={"csrf": await csrf(site, "/dashboard"), "reason": "mine now"},
    )
    assert answer.status == 403


async def test_logout_ends_the_session(site: Site) -> None:
    await login(site, OWNER)
    answer = await site.client.post("/dashboard/logout", data={"csrf": await csrf(site)})
    assert answer.status == 200
    assert (await site.client.get("/dashboard")).status == 403


async def test_another_owner_can_neither_see_nor_change_the_channel(site: Site) -> None:
    await login(site, OTHER_OWNER)
    token = await csrf(site)
    for path in ("/dashboard", "/dashboard/channels"):
        page = await (await site.client.get(path)).text()
        assert "Beta Club" in page and "Alpha Signals" not in page
    for action in ("pause", "resume"):
        answer = await site.client.post(
            f"/dashboard/channels/{site.channel_id}/{action}", data={"csrf": token, "reason": "x"}
        )
        assert answer.status == 404
    await site.client.post("/dashboard/logout", data={"csrf": token})
    await login(site, OWNER)
    assert "Selling" in await (await site.client.get("/dashboard/channels")).text()


async def test_pages_speak_the_browsers_language_and_english_otherwise(site: Site) -> None:
    await login(site, OWNER)
    russian = await site.client.get(
        "/dashboard", headers={"Accept-Language": "de-DE, ru;q=0.8, en;q=0.5"}
    )
    text = await russian.text()
    assert '<html lang="ru">' in text
    assert "Обзор" in text and "Выйти на всех устройствах" in text
    spanish = await (
        await site.client.get("/dashboard", headers={"Accept-Language": "es-419"})
    ).text()
    assert "Resumen" in spanish
    unknown = await (await site.client.get("/dashboard", headers={"Accept-Language": "de"})).text()
    assert '<html lang="en">' in unknown and "Overview" in unknown
    refused = await site.client.get("/dashboard/channels", headers={"Accept-Language": "ru;q=x"})
    assert refused.status == 200  # a malformed header is ignored, not an error


async def test_the_channels_page_shows_each_tiers_span_and_the_trial(site: Site) -> None:
    assert site.uow is not None
    async with site.uow() as tx:
        channel = await tx.channels.get(ChannelId(site.channel_id))
        channel.set_tiers(
            (
                Tier(1, Money.of(10, "USD"), 30),
                Tier.season(2, Money.of(20, "USD"), date(2026, 1, 31)),
                Tier.lifetime(3, Money.of(99, "USD")),
            )
        )
        channel.set_trial(TrialOffer(7))
        await tx.channels.update(channel)
        await tx.commit()
    await login(site, OWNER)

    page = await (await site.client.get("/dashboard/channels")).text()

    assert '<tr class="tier-days"><td>1</td><td>10 USD</td><td>30 days</td></tr>' in page
    assert (
        '<tr class="tier-until"><td>2</td><td>20 USD</td><td>until 2026-01-31 '
        '<span class="ended">(ended, no longer sold)</span></td></tr>'
    ) in page
    assert '<tr class="tier-lifetime"><td>3</td><td>99 USD</td><td>lifetime</td></tr>' in page
    assert '<p class="trial">Trial: Free trial: 7 days</p>' in page


async def test_prices_are_written_as_the_readers_language_writes_numbers(site: Site) -> None:
    await login(site, OWNER)
    assert site.uow is not None
    async with site.uow() as tx:
        channel = await tx.channels.get(ChannelId(site.channel_id))
        channel.set_tiers((Tier(1, Money.of("12.50", "USD"), 30),))
        await tx.channels.update(channel)
        await tx.commit()
    english = await (await site.client.get("/dashboard/channels")).text()
    russian = await (
        await site.client.get("/dashboard/channels", headers={"Accept-Language": "ru"})
    ).text()
    assert "12.50 USD" in english and "12,50 USD" not in english
    assert "12,50 USD" in russian


async def test_the_channels_page_shows_telegrams_own_stars_link(site: Site) -> None:
    await login(site, OWNER)
    assert site.uow is not None
    async with site.uow() as tx:
        channel = await tx.channels.get(ChannelId(site.channel_id))
        channel.set_stars_link(StarsLink("https://t.me/+stars", stars_link_price(250)))
        await tx.channels.update(channel)
        await tx.commit()
    page = await (await site.client.get("/dashboard/channels")).text()
    assert "Stars subscription link: 250 XTR every 30 days" in page
