"""The dashboard's Exports section, as a use case: every subscriber, payment or
donation of the viewer's channels (an operator's: every channel's) as rows of text
cells, a header row first, read in keyset pages so that memory stays constant
however many rows there are. How the rows are written (CSV, its escaping) is the
inbound adapter's business."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from enum import StrEnum

import attrs

from core.domain.channel import Channel
from core.domain.donation import Donation
from core.domain.ids import ChannelId
from core.domain.payment import PaymentIntent
from core.domain.subscription import Subscription
from core.ports.payment_lookup import ExportPages
from core.services.dashboard import OwnerDashboard, Viewer

PAGE_SIZE = 500


class ExportKind(StrEnum):
    SUBSCRIBERS = "subscribers"
    PAYMENTS = "payments"
    DONATIONS = "donations"


HEADERS: dict[ExportKind, tuple[str, ...]] = {
    ExportKind.SUBSCRIBERS: (
        "subscription_id",
        "channel_id",
        "channel",
        "user_id",
        "tier",
        "status",
        "starts_at",
        "expires_at",
        "period",
    ),
    ExportKind.PAYMENTS: (
        "intent_id",
        "channel_id",
        "channel",
        "user_id",
        "purpose",
        "tier",
        "price",
        "currency",
        "provider",
        "status",
        "invoice_id",
        "payment_id",
        "paid",
        "paid_currency",
        "created_at",
        "fulfilled_at",
    ),
    ExportKind.DONATIONS: (
        "donation_id",
        "intent_id",
        "channel_id",
        "channel",
        "user_id",
        "amount",
        "currency",
        "received_at",
    ),
}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _subscription(s: Subscription, title: str) -> list[str]:
    return [
        s.id,
        s.channel_id,
        title,
        str(s.user_id),
        str(s.tier),
        str(s.status),
        s.starts_at.isoformat(),
        s.expires_at.isoformat(),
        str(s.period),
    ]


def _intent(i: PaymentIntent, title: str) -> list[str]:
    paid = i.actually_paid
    return [
        i.id,
        i.channel_id,
        title,
        str(i.user_id),
        str(i.purpose),
        _text(i.tier),
        str(i.price.amount),
        i.price.currency,
        i.provider,
        str(i.status),
        _text(i.invoice_id),
        _text(i.payment_id),
        "" if paid is None else str(paid.amount),
        "" if paid is None else paid.currency,
        i.created_at.isoformat(),
        "" if i.fulfilled_at is None else i.fulfilled_at.isoformat(),
    ]


def _donation(d: Donation, title: str) -> list[str]:
    return [
        d.id,
        d.intent_id,
        d.channel_id,
        title,
        str(d.user_id),
        str(d.amount.amount),
        d.amount.currency,
        d.received_at.isoformat(),
    ]


@attrs.frozen
class ExportPage:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    last: str | None
    """The id the next page starts after; None on the last page."""


@attrs.define(eq=False)
class DashboardExports:
    _owners: OwnerDashboard
    _pages: ExportPages
    _page_size: int = PAGE_SIZE

    async def channels(self, viewer: Viewer) -> Sequence[Channel]:
        return await self._owners.channels(viewer)

    async def page(self, viewer: Viewer, kind: ExportKind, after: str | None) -> ExportPage:
        """One page of rows (ordered by id) starting after the id ``after`` (None: the
        first page), for callers that page themselves (the HTTP API)."""
        channels = await self._owners.channels(viewer)
        titles = {c.id: c.title for c in channels}
        if not titles:
            return ExportPage(HEADERS[kind], (), None)
        rows, last = await self._page(kind, sorted(titles), titles, after)
        return ExportPage(HEADERS[kind], tuple(tuple(row) for row in rows), last)

    async def rows(self, viewer: Viewer, kind: ExportKind) -> AsyncIterator[list[str]]:
        """The header, then one row per record, page by page (ordered by id)."""
        channels = await self._owners.channels(viewer)
        titles = {c.id: c.title for c in channels}
        ids = sorted(titles)
        yield list(HEADERS[kind])
        if not ids:
            return
        after: str | None = None
        while True:
            rows, after = await self._page(kind, ids, titles, after)
            for row in rows:
                yield row
            if after is None:
                return

    async def _page(
        self,
        kind: ExportKind,
        ids: Sequence[ChannelId],
        titles: dict[ChannelId, str],
        after: str | None,
    ) -> tuple[list[list[str]], str | None]:
        """One page of rows, and the id the next page starts after (None: the last)."""
        size = self._page_size
        last: str | None
        if kind is ExportKind.SUBSCRIBERS:
            subs = await self._pages.subscriptions(ids, after, size)
            rows = [_subscription(s, titles[s.channel_id]) for s in subs]
            last = subs[-1].id if subs else None
        elif kind is ExportKind.PAYMENTS:
            intents = await self._pages.intents(ids, after, size)
            rows = [_intent(i, titles[i.channel_id]) for i in intents]
            last = intents[-1].id if intents else None
        else:
            donations = await self._pages.donations(ids, after, size)
            rows = [_donation(d, titles[d.channel_id]) for d in donations]
            last = donations[-1].id if donations else None
        return rows, (last if len(rows) == size else None)


__all__ = ["HEADERS", "PAGE_SIZE", "DashboardExports", "ExportKind", "ExportPage"]
