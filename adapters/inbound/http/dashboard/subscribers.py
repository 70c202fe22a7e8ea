"""The dashboard's Subscribers section: ``/dashboard/subscribers`` finds subscribers
(by Telegram user id or @username, status and channel, in keyset pages whose "next"
link carries the last row's key), ``/dashboard/subscribers/{channel}/{user}`` shows
one person's record in one channel, and its forms grant days by hand, revoke, or
send the access link again, each with a reason (POST, CSRF-checked by the site).

What a viewer may see and change is decided in the core
(:mod:`core.services.dashboard_subscribers`): someone else's channel or subscriber
answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from urllib.parse import urlencode

import attrs
from aiohttp import web

from adapters.catalog.language import _
from adapters.catalog.refusals import Worded
from adapters.inbound.http.dashboard.pages import Dashboard, Page
from adapters.inbound.http.routes import Route
from core.domain.ids import ChannelId, UserId
from core.domain.subscription import SubscriptionStatus
from core.services.dashboard_subscriber_actions import MAX_COMP_DAYS, SubscriberActions
from core.services.dashboard_subscribers import SubscriberSearch, user_id_of

__all__ = ["SubscribersSection"]

LIST_PATH = "/dashboard/subscribers"
_ONE = LIST_PATH + r"/{channel_id}/{user_id:[0-9]{1,19}}"
_NOTICES = ("granted", "revoked", "resent")
_NAMED_LINKS = 20


@attrs.frozen
class SubscribersSection:
    search: SubscriberSearch
    actions: SubscriberActions

    def routes(self, site: Dashboard) -> list[Route]:
        return [
            Route("GET", LIST_PATH, site.page(self._list(site)), "dashboard.subscribers"),
            Route("GET", _ONE, site.page(self._one(site)), "dashboard.subscriber"),
            Route(
                "POST",
                _ONE + "/{action:grant|revoke|resend}",
                site.page(self._act(site)),
                "dashboard.subscriber_action",
            ),
        ]

    def _list(self, site: Dashboard) -> Page:
        async def subscribers(request: web.Request) -> web.StreamResponse:
            session, viewer = await site.signed_in(request)
            query = request.query
            text, status = query.get("q", "").strip(), _status(query.get("status", ""))
            channel = query.get("channel", "")
            page = await self.search.find(
                viewer,
                text,
                status,
                ChannelId(channel) if channel else None,
                query.get("after") or None,
            )
            channels = await self.search.channels(viewer)
            wanted = {"q": text, "status": query.get("status", ""), "channel": channel}
            next_link = None
            if page.next_key is not None:
                next_link = LIST_PATH + "?" + urlencode({**wanted, "after": page.next_key})
            # The people the search named, each with a link to their record in each
            # channel (in the one filtered on), a few at most.
            shown = [c for c in channels if not channel or c.id == channel]
            named = [(user, c) for user in page.named for c in shown][:_NAMED_LINKS]
            context = {
                "viewer": viewer,
                "session": session,
                "page": page,
                "named": named,
                "channels": channels,
                "titles": {c.id: c.title for c in channels},
                "wanted": wanted,
                "statuses": [s.value for s in SubscriptionStatus],
                "next_link": next_link,
            }
            return site.render(request, "subscribers.html", context)

        return subscribers

    def _one(self, site: Dashboard) -> Page:
        async def subscriber(request: web.Request) -> web.StreamResponse:
            session, viewer = await site.signed_in(request)
            channel_id, user_id = _who(request)
            record = await self.search.record(viewer, channel_id, user_id)
            notice = request.query.get("notice", "")
            context = {
                "viewer": viewer,
                "session": session,
                "record": record,
                "notice": notice if notice in _NOTICES else "",
                "max_days": MAX_COMP_DAYS,
            }
            return site.render(request, "subscriber.html", context)

        return subscriber

    def _act(self, site: Dashboard) -> Page:
        async def act(request: web.Request) -> web.StreamResponse:
            _session, viewer, form = await site.checked_form(request)
            channel_id, user_id = _who(request)
            reason = form.get("reason", "")
            action = request.match_info["action"]
            if action == "grant":
                days = form.get("days", "").strip()
                if not (days.isascii() and days.isdigit()) or len(days) > 5:
                    raise Worded(_("The number of days is a whole number."))
                await self.actions.grant(viewer, channel_id, user_id, int(days), reason)
                notice = "granted"
            elif action == "revoke":
                await self.actions.revoke(viewer, channel_id, user_id, reason)
                notice = "revoked"
            else:
                await self.actions.resend(viewer, channel_id, user_id, reason)
                notice = "resent"
            raise web.HTTPSeeOther(f"{LIST_PATH}/{channel_id}/{user_id}?notice={notice}")

        return act


def _who(request: web.Request) -> tuple[ChannelId, UserId]:
    return ChannelId(request.match_info["channel_id"]), user_id_of(request.match_info["user_id"])


def _status(text: str) -> SubscriptionStatus | None:
    if not text:
        return None
    try:
        return SubscriptionStatus(text)
    except ValueError:
        raise Worded(_("There is no such status.")) from None
