"""Reposting a channel's offer from the Channels page over a real socket (issue 20):
the owner, with a reason, gets a fresh offer in the open channel and an audited
record; the bot's cooldown holds; someone else's channel is 404 and changes nothing;
an operator reposts nothing that is not theirs; a POST without CSRF is refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import attrs
import pytest

from adapters.inbound.http.app import build_app
from adapters.inbound.http.dashboard import Dashboard, DashboardSettings
from adapters.inbound.http.dashboard.repost import RepostSection
from adapters.outbound.memory import InMemoryNonceStore
from adapters.outbound.memory.dashboard import InMemoryChannelFigures, InMemorySessionStore
from adapters.outbound.memory.messenger import InMemoryMessenger
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.system.clock import SystemClock
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.audit import AuditEvent
from core.domain.ids import ChannelId
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.services.channel_settings import ChangeSales
from core.services.dashboard import OwnerDashboard
from core.services.dashboard_repost import RepostOffer
from core.services.dashboard_sessions import DashboardSessions
from core.services.resume_sales import ResumeSales
from tests.contract.http.shop import (
    OPEN,
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


def _without_nonce(page: str) -> str:
    return re.sub(r'nonce="[^"]+"', "", page)


@attrs.frozen
class RepostSite:
    client: Client
    channel_id: ChannelId
    other_channel_id: ChannelId
    uow: InMemoryUnitOfWorkFactory
    sales: ChangeSales
    messenger: InMemoryMessenger

    async def login(self, user: int) -> None:
        answer = await self.client.get(link(user), allow_redirects=False)
        assert answer.status == 303, await answer.text()

    async def csrf(self) -> str:
        page = await (await self.client.get("/dashboard/channels")).text()
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        return found.group(1)

    async def repost(self, channel_id: str, data: dict[str, str]) -> tuple[int, str, str]:
        answer = await self.client.post(
            f"/dashboard/channels/{channel_id}/repost", data=data, allow_redirects=False
        )
        return answer.status, answer.headers.get("Location", ""), await answer.text()

    async def reposts(self) -> list[AuditEvent]:
        async with self.uow() as tx:
            return [e for e in await tx.audit.all() if e.action == "channel.offer_reposted"]


@pytest.fixture
async def site() -> AsyncIterator[RepostSite]:
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
    owners = OwnerDashboard(
        uow,
        clock,
        InMemoryChannelFigures(store),
        sales,
        ResumeSales(uow, shop.chat, sales),
        frozenset({OPERATOR}),
    )
    dashboard = Dashboard(
        owners,
        DashboardSessions(InMemorySessionStore(clock), clock, RandomIdGenerator()),
        InMemoryNonceStore(clock),
        clock,
        DashboardSettings((BOT_TOKEN,), secure_cookie=False),
        (RepostSection(RepostOffer(uow, shop.clock, owners, shop.publish)),),
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(make_deps(shop, gateway), dashboard=dashboard)
        async with serve(build_app(deps)) as client:
            yield RepostSite(client, channel.id, other.id, uow, sales, shop.messenger)


async def test_the_owner_reposts_the_offer_with_a_reason_and_it_is_audited(
    site: RepostSite,
) -> None:
    await site.login(OWNER)
    page = await (await site.client.get("/dashboard/channels")).text()
    assert f'action="/dashboard/channels/{site.channel_id}/repost"' in page

    status, location, _ = await site.repost(
        site.channel_id, {"csrf": await site.csrf(), "reason": "  new  prices "}
    )

    assert (status, location) == (303, "/dashboard/channels?notice=reposted")
    assert len(site.messenger.visible(OPEN)) == 1
    [event] = await site.reposts()
    assert event.actor == f"user:{OWNER}" and event.subject == f"channel:{site.channel_id}"
    assert event.details["reason"] == "new prices" and event.details["posted"] == "1"
    notice = await (await site.client.get(location)).text()
    assert "A fresh offer is posted in the open channel." in notice


async def test_a_second_repost_within_the_cooldown_is_refused(site: RepostSite) -> None:
    await site.login(OWNER)
    token = await site.csrf()
    assert (await site.repost(site.channel_id, {"csrf": token, "reason": "one"}))[0] == 303

    status, _, text = await site.repost(site.channel_id, {"csrf": token, "reason": "two"})

    assert status == 400
    assert "minute" in text
    assert len(site.messenger.sent) == 1
    assert len(await site.reposts()) == 1


async def test_a_repost_without_a_reason_or_of_a_paused_channel_is_refused(
    site: RepostSite,
) -> None:
    await site.login(OWNER)
    token = await site.csrf()
    assert (await site.repost(site.channel_id, {"csrf": token, "reason": "  "}))[0] == 400
    await site.sales.pause_channel(site.channel_id, "holiday", OWNER)
    page = await (await site.client.get("/dashboard/channels")).text()
    assert "/repost" not in page

    status, _, _ = await site.repost(site.channel_id, {"csrf": token, "reason": "go"})

    assert status == 400
    assert site.messenger.sent == [] and await site.reposts() == []


async def test_a_post_without_the_csrf_token_is_refused_and_posts_nothing(
    site: RepostSite,
) -> None:
    await site.login(OWNER)
    await site.csrf()

    status, _, _ = await site.repost(site.channel_id, {"reason": "x"})
    forged, _, _ = await site.repost(site.channel_id, {"csrf": "forged", "reason": "x"})

    assert (status, forged) == (403, 403)
    assert site.messenger.sent == [] and await site.reposts() == []


async def test_another_owner_gets_404_exactly_as_for_a_missing_channel(site: RepostSite) -> None:
    await site.login(OTHER_OWNER)
    token = await site.csrf()

    theirs = await site.repost(site.channel_id, {"csrf": token, "reason": "x"})
    missing = await site.repost("no-such-channel", {"csrf": token, "reason": "x"})

    assert theirs[0] == missing[0] == 404
    assert _without_nonce(theirs[2]) == _without_nonce(missing[2])
    assert site.messenger.sent == [] and await site.reposts() == []


async def test_an_operator_reposts_nothing_that_is_not_theirs(site: RepostSite) -> None:
    await site.login(OPERATOR)
    token = await site.csrf()
    page = await (await site.client.get("/dashboard/channels")).text()
    assert "/repost" not in page

    status, _, _ = await site.repost(site.channel_id, {"csrf": token, "reason": "mine now"})

    assert status == 403
    assert site.messenger.sent == [] and await site.reposts() == []


async def test_logged_out_nobody_reposts(site: RepostSite) -> None:
    status, _, _ = await site.repost(site.channel_id, {"reason": "x"})

    assert status == 403
    assert site.messenger.sent == []
