"""The in-memory backend of the persistence ports, and the shape every backend has."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from adapters.outbound.memory import InMemoryStore, InMemoryUnitOfWorkFactory
from core.ports.repositories import UnitOfWorkFactory

Backend = Callable[[], AbstractAsyncContextManager[UnitOfWorkFactory]]
"""Opens a fresh, empty store and yields a factory of units of work over it; leaving
the context releases whatever the store holds (connections, files, schemas)."""


@asynccontextmanager
async def memory_backend() -> AsyncIterator[UnitOfWorkFactory]:
    yield InMemoryUnitOfWorkFactory(InMemoryStore())


MEMORY_BACKENDS: dict[str, Backend] = {"memory": memory_backend}
