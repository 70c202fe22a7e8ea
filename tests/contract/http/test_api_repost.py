"""``POST /api/v1/channels/{channel_id}/repost`` over a real socket (issue 20): the
owner's write token posts a fresh offer, audited with the reason; the bot's cooldown
holds; a read token, another owner (404 as for a missing channel, see test_api) and
an operator on someone else's channel post nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.domain.audit import AuditEvent
from tests.contract.http.api_site import OPERATOR, OTHER_OWNER, ApiSite, api_site
from tests.contract.http.shop import OPEN, OWNER


@pytest.fixture
async def site() -> AsyncIterator[ApiSite]:
    async with api_site() as s:
        yield s


def _repost(channel_id: str) -> str:
    return f"/api/v1/channels/{channel_id}/repost"


async def _reposts(site: ApiSite) -> list[AuditEvent]:
    async with site.shop.uow() as tx:
        return [e for e in await tx.audit.all() if e.action == "channel.offer_reposted"]


async def _status(site: ApiSite, answer: Any) -> int:
    status: int = answer.status
    if status != 200:
        assert answer.content_type == "application/problem+json", await answer.text()
    return status


async def test_the_owner_reposts_with_a_reason_and_it_is_audited(site: ApiSite) -> None:
    headers = await site.bearer()

    answer = await site.client.post(
        _repost(site.channel_id), json={"reason": "new season"}, headers=headers
    )

    assert answer.status == 200, await answer.text()
    assert await answer.json() == {"posted": 1, "refreshed": 0, "paused": 0, "failed": 0}
    assert len(site.shop.messenger.visible(OPEN)) == 1
    [event] = await _reposts(site)
    assert (event.actor, event.subject) == (f"user:{OWNER}", f"channel:{site.channel_id}")
    assert event.details["reason"] == "new season"


async def test_a_second_repost_within_the_cooldown_is_a_400(site: ApiSite) -> None:
    headers = await site.bearer()
    first = await site.client.post(_repost(site.channel_id), json={"reason": "a"}, headers=headers)
    assert first.status == 200

    again = await site.client.post(_repost(site.channel_id), json={"reason": "b"}, headers=headers)

    assert await _status(site, again) == 400
    assert "minute" in (await again.json())["detail"]
    assert len(site.shop.messenger.sent) == 1 and len(await _reposts(site)) == 1


async def test_a_read_token_an_operator_and_another_owner_post_nothing(site: ApiSite) -> None:
    body = {"reason": "x"}
    read = await site.bearer(scope="read")
    operator = await site.bearer(user=OPERATOR)
    other = await site.bearer(user=OTHER_OWNER)

    by_read = await site.client.post(_repost(site.channel_id), json=body, headers=read)
    by_operator = await site.client.post(_repost(site.channel_id), json=body, headers=operator)
    by_other = await site.client.post(_repost(site.channel_id), json=body, headers=other)

    assert await _status(site, by_read) == 403
    assert await _status(site, by_operator) == 403
    assert await _status(site, by_other) == 404
    assert site.shop.messenger.sent == [] and await _reposts(site) == []


async def test_a_paused_channel_is_not_reposted(site: ApiSite) -> None:
    headers = await site.bearer()
    paused = await site.client.post(
        f"/api/v1/channels/{site.channel_id}/pause", json={"reason": "holiday"}, headers=headers
    )
    assert paused.status == 200

    answer = await site.client.post(_repost(site.channel_id), json={"reason": "x"}, headers=headers)

    assert await _status(site, answer) == 400
    assert site.shop.messenger.sent == [] and await _reposts(site) == []
