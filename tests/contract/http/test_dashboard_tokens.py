"""The dashboard's API tokens page over a real socket: a token made with a name and a
scope is shown once and then works at the API; the list shows what it should and
never the token; revoking needs the CSRF token and a reason and ends the token;
another owner can neither see nor revoke it (404, no IDOR)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import attrs
import pytest

from adapters.inbound.http.api import AccessTokens, Api, ApiSigningKeys, ChannelOperations
from adapters.inbound.http.app import build_app
from adapters.inbound.http.dashboard import Dashboard, DashboardSettings
from adapters.inbound.http.dashboard.telegram_login import login_hash
from adapters.inbound.http.dashboard.tokens import TokensSection
from adapters.outbound.memory import InMemoryNonceStore
from adapters.outbound.memory.api_tokens import InMemoryApiTokenStore
from adapters.outbound.memory.dashboard import InMemoryChannelFigures, InMemorySessionStore
from adapters.outbound.memory.rate_limiter import InMemoryRateLimiter
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.system.clock import SystemClock
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.ids import ChatId, UserId
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.services.api_tokens import ApiTokens
from core.services.channel_settings import ChangeSales
from core.services.dashboard import OwnerDashboard
from core.services.dashboard_repost import RepostOffer
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

BOT_TOKEN = "123456:dashboard-test-token-abcdefghijklmnop"
OTHER_OWNER = UserId(2000)
OTHER_OPEN, OTHER_CLOSED = ChatId(-2001), ChatId(-2002)


@attrs.frozen
class Site:
    client: Client
    store: InMemoryStore


def link(user: int) -> str:
    fields = {"id": str(user), "first_name": "Ann", "auth_date": str(int(time.time()))}
    fields["hash"] = login_hash(fields, BOT_TOKEN)
    return "/dashboard/login?" + "&".join(f"{k}={v}" for k, v in fields.items())


async def _site(api_on: bool) -> AsyncIterator[Site]:
    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    shop = build_shop(uow)
    await shop.open_channel()
    for chat in (OTHER_OPEN, OTHER_CLOSED):
        shop.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
        shop.chat.set_member(chat, OTHER_OWNER, ChatRights(MemberStatus.CREATOR))
    await shop.register.execute(OTHER_OWNER, OTHER_OPEN, OTHER_CLOSED, "Beta Club")
    clock = SystemClock()  # login links are signed with the real time
    sales = ChangeSales(uow, clock)
    owners = OwnerDashboard(
        uow, clock, InMemoryChannelFigures(store), sales, ResumeSales(uow, shop.chat, sales)
    )
    tokens = ApiTokens(InMemoryApiTokenStore(), uow, clock, RandomIdGenerator(), owners)
    dashboard = Dashboard(
        owners,
        DashboardSessions(InMemorySessionStore(clock), clock, RandomIdGenerator()),
        InMemoryNonceStore(clock),
        clock,
        DashboardSettings((BOT_TOKEN,), secure_cookie=False),
        sections=(TokensSection(tokens, api_on),),
    )
    api = Api(
        tokens,
        AccessTokens(ApiSigningKeys((b"k" * 32,)), clock),
        InMemoryRateLimiter(clock, 1000, 1000.0),
        [ChannelOperations(owners, RepostOffer(uow, clock, owners, shop.publish))],
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(
            make_deps(shop, gateway), dashboard=dashboard, extra_routes=api.routes()
        )
        async with serve(build_app(deps)) as client:
            yield Site(client, store)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async for s in _site(api_on=True):
        yield s


async def login(site: Site, user: int) -> str:
    answer = await site.client.get(link(user), allow_redirects=False)
    assert answer.status == 303, await answer.text()
    page = await (await site.client.get("/dashboard/tokens")).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def make(site: Site, csrf: str, name: str = "ci", scope: str = "read") -> str:
    answer = await site.client.post(
        "/dashboard/tokens", data={"csrf": csrf, "name": name, "scope": scope}
    )
    assert answer.status == 200, await answer.text()
    assert answer.headers["Cache-Control"] == "no-store"
    found = re.search(r'<code class="secret">(pgt_[0-9a-f]{64})</code>', await answer.text())
    assert found is not None
    return found.group(1)


async def test_a_token_is_shown_once_and_works_at_the_api(site: Site) -> None:
    csrf = await login(site, OWNER)
    secret = await make(site, csrf, "deploy bot", "write")
    page = await (await site.client.get("/dashboard/tokens")).text()
    assert secret not in page
    assert "deploy bot" in page and "write" in page and secret[:12] in page and "never" in page
    answer = await site.client.post("/api/v1/token", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200 and (await answer.json())["scope"] == "write"


async def test_a_bad_name_or_scope_is_a_400_and_makes_nothing(site: Site) -> None:
    csrf = await login(site, OWNER)
    for data in ({"name": "", "scope": "read"}, {"name": "x", "scope": "admin"}):
        answer = await site.client.post("/dashboard/tokens", data={"csrf": csrf, **data})
        assert answer.status == 400
    assert "No tokens yet." in await (await site.client.get("/dashboard/tokens")).text()


async def test_posts_without_the_csrf_token_are_refused(site: Site) -> None:
    csrf = await login(site, OWNER)
    secret = await make(site, csrf)
    token_id = re.search(
        r'data-token="([^"]+)"', await (await site.client.get("/dashboard/tokens")).text()
    )
    assert token_id is not None
    made = await site.client.post("/dashboard/tokens", data={"name": "x", "scope": "read"})
    revoked = await site.client.post(
        f"/dashboard/tokens/{token_id.group(1)}/revoke", data={"reason": "x"}
    )
    assert (made.status, revoked.status) == (403, 403)
    page = await (await site.client.get("/dashboard/tokens")).text()
    assert page.count('class="token"') == 1 and "Revoke" in page
    exchange = await site.client.post(
        "/api/v1/token", headers={"Authorization": f"Bearer {secret}"}
    )
    assert exchange.status == 200


async def test_revoking_with_a_reason_ends_the_token_and_is_audited(site: Site) -> None:
    csrf = await login(site, OWNER)
    secret = await make(site, csrf)
    page = await (await site.client.get("/dashboard/tokens")).text()
    token_id = re.search(r'data-token="([^"]+)"', page)
    assert token_id is not None
    without = await site.client.post(
        f"/dashboard/tokens/{token_id.group(1)}/revoke", data={"csrf": csrf, "reason": " "}
    )
    assert without.status == 400
    answer = await site.client.post(
        f"/dashboard/tokens/{token_id.group(1)}/revoke", data={"csrf": csrf, "reason": "leaked"}
    )
    assert answer.status == 200 and "Token revoked." in await answer.text()
    assert "revoked 20" in await answer.text()
    exchange = await site.client.post(
        "/api/v1/token", headers={"Authorization": f"Bearer {secret}"}
    )
    assert exchange.status == 401
    async with InMemoryUnitOfWorkFactory(site.store)() as tx:
        actions = [(e.action, e.details.get("reason")) for e in await tx.audit.all()]
    assert ("api_token.created", None) in actions and ("api_token.revoked", "leaked") in actions


async def test_another_owner_neither_sees_nor_revokes_the_token(site: Site) -> None:
    csrf = await login(site, OWNER)
    secret = await make(site, csrf, "ann's token")
    page = await (await site.client.get("/dashboard/tokens")).text()
    token_id = re.search(r'data-token="([^"]+)"', page)
    assert token_id is not None
    await site.client.post("/dashboard/logout", data={"csrf": csrf})
    other_csrf = await login(site, OTHER_OWNER)
    theirs = await (await site.client.get("/dashboard/tokens")).text()
    assert "ann&#39;s token" not in theirs and "No tokens yet." in theirs
    for target in (token_id.group(1), "nosuchtoken"):
        answer = await site.client.post(
            f"/dashboard/tokens/{target}/revoke", data={"csrf": other_csrf, "reason": "mine"}
        )
        assert answer.status == 404
    exchange = await site.client.post(
        "/api/v1/token", headers={"Authorization": f"Bearer {secret}"}
    )
    assert exchange.status == 200


async def test_while_the_api_is_off_the_page_says_so_and_makes_no_token() -> None:
    async for site in _site(api_on=False):
        csrf = await login(site, OWNER)
        page = await (await site.client.get("/dashboard/tokens")).text()
        assert "PAYGATE_API=off" in page and 'action="/dashboard/tokens"' not in page
        answer = await site.client.post(
            "/dashboard/tokens", data={"csrf": csrf, "name": "x", "scope": "read"}
        )
        assert answer.status == 400
