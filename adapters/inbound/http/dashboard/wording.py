"""The dashboard's read-only view of an owner's own wording (issue 22), at
``/dashboard/channels/{id}/wording``: each text they published, per kind and
language, as they wrote it and filled with sample values as subscribers would read
it (the same check and filling the bot's preview uses). Only the channel's owner
sees it; anyone else gets the 404 of a missing channel. Editing stays in the bot
(``/wording``)."""

from __future__ import annotations

import attrs
from aiohttp import web

from adapters.catalog.language import _, name_of
from adapters.catalog.markup import visible
from adapters.catalog.wording import Unusable, fill, kind_name, sample, spec
from adapters.inbound.http.dashboard.pages import Dashboard
from adapters.inbound.http.routes import Route
from core.domain.ids import ChannelId
from core.ports.wordings import Wording
from core.services.wording_preview import WordingPreview

PATH = "/dashboard/channels/{channel_id}/wording"


@attrs.frozen
class ShownWording:
    """One published text as the page shows it."""

    code: str
    """The kind's code (``offer``, ``welcome``...)."""
    kind: str
    language: str
    source: str
    """What the owner wrote, placeholders and markup as typed."""
    filled: str | None
    """What a subscriber reads with sample values (markup applied, as plain text);
    None when it cannot be used as it stands."""
    problem: str | None


def shown(wording: Wording) -> ShownWording:
    """``wording`` filled with the sample values of its own language; the page's words
    (its kind, its language's name) in the reader's."""
    rule = spec(wording.kind)
    filled: str | None
    problem: str | None
    try:
        text = fill(wording.kind, wording.text, sample(wording.kind, wording.language))
    except Unusable as exc:
        filled, problem = None, str(exc)
    except (ValueError, LookupError):  # a stray brace the save-time check let through
        filled, problem = None, _("It does not read as a template.")
    else:
        filled, problem = (visible(text) if rule.markup else text), None
    return ShownWording(
        wording.kind.value,
        kind_name(wording.kind),
        name_of(wording.language),
        wording.text,
        filled,
        problem,
    )


@attrs.frozen
class WordingSection:
    _preview: WordingPreview

    def routes(self, site: Dashboard) -> list[Route]:
        async def wording(request: web.Request) -> web.StreamResponse:
            session, viewer = await site.signed_in(request)
            found = await self._preview.of(viewer, ChannelId(request.match_info["channel_id"]))
            context = {
                "viewer": viewer,
                "session": session,
                "channel": found.channel,
                "wordings": [shown(w) for w in found.wordings],
            }
            return site.render(request, "wording.html", context)

        return [Route("GET", PATH, site.page(wording), "dashboard.wording")]
