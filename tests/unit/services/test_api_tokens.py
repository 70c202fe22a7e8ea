"""API tokens: made with a name and a scope and shown once, stored only as a digest,
listed and revoked by their owner alone (audited, with a reason), recognised while
active, and acting as their owner by the dashboard's rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.outbound.memory import FrozenClock
from adapters.outbound.memory.api_tokens import InMemoryApiTokenStore
from adapters.outbound.memory.chat_access import InMemoryChatAccess
from adapters.outbound.memory.dashboard import InMemoryChannelFigures
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.errors import InvalidChannel, NotAuthorized
from core.domain.ids import UserId
from core.ports.api_tokens import ApiScope, InvalidApiToken, UnknownApiToken
from core.services.api_tokens import MAX_ACTIVE, ApiTokens, token_digest
from core.services.channel_settings import ChangeSales
from core.services.dashboard import OwnerDashboard, Viewer
from core.services.resume_sales import ResumeSales

OPERATOR = UserId(9999)
ANN = Viewer(UserId(1000))
BOB = Viewer(UserId(2000))


class World:
    def __init__(self) -> None:
        self.clock = FrozenClock()
        self.store = InMemoryApiTokenStore()
        self.data = InMemoryStore()
        self.uow = InMemoryUnitOfWorkFactory(self.data)
        sales = ChangeSales(self.uow, self.clock)
        dashboard = OwnerDashboard(
            self.uow,
            self.clock,
            InMemoryChannelFigures(self.data),
            sales,
            ResumeSales(self.uow, InMemoryChatAccess(), sales),
            frozenset({OPERATOR}),
        )
        self.tokens = ApiTokens(self.store, self.uow, self.clock, RandomIdGenerator(), dashboard)

    async def audit(self) -> list[tuple[str, str, str, dict[str, str]]]:
        async with self.uow() as tx:
            events = await tx.audit.all()
        return [(e.actor, e.action, e.subject, dict(e.details)) for e in events]


@pytest.fixture
def world() -> World:
    return World()


async def test_a_new_token_is_shown_once_and_stored_only_as_its_digest(world: World) -> None:
    created = await world.tokens.create(ANN, "  CI   deploys ", "Write")
    assert created.secret.startswith("pgt_") and len(created.secret) == 4 + 64
    assert created.token.name == "CI deploys" and created.token.scope is ApiScope.WRITE
    assert created.token.prefix == created.secret[:12]
    assert await world.store.by_digest(created.secret) is None
    assert await world.store.by_digest(token_digest(created.secret)) == created.token
    assert await world.audit() == [
        (
            "user:1000",
            "api_token.created",
            f"api_token:{created.token.id}",
            {"name": "CI deploys", "scope": "write"},
        )
    ]


@pytest.mark.parametrize(("name", "scope"), [("", "read"), ("x" * 65, "read"), ("ok", "admin")])
async def test_a_bad_name_or_scope_is_refused_and_nothing_is_kept(
    world: World, name: str, scope: str
) -> None:
    with pytest.raises(InvalidApiToken):
        await world.tokens.create(ANN, name, scope)
    assert await world.tokens.tokens(ANN) == []
    assert await world.audit() == []


async def test_a_person_holds_at_most_so_many_active_tokens(world: World) -> None:
    made = [await world.tokens.create(ANN, f"t{n}", "read") for n in range(MAX_ACTIVE)]
    with pytest.raises(InvalidApiToken, match="tokens_too_many"):
        await world.tokens.create(ANN, "one more", "read")
    await world.tokens.revoke(ANN, made[0].token.id, "rotated")
    assert (await world.tokens.create(ANN, "one more", "read")).token.name == "one more"


async def test_the_owner_revokes_with_a_reason_and_the_token_stops_working(world: World) -> None:
    created = await world.tokens.create(ANN, "ci", "read")
    assert await world.tokens.authenticate(created.secret) is not None
    await world.tokens.revoke(ANN, created.token.id, " leaked  in a log ")
    assert await world.tokens.authenticate(created.secret) is None
    assert await world.tokens.still_active(created.token.id) is None
    listed = await world.tokens.tokens(ANN)
    assert [t.revoked_at for t in listed] == [world.clock.now()]
    assert (await world.audit())[-1][1:] == (
        "api_token.revoked",
        f"api_token:{created.token.id}",
        {"name": "ci", "scope": "read", "reason": "leaked in a log"},
    )


async def test_a_revocation_needs_a_reason(world: World) -> None:
    created = await world.tokens.create(ANN, "ci", "read")
    with pytest.raises(InvalidChannel, match="reason_missing"):
        await world.tokens.revoke(ANN, created.token.id, "   ")
    assert await world.tokens.authenticate(created.secret) is not None


async def test_someone_elses_token_is_unknown_to_them(world: World) -> None:
    created = await world.tokens.create(ANN, "ci", "read")
    with pytest.raises(UnknownApiToken):
        await world.tokens.revoke(BOB, created.token.id, "mine now")
    with pytest.raises(UnknownApiToken):
        await world.tokens.revoke(BOB, "nosuchtoken", "x")
    assert await world.tokens.tokens(BOB) == []
    assert await world.tokens.authenticate(created.secret) is not None


async def test_only_a_real_active_token_is_recognised(world: World) -> None:
    created = await world.tokens.create(ANN, "ci", "read")
    assert await world.tokens.authenticate("pgt_" + "0" * 64) is None
    assert await world.tokens.authenticate(token_digest(created.secret)) is None
    assert await world.tokens.authenticate(created.secret[4:]) is None


async def test_a_use_is_recorded_at_most_once_a_minute(world: World) -> None:
    created = await world.tokens.create(ANN, "ci", "read")
    first = world.clock.now()
    await world.tokens.authenticate(created.secret)
    world.clock.advance(timedelta(seconds=30))
    await world.tokens.still_active(created.token.id)
    assert (await world.tokens.tokens(ANN))[0].last_used == first
    world.clock.advance(timedelta(seconds=31))
    await world.tokens.still_active(created.token.id)
    assert (await world.tokens.tokens(ANN))[0].last_used == world.clock.now()


async def test_a_token_acts_as_its_owner_only_while_the_dashboard_admits_them(
    world: World,
) -> None:
    operator = await world.tokens.create(Viewer(OPERATOR, operator=True), "ops", "read")
    assert await world.tokens.viewer(operator.token) == Viewer(OPERATOR, operator=True)
    owns_nothing = await world.tokens.create(ANN, "ci", "read")
    with pytest.raises(NotAuthorized):
        await world.tokens.viewer(owns_nothing.token)
