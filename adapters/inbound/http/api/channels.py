"""The channels' operations, as the dashboard offers them: the overview, the list,
one channel (its plans: each tier's span, prices and Stars renewal, the trial, the
bundle and Telegram's Stars subscription link), and pausing or resuming its sales
with a reason (``write`` scope).

Every one goes through the core's :class:`~core.services.dashboard.OwnerDashboard`,
which decides what the caller may see and change: someone else's channel is 404.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from adapters.inbound.http.api.operations import ID_PARAMETER, ApiCall, Operation
from adapters.inbound.http.api.schema import JsonSchema
from core.domain.channel import Channel
from core.domain.ids import ChannelId
from core.domain.money import Money
from core.domain.tier import MAX_DURATION_DAYS, MAX_STARS, MAX_TIERS, RENEWAL_DAYS, Tier, TierKind
from core.domain.trial import MAX_TRIAL_DAYS
from core.ports.api_tokens import ApiScope
from core.services.dashboard import MAX_REASON, OwnerDashboard
from core.services.dashboard_repost import RepostOffer
from core.services.overview import WINDOWS, Overview, Tally, page_number, window_days

__all__ = ["CHANNEL", "ChannelOperations", "channel_json"]

_MONEY: JsonSchema = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "string", "description": "A decimal number, exact."},
        "currency": {"type": "string"},
    },
}
_MAYBE_MONEY: JsonSchema = {
    "type": ["object", "null"],
    **{k: v for k, v in _MONEY.items() if k != "type"},
}
_TIER: JsonSchema = {
    "type": "object",
    "required": [
        "number",
        "price",
        "span",
        "duration_days",
        "ends_on",
        "stars_price",
        "stars_renews",
    ],
    "properties": {
        "number": {"type": "integer", "minimum": 1, "maximum": MAX_TIERS},
        "price": _MONEY,
        "span": {
            "type": "string",
            "enum": [kind.value for kind in TierKind],
            "description": "days: duration_days from the purchase (or from the end of the "
            "term it extends); lifetime: for ever; until: to the end of ends_on (UTC).",
        },
        "duration_days": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_DURATION_DAYS,
            "description": "0 for a lifetime or a season.",
        },
        "ends_on": {
            "type": ["string", "null"],
            "format": "date",
            "description": "A season's last day (span until); null otherwise.",
        },
        "stars_price": _MAYBE_MONEY,
        "stars_renews": {
            "type": "boolean",
            "description": "Sold for Stars as a Telegram Stars subscription, charged "
            f"again every {RENEWAL_DAYS} days until cancelled.",
        },
    },
}
_TRIAL: JsonSchema = {
    "type": ["object", "null"],
    "required": ["days", "price"],
    "properties": {
        "days": {"type": "integer", "minimum": 1, "maximum": MAX_TRIAL_DAYS},
        "price": {**_MAYBE_MONEY, "description": "null: the trial is free."},
    },
    "description": "The trial the offer shows, once per person; null: none.",
}
_BUNDLED: JsonSchema = {
    "type": "array",
    "description": "The other channels a subscription to this one also opens, in the "
    "order they were added.",
    "items": {
        "type": "object",
        "required": ["id", "title"],
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}},
    },
}
CHANNEL: JsonSchema = {
    "type": "object",
    "required": [
        "id",
        "title",
        "owner_id",
        "open_chat_id",
        "closed_chat_id",
        "created_at",
        "sales_paused",
        "pause_reason",
        "tiers",
        "donations",
        "trial",
        "bundle",
        "stars_link",
    ],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "owner_id": {"type": "integer"},
        "open_chat_id": {"type": "integer"},
        "closed_chat_id": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "sales_paused": {"type": "boolean"},
        "pause_reason": {"type": ["string", "null"]},
        "tiers": {"type": "array", "items": _TIER},
        "donations": {
            "type": ["object", "null"],
            "required": ["minimum", "maximum"],
            "properties": {"minimum": _MONEY, "maximum": _MONEY},
        },
        "trial": _TRIAL,
        "bundle": _BUNDLED,
        "stars_link": {
            "type": ["object", "null"],
            "required": ["url", "stars"],
            "description": "Telegram's own Stars subscription link the offer shows "
            f"(charged every {RENEWAL_DAYS} days by Telegram); null: none.",
            "properties": {
                "url": {"type": "string"},
                "stars": {"type": "integer", "minimum": 1, "maximum": MAX_STARS},
            },
        },
    },
}
_COUNTS = ("new", "renewed", "churned", "donations", "refunds")
_BY_CURRENCY: JsonSchema = {
    "type": "object",
    "description": "By currency code: an amount, as a decimal string.",
    "additionalProperties": {"type": "string"},
}
_TALLY: JsonSchema = {
    "type": "object",
    "required": ["takings", "donated", "refunded", *_COUNTS],
    "properties": {
        "takings": {
            **_BY_CURRENCY,
            "description": "Subscriptions and donations at the price asked, by currency "
            "(refunds not taken off).",
        },
        "donated": _BY_CURRENCY,
        "refunded": _BY_CURRENCY,
        **{name: {"type": "integer", "minimum": 0} for name in _COUNTS},
    },
}
_OVERVIEW: JsonSchema = {
    "type": "object",
    "required": ["days", "active", "window", "by_day", "by_month", "channels", "page", "pages"],
    "properties": {
        "days": {"type": "integer", "enum": list(WINDOWS)},
        "active": {
            "type": ["integer", "null"],
            "minimum": 0,
            "description": "Active subscribers of all the channels shown; null in an "
            "operator's view of every channel (see each channel's line).",
        },
        "window": _TALLY,
        "by_day": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["day", "figures"],
                "properties": {"day": {"type": "string", "format": "date"}, "figures": _TALLY},
            },
        },
        "by_month": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["month", "figures"],
                "properties": {
                    "month": {"type": "string", "description": "YYYY-MM, UTC"},
                    "figures": _TALLY,
                },
            },
        },
        "channels": {
            "type": "array",
            "description": "This page's channels, by title (50 a page).",
            "items": {
                "type": "object",
                "required": ["id", "title", "owner_id", "active", "figures"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "owner_id": {"type": "integer"},
                    "active": {"type": "integer", "minimum": 0},
                    "figures": _TALLY,
                },
            },
        },
        "page": {"type": "integer", "minimum": 1},
        "pages": {"type": "integer", "minimum": 1},
    },
}
_OVERVIEW_QUERY: dict[str, JsonSchema] = {
    "days": {"type": "string", "enum": [str(days) for days in WINDOWS]},
    "channel_id": {**ID_PARAMETER, "description": "Only this channel's figures."},
    "page": {"type": "string", "pattern": "^[1-9][0-9]{0,5}$"},
}
_CHANNELS: JsonSchema = {
    "type": "object",
    "required": ["channels"],
    "properties": {"channels": {"type": "array", "items": CHANNEL}},
}
_REASON: JsonSchema = {
    "type": "object",
    "required": ["reason"],
    "additionalProperties": False,
    "properties": {
        "reason": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_REASON,
            "description": "Why; kept in the audit log.",
        }
    },
}
_CHANGED: JsonSchema = {
    "type": "object",
    "required": ["changed", "channel"],
    "properties": {
        "changed": {
            "type": "boolean",
            "description": "False when sales already were so (or the bot still lacks rights).",
        },
        "channel": CHANNEL,
    },
}
_REPOSTED: JsonSchema = {
    "type": "object",
    "required": ["posted", "refreshed", "paused", "failed"],
    "description": "What came of it: the offer posted anew or refreshed in place; or the "
    "bot lacked rights in the open channel, so sales are paused; or Telegram failed.",
    "properties": {
        name: {"type": "integer", "minimum": 0}
        for name in ("posted", "refreshed", "paused", "failed")
    },
}
_CHANNEL_ID = {"channel_id": ID_PARAMETER}


def _money(money: Money | None) -> dict[str, str] | None:
    return None if money is None else {"amount": str(money.amount), "currency": money.currency}


def _tier_json(tier: Tier) -> dict[str, Any]:
    return {
        "number": tier.number,
        "price": _money(tier.price),
        "span": tier.span.value,
        "duration_days": tier.duration_days,
        "ends_on": None if tier.ends_on is None else tier.ends_on.isoformat(),
        "stars_price": _money(tier.stars_price),
        "stars_renews": tier.stars_renews,
    }


def channel_json(channel: Channel, bundle: Sequence[Channel] = ()) -> dict[str, Any]:
    """``bundle``: the channels its subscription also opens."""
    bounds, trial, link = channel.donation_bounds, channel.trial, channel.stars_link
    return {
        "id": channel.id,
        "title": channel.title,
        "owner_id": channel.owner_id,
        "open_chat_id": channel.open_chat_id,
        "closed_chat_id": channel.closed_chat_id,
        "created_at": channel.created_at.isoformat(),
        "sales_paused": channel.sales_paused,
        "pause_reason": channel.pause_reason,
        "tiers": [_tier_json(tier) for tier in channel.tiers],
        "donations": None
        if bounds is None
        else {"minimum": _money(bounds.minimum), "maximum": _money(bounds.maximum)},
        "trial": None if trial is None else {"days": trial.days, "price": _money(trial.price)},
        "bundle": [{"id": member.id, "title": member.title} for member in bundle],
        "stars_link": None if link is None else {"url": link.url, "stars": int(link.price.amount)},
    }


def _amounts(by_currency: Mapping[str, Decimal]) -> dict[str, str]:
    return {currency: str(amount) for currency, amount in sorted(by_currency.items())}


def _tally_json(tally: Tally) -> dict[str, Any]:
    return {
        "takings": _amounts(tally.takings),
        "donated": _amounts(tally.donated),
        "refunded": _amounts(tally.refunded),
        **{name: getattr(tally, name) for name in _COUNTS},
    }


def _overview_json(figures: Overview) -> dict[str, Any]:
    return {
        "days": figures.days,
        "active": figures.active,
        "window": _tally_json(figures.window),
        "by_day": [{"day": d.isoformat(), "figures": _tally_json(t)} for d, t in figures.by_day],
        "by_month": [{"month": m, "figures": _tally_json(t)} for m, t in figures.by_month],
        "channels": [
            {
                "id": line.channel.id,
                "title": line.channel.title,
                "owner_id": int(line.channel.owner_id),
                "active": line.active,
                "figures": _tally_json(line.tally),
            }
            for line in figures.channels
        ],
        "page": figures.page,
        "pages": figures.pages,
    }


@attrs.define(eq=False)
class ChannelOperations:
    _dashboard: OwnerDashboard
    _repost: RepostOffer

    def operations(self) -> list[Operation]:
        read, write = ApiScope.READ, ApiScope.WRITE
        return [
            Operation("GET", "/overview", "getOverview",
                      "Takings, subscriptions and donations over the last 30 or 90 days and "
                      "twelve months, per day, month and channel",
                      read, self.overview, _OVERVIEW, errors=(404,), query=_OVERVIEW_QUERY),
            Operation("GET", "/channels", "listChannels", "The channels you may see",
                      read, self.channels, _CHANNELS),
            Operation("GET", "/channels/{channel_id}", "getChannel", "One channel",
                      read, self.channel, CHANNEL, parameters=_CHANNEL_ID),
            Operation("POST", "/channels/{channel_id}/pause", "pauseSales",
                      "Pause a channel's sales, saying why", write, self.pause, _CHANGED,
                      _REASON, _CHANNEL_ID, errors=(409,)),
            Operation("POST", "/channels/{channel_id}/resume", "resumeSales",
                      "Resume a channel's sales, saying why (the bot's rights are checked)",
                      write, self.resume, _CHANGED, _REASON, _CHANNEL_ID, errors=(409,)),
            Operation("POST", "/channels/{channel_id}/repost", "repostOffer",
                      "Post a channel's offer afresh in its open channel now, saying why "
                      "(as the bot's /repost: refused within its cooldown, or when the "
                      "channel has no tiers or its sales are paused)",
                      write, self.repost, _REPOSTED, _REASON, _CHANNEL_ID),
        ]  # fmt: skip

    async def overview(self, call: ApiCall) -> object:
        given = call.parameters
        chosen = given.get("channel_id")
        figures = await self._dashboard.overview(
            call.viewer,
            window_days(given.get("days")),
            None if chosen is None else ChannelId(chosen),
            page_number(given.get("page")),
        )
        return _overview_json(figures)

    async def channels(self, call: ApiCall) -> object:
        found = await self._dashboard.channels(call.viewer)
        bundled = await self._dashboard.bundled(found)
        return {"channels": [channel_json(c, bundled.get(c.id, ())) for c in found]}

    async def channel(self, call: ApiCall) -> object:
        return await self._json(await self._dashboard.channel(call.viewer, self._id(call)))

    async def pause(self, call: ApiCall) -> object:
        channel_id = self._id(call)
        changed = await self._dashboard.pause(call.viewer, channel_id, call.body["reason"])
        channel = await self._dashboard.channel(call.viewer, channel_id)
        return {"changed": changed, "channel": await self._json(channel)}

    async def resume(self, call: ApiCall) -> object:
        outcome = await self._dashboard.resume(call.viewer, self._id(call), call.body["reason"])
        return {"changed": outcome.resumed, "channel": await self._json(outcome.channel)}

    async def _json(self, channel: Channel) -> dict[str, Any]:
        bundled = await self._dashboard.bundled([channel])
        return channel_json(channel, bundled.get(channel.id, ()))

    async def repost(self, call: ApiCall) -> object:
        report = await self._repost.repost(call.viewer, self._id(call), call.body["reason"])
        return {
            "posted": report.posted,
            "refreshed": report.refreshed,
            "paused": report.paused,
            "failed": report.failed,
        }

    @staticmethod
    def _id(call: ApiCall) -> ChannelId:
        return ChannelId(call.parameters["channel_id"])
