"""The production containers for callers that bring some pieces of their own.

Tests, the demo and the benchmarks build the graph a process runs, not one of their
own: :func:`assembled` gives the use cases of :class:`UseCases` with the adapters
and settings a caller passes as overrides (a frozen clock, the in-memory store, a
recording messenger...), and :func:`opened_store` opens the store exactly as a
process on a configuration opens it (the same engine, pool and timeouts) without
starting anything else. :func:`database_config` is the configuration of a process
that has only a database, for the callers that have no environment of their own.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
from dependency_injector import providers
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.inbound.worker.outbox_dispatcher import DispatchSettings
from adapters.outbound.crypto.fernet_cipher import generate_key
from adapters.outbound.memory.sellers import EveryoneSells
from adapters.outbound.memory.wordings import InMemoryWordingBook
from adapters.outbound.sqla import SqlUnitOfWorkFactory
from composition.config import Config, load_config
from composition.containers import Infrastructure, UseCases
from composition.processes.process import resolve
from core.domain.signing import MacKeyring
from core.ports.alerts import AlertSink
from core.ports.clock import Clock, IdGenerator
from core.ports.payments import PaymentGateway, RefundingGateway
from core.ports.repositories import UnitOfWorkFactory
from core.ports.sellers import SellerPolicy
from core.ports.telegram import ChatAccess, Messenger
from core.ports.wordings import WordingBook
from core.services.check_rights import RightsCheckSettings
from core.services.expiry import ExpirySettings
from core.services.fulfilment import FulfilmentSettings
from core.services.settle_outbox import RetryPolicy
from core.services.verify_payment import PaymentPolicy


def assembled(
    *,
    clock: Clock,
    uow: UnitOfWorkFactory,
    keyring: MacKeyring,
    gateway: PaymentGateway,
    chat: ChatAccess,
    messenger: Messenger,
    alerts: AlertSink,
    wordings: WordingBook | None = None,
    ids: IdGenerator | None = None,
    sellers: SellerPolicy | None = None,
    bot_username: str = "PayGateBot",
    policy: PaymentPolicy | None = None,
    fulfilment: FulfilmentSettings | None = None,
    expiry: ExpirySettings | None = None,
    dispatch: DispatchSettings | None = None,
    retry: RetryPolicy | None = None,
    rights_check: RightsCheckSettings | None = None,
    stars: RefundingGateway | None = None,
) -> UseCases:
    """The production containers (Infrastructure and UseCases) with these adapters
    and settings as overrides: the graph a process runs, over the caller's adapters.

    No configuration is read: every provider that would read one is overridden.
    ``wordings`` None: no owner has written their own texts; ``ids`` None:
    production's random ids; ``sellers`` None: everyone may sell; a setting None: the
    rule's own default."""
    infra = Infrastructure()
    infra.clock.override(providers.Object(clock))
    if ids is not None:
        infra.ids.override(providers.Object(ids))
    infra.keyring.override(providers.Object(keyring))
    infra.uow.override(providers.Object(uow))
    infra.gateway.override(providers.Object(gateway))
    infra.stars_gateway.override(providers.Object(stars))  # None: no Stars
    infra.chat_access.override(providers.Object(chat))
    infra.messenger.override(providers.Object(messenger))
    infra.alerts.override(providers.Object(alerts))
    infra.wordings.override(providers.Object(wordings or InMemoryWordingBook()))
    infra.sellers.override(providers.Object(sellers or EveryoneSells()))
    infra.bot_username.override(providers.Object(bot_username))
    uc = UseCases(infra=infra)
    uc.policy.override(providers.Object(policy))
    uc.fulfilment_settings.override(providers.Object(fulfilment))
    uc.payment_pages.override(providers.Object(None))  # no dashboard links in alerts
    uc.expiry_settings.override(providers.Object(expiry))
    uc.dispatch_settings.override(providers.Object(dispatch))
    uc.retry_policy.override(providers.Object(retry))
    uc.rights_check_settings.override(providers.Object(rights_check))
    return uc


@attrs.frozen
class Store:
    """The database as a process holds it: its engine and the store's own units of
    work (below the commits' wake-ups, which only processes that dispatch need)."""

    engine: AsyncEngine
    uow: SqlUnitOfWorkFactory


async def _disposed(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def opened_store(
    config: Config, *, engine: Callable[[Config], AsyncEngine] | None = None
) -> AsyncIterator[Store]:
    """The store of a process on ``config``, from the production containers; only the
    engine is opened, and it is closed on exit.

    ``engine``: another engine in place of production's (a benchmark comparing
    against it); disposed on exit all the same."""
    infra = Infrastructure(config=config)
    if engine is not None:
        infra.engine.override(providers.Resource(_disposed, providers.Callable(engine, config)))
    try:
        yield Store(engine=await resolve(infra.engine), uow=await resolve(infra.store_uow))
    finally:
        await infra.shutdown_resources()  # type: ignore[misc]


def database_config(database_url: URL | str, settings: Mapping[str, str] | None = None) -> Config:
    """The configuration of a process that has a database and nothing else, with keys
    of its own (fresh each call: what it encrypts, no other store opens) and
    ``settings`` (``PAYGATE_*`` variables) on top. No ``.env`` file is read."""
    env = {
        "PAYGATE_DATABASE_URL": make_url(database_url).render_as_string(hide_password=False),
        "PAYGATE_ENCRYPTION_KEYS": generate_key(),
        "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    return load_config({**env, **(settings or {})}, dotenv=Path(os.devnull))
