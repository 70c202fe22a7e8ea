"""The HTTP API over a real socket, for the API's tests: a shop with one channel of
OWNER's and one of OTHER_OWNER's, the API's routes under the app's middlewares, and
helpers that make API tokens and exchange them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs

from adapters.inbound.http.api import AccessTokens, Api, ApiSigningKeys, ChannelOperations
from adapters.inbound.http.app import BucketSize, build_app
from adapters.outbound.memory.api_tokens import InMemoryApiTokenStore
from adapters.outbound.memory.dashboard import InMemoryChannelFigures
from adapters.outbound.memory.rate_limiter import InMemoryRateLimiter
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.ids import ChatId, UserId
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.services.api_tokens import ApiTokens
from core.services.channel_settings import ChangeSales
from core.services.dashboard import OwnerDashboard, Viewer
from core.services.resume_sales import ResumeSales
from tests.contract.http.shop import (
    OWNER,
    UNLIMITED,
    Client,
    Shop,
    build_shop,
    make_deps,
    nowpayments_gateway,
    serve,
)

OTHER_OWNER = UserId(2000)
OPERATOR = UserId(9999)
STRANGER = UserId(4242)
OTHER_OPEN, OTHER_CLOSED = ChatId(-2001), ChatId(-2002)
SIGNING_KEY = b"api-test-signing-key-0123456789abcdef"
OLD_KEY = b"api-test-signing-key-the-old-one-0000"


@attrs.define
class ApiSite:
    client: Client
    shop: Shop
    tokens: ApiTokens
    keys: ApiSigningKeys
    access: AccessTokens
    api: Api
    channel_id: str
    other_channel_id: str

    async def api_token(self, user: UserId = OWNER, scope: str = "write") -> str:
        viewer = Viewer(user, operator=user == OPERATOR)
        return (await self.tokens.create(viewer, f"test {scope}", scope)).secret

    async def exchange(self, api_token: str) -> str:
        answer = await self.client.post(
            "/api/v1/token", headers={"Authorization": f"Bearer {api_token}"}
        )
        assert answer.status == 200, await answer.text()
        access = (await answer.json())["access_token"]
        assert isinstance(access, str)
        return access

    async def bearer(self, user: UserId = OWNER, scope: str = "write") -> dict[str, str]:
        access = await self.exchange(await self.api_token(user, scope))
        return {"Authorization": f"Bearer {access}"}


@asynccontextmanager
async def api_site(bucket: BucketSize = UNLIMITED) -> AsyncIterator[ApiSite]:
    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    shop = build_shop(uow)
    channel = await shop.open_channel()
    for chat in (OTHER_OPEN, OTHER_CLOSED):
        shop.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
        shop.chat.set_member(chat, OTHER_OWNER, ChatRights(MemberStatus.CREATOR))
    other = await shop.register.execute(OTHER_OWNER, OTHER_OPEN, OTHER_CLOSED, "Beta Club")
    sales = ChangeSales(uow, shop.clock)
    dashboard = OwnerDashboard(
        uow,
        shop.clock,
        InMemoryChannelFigures(store),
        sales,
        ResumeSales(uow, shop.chat, sales),
        frozenset({OPERATOR}),
    )
    tokens = ApiTokens(InMemoryApiTokenStore(), uow, shop.clock, RandomIdGenerator(), dashboard)
    keys = ApiSigningKeys((SIGNING_KEY,))
    access = AccessTokens(keys, shop.clock)
    api = Api(
        tokens,
        access,
        InMemoryRateLimiter(shop.clock, bucket.capacity, bucket.per_second),
        [ChannelOperations(dashboard)],
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(make_deps(shop, gateway), extra_routes=api.routes())
        async with serve(build_app(deps)) as client:
            yield ApiSite(client, shop, tokens, keys, access, api, channel.id, other.id)
