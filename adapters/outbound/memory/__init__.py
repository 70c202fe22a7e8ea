"""In-memory adapters of every port: the embedded demo's stores, and the fakes the
unit tests run the core against (fakes, not mocks: they keep the ports' promises).

The persistence adapters behave like a database at READ COMMITTED with row locks, so
that the same contract suite passes here and on SQLite and Postgres; see
:mod:`adapters.outbound.memory.table` for how and why.
"""

from adapters.outbound.memory.alert_sink import InMemoryAlertSink
from adapters.outbound.memory.chat_access import InMemoryChatAccess
from adapters.outbound.memory.clock import FrozenClock
from adapters.outbound.memory.ids import SequentialIdGenerator
from adapters.outbound.memory.messenger import InMemoryMessenger
from adapters.outbound.memory.nonce_store import InMemoryNonceStore
from adapters.outbound.memory.payment_gateway import InMemoryPaymentGateway
from adapters.outbound.memory.rate_limiter import InMemoryRateLimiter
from adapters.outbound.memory.secret_store import InMemorySecretStore
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWork, InMemoryUnitOfWorkFactory

__all__ = [
    "FrozenClock",
    "InMemoryAlertSink",
    "InMemoryChatAccess",
    "InMemoryMessenger",
    "InMemoryNonceStore",
    "InMemoryPaymentGateway",
    "InMemoryRateLimiter",
    "InMemorySecretStore",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "InMemoryUnitOfWorkFactory",
    "SequentialIdGenerator",
]
