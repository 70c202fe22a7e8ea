"""What the dashboard's Subscribers section reads besides the unit of work: pages of
subscriptions found by channel, status or person, the audit events about a
subscriber's things, and the Telegram usernames people have shown the bot.

Pages are keyset pages over (``expires_at``, ``id``), newest end first: the next page
starts strictly after the last row of the one before, so a page costs the same at
any depth (no OFFSET). Every read is one short statement outside any unit of work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from core.domain.audit import AuditEvent
from core.domain.ids import ChannelId, SubscriptionId, UserId
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.errors import Unavailable

__all__ = [
    "DirectoryQuery",
    "PersonNames",
    "SubscriberDirectory",
    "SubscriberKey",
    "SubscriberRow",
    "Unavailable",
    "folded_username",
]

SubscriberKey = tuple[datetime, SubscriptionId]
"""Where a page ends: the last row's (``expires_at``, ``id``)."""

_USERNAME = re.compile(r"\A[A-Za-z0-9_]{4,32}\Z")


def folded_username(text: str) -> str | None:
    """A Telegram username as stored and searched: without the ``@``, in lower case
    (Telegram usernames are 4-32 letters, digits and underscores, case-insensitive);
    None when ``text`` cannot be one."""
    name = text.strip().removeprefix("@")
    return name.lower() if _USERNAME.match(name) else None


@attrs.frozen
class DirectoryQuery:
    """Which subscriptions: in ``channels`` (None: every channel, for an operator),
    with ``status`` (None: any) and of ``users`` (None: anyone; empty: nobody)."""

    channels: tuple[ChannelId, ...] | None
    status: SubscriptionStatus | None = None
    users: tuple[UserId, ...] | None = None


@attrs.frozen
class SubscriberRow:
    subscription: Subscription
    username: str | None
    """The username the person last showed the bot, if any."""


class SubscriberDirectory(Protocol):
    """Raises Unavailable when its store cannot be reached."""

    async def page(
        self, query: DirectoryQuery, after: SubscriberKey | None, limit: int
    ) -> Sequence[SubscriberRow]:
        """Up to ``limit`` subscriptions matching ``query``, by (``expires_at``, ``id``)
        descending, strictly after ``after``."""
        ...

    async def users_named(self, username: str) -> Sequence[UserId]:
        """Who showed the bot ``username`` (folded, see :func:`folded_username`) last:
        nobody or one person."""
        ...

    async def audit_about(self, subjects: Sequence[str], limit: int) -> Sequence[AuditEvent]:
        """The newest ``limit`` audit events whose subject is one of ``subjects``
        (``subscription:<id>``, ``grant:<id>``, ``intent:<id>``), newest first."""
        ...


class PersonNames(Protocol):
    """The Telegram username each person last showed the bot. Raises Unavailable."""

    async def note(self, user_id: UserId, username: str | None) -> None:
        """Keep ``username`` (folded) as ``user_id``'s, and no longer anyone else's
        (Telegram gives a username to one account at a time); None forgets theirs (they
        removed it). Raises ValueError for a text that cannot be a username."""
        ...

    async def name_of(self, user_id: UserId) -> str | None: ...

    async def forget(self, user_id: UserId) -> bool:
        """Remove the name kept for ``user_id`` (a person's data erased); True when one
        was kept."""
        ...
