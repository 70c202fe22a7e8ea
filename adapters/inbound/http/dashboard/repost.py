"""Reposting a channel's offer from the Channels page
(``POST /dashboard/channels/{channel_id}/repost``, issue 20): the bot's ``/repost``
with a reason, for the channel's owner only (see
:class:`~core.services.dashboard_repost.RepostOffer`), then back to the Channels page
with a notice of what came of it."""

from __future__ import annotations

import attrs
from aiohttp import web

from adapters.inbound.http.dashboard.pages import Dashboard
from adapters.inbound.http.routes import Route
from core.domain.ids import ChannelId
from core.services.dashboard_repost import RepostOffer
from core.services.publish_posts import PublishReport

REPOST_PATH = "/dashboard/channels/{channel_id}/repost"


def repost_notice(report: PublishReport) -> str:
    """The Channels page's notice for ``report`` (its template words each)."""
    if report.posted or report.refreshed:
        return "reposted"
    return "repost-paused" if report.paused else "repost-failed"


@attrs.define(eq=False)
class RepostSection:
    """A :class:`~adapters.inbound.http.dashboard.pages.Section`."""

    _repost: RepostOffer

    def routes(self, site: Dashboard) -> list[Route]:
        async def repost(request: web.Request) -> web.StreamResponse:
            _session, viewer, form = await site.checked_form(request)
            channel_id = ChannelId(request.match_info["channel_id"])
            report = await self._repost.repost(viewer, channel_id, form.get("reason", ""))
            raise web.HTTPSeeOther(f"/dashboard/channels?notice={repost_notice(report)}")

        return [Route("POST", REPOST_PATH, site.page(repost), "dashboard.repost")]
