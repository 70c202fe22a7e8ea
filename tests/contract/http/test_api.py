"""The HTTP API over a real socket: the token exchange, access tokens (expiry, key
rotation, revocation), scopes, the per-token rate limit, the channels' operations as
the owner, another owner (no IDOR) and an operator see them, problem details, and
the OpenAPI document against the routes actually served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from aiohttp import web

from adapters.inbound.http.api import Operation
from adapters.inbound.http.api.access import AUDIENCE, key_id
from adapters.inbound.http.app import BucketSize
from core.domain.ids import ChannelId
from tests.contract.http.api_site import (
    OLD_KEY,
    OPERATOR,
    OTHER_OWNER,
    PAYER,
    SIGNING_KEY,
    STRANGER,
    ApiSite,
    api_site,
)
from tests.contract.http.shop import OWNER

PROBLEM = "application/problem+json"


@pytest.fixture
async def site() -> AsyncIterator[ApiSite]:
    async with api_site() as s:
        yield s


def _path(site: ApiSite, template: str, channel_id: str | None = None) -> str:
    filled = {
        "{channel_id}": channel_id or site.channel_id,
        "{user_id}": str(PAYER),
        "{intent_id}": site.late.id,
        "{kind}": "payments",
    }
    for placeholder, value in filled.items():
        template = template.replace(placeholder, value)
    return "/api/v1" + template


def _body(operation: Operation) -> dict[str, Any] | None:
    """A body the operation's schema accepts (None for one that takes none)."""
    if operation.request is None:
        return None
    body: dict[str, Any] = {"reason": "tried"}
    if "days" in operation.request["properties"]:
        body["days"] = 3
    return body


async def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status == status, await answer.text()
    assert answer.content_type == PROBLEM
    body: dict[str, Any] = await answer.json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


async def _channel(site: ApiSite, channel_id: str) -> Any:
    async with site.shop.uow() as tx:
        return await tx.channels.get(ChannelId(channel_id))


async def test_an_api_token_is_exchanged_for_a_fifteen_minute_jwt(site: ApiSite) -> None:
    secret = await site.api_token(scope="read")
    answer = await site.client.post("/api/v1/token", headers={"Authorization": f"Bearer {secret}"})
    body = await answer.json()
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 900, "read")
    header = jwt.get_unverified_header(body["access_token"])
    assert header == {"alg": "HS256", "kid": key_id(SIGNING_KEY), "typ": "JWT"}
    claims = jwt.decode(
        body["access_token"],
        SIGNING_KEY,
        algorithms=["HS256"],
        audience=AUDIENCE,
        options={"verify_exp": False, "verify_iat": False},
    )
    token = await site.tokens.authenticate(secret)
    assert token is not None
    assert claims["sub"] == str(OWNER) and claims["scope"] == "read" and claims["tid"] == token.id
    assert claims["exp"] - claims["iat"] == 900
    assert claims["iat"] == int(site.shop.clock.now().timestamp())
    assert len(claims["jti"]) >= 16


async def test_an_unknown_api_token_is_refused_at_the_exchange(site: ApiSite) -> None:
    for header in ({"Authorization": "Bearer pgt_" + "0" * 64}, {}, {"Authorization": "Basic x"}):
        answer = await site.client.post("/api/v1/token", headers=header)
        await _problem(answer, 401)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


async def test_every_operation_without_a_token_is_401(site: ApiSite) -> None:
    operations = site.api.operations()
    assert len(operations) == 17
    for operation in operations:
        answer = await site.client.request(
            operation.method, _path(site, operation.path), json=_body(operation)
        )
        await _problem(answer, 401)
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="paygate-api"'
    assert not (await _channel(site, site.channel_id)).sales_paused


async def test_an_api_token_itself_is_no_access_token(site: ApiSite) -> None:
    secret = await site.api_token()
    answer = await site.client.get(
        "/api/v1/channels", headers={"Authorization": f"Bearer {secret}"}
    )
    body = await _problem(answer, 401)
    assert "POST /api/v1/token" in body["detail"]
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


async def test_a_forged_or_expired_access_token_is_401(site: ApiSite) -> None:
    headers = await site.bearer()
    forged = jwt.encode(
        {"sub": str(OWNER), "scope": "write", "tid": "x", "aud": AUDIENCE, "iat": 1, "exp": 2**40,
         "jti": "j"},
        b"someone-elses-key-0123456789abcdef",
        algorithm="HS256",
        headers={"kid": key_id(SIGNING_KEY)},
    )  # fmt: skip
    await _problem(
        await site.client.get("/api/v1/channels", headers={"Authorization": f"Bearer {forged}"}),
        401,
    )
    assert (await site.client.get("/api/v1/channels", headers=headers)).status == 200
    site.shop.clock.advance(timedelta(minutes=15))
    body = await _problem(await site.client.get("/api/v1/channels", headers=headers), 401)
    assert "expired" in body["detail"]


async def test_a_rotated_signing_key_keeps_old_access_tokens_until_it_is_dropped(
    site: ApiSite,
) -> None:
    site.keys.rekey((OLD_KEY,))
    headers = await site.bearer()
    site.keys.rekey((SIGNING_KEY, OLD_KEY))
    assert (await site.client.get("/api/v1/channels", headers=headers)).status == 200
    fresh = await site.bearer()
    assert jwt.get_unverified_header(fresh["Authorization"][7:])["kid"] == key_id(SIGNING_KEY)
    site.keys.rekey((SIGNING_KEY,))
    await _problem(await site.client.get("/api/v1/channels", headers=headers), 401)
    assert (await site.client.get("/api/v1/channels", headers=fresh)).status == 200


async def test_revoking_the_api_token_ends_its_access_tokens_at_once(site: ApiSite) -> None:
    secret = await site.api_token()
    headers = {"Authorization": f"Bearer {await site.exchange(secret)}"}
    assert (await site.client.get("/api/v1/overview", headers=headers)).status == 200
    token = await site.tokens.authenticate(secret)
    assert token is not None
    await site.tokens.revoke(await site.tokens.viewer(token), token.id, "leaked")
    body = await _problem(await site.client.get("/api/v1/overview", headers=headers), 401)
    assert "revoked" in body["detail"]
    await _problem(
        await site.client.post("/api/v1/token", headers={"Authorization": f"Bearer {secret}"}), 401
    )


async def test_a_read_token_reads_but_cannot_pause(site: ApiSite) -> None:
    headers = await site.bearer(scope="read")
    assert (await site.client.get("/api/v1/channels", headers=headers)).status == 200
    answer = await site.client.post(
        _path(site, "/channels/{channel_id}/pause"), json={"reason": "x"}, headers=headers
    )
    await _problem(answer, 403)
    assert 'error="insufficient_scope", scope="write"' in answer.headers["WWW-Authenticate"]
    assert not (await _channel(site, site.channel_id)).sales_paused


async def test_the_owner_sees_their_channels_and_overview(site: ApiSite) -> None:
    headers = await site.bearer(scope="read")
    listed = await (await site.client.get("/api/v1/channels", headers=headers)).json()
    assert [c["title"] for c in listed["channels"]] == ["Alpha Signals"]
    one = await (
        await site.client.get(_path(site, "/channels/{channel_id}"), headers=headers)
    ).json()
    assert one["id"] == site.channel_id and one["owner_id"] == OWNER
    assert one["tiers"] == [
        {
            "number": 1,
            "price": {"amount": "10", "currency": "USD"},
            "span": "days",
            "duration_days": 30,
            "ends_on": None,
            "stars_price": None,
            "stars_renews": False,
        }
    ]
    assert (one["sales_paused"], one["pause_reason"], one["donations"]) == (False, None, None)
    assert (one["trial"], one["bundle"], one["stars_link"]) == (None, [], None)
    overview = await (await site.client.get("/api/v1/overview", headers=headers)).json()
    assert (overview["days"], overview["active"], overview["page"], overview["pages"]) == (
        30,
        0,
        1,
        1,
    )
    assert [(v["id"], v["active"], v["figures"]["takings"]) for v in overview["channels"]] == [
        (site.channel_id, 0, {})
    ]
    assert len(overview["by_day"]) == 30 and len(overview["by_month"]) == 12
    ninety = await site.client.get("/api/v1/overview?days=90", headers=headers)
    assert (await ninety.json())["days"] == 90
    odd = await site.client.get("/api/v1/overview?days=7", headers=headers)
    assert odd.status == 400


async def test_pausing_and_resuming_with_a_reason(site: ApiSite) -> None:
    headers = await site.bearer()
    pause = _path(site, "/channels/{channel_id}/pause")
    paused = await site.client.post(pause, json={"reason": "holiday"}, headers=headers)
    body = await paused.json()
    assert paused.status == 200 and body["changed"] is True
    assert (body["channel"]["sales_paused"], body["channel"]["pause_reason"]) == (True, "holiday")
    again = await (await site.client.post(pause, json={"reason": "x"}, headers=headers)).json()
    assert again["changed"] is False
    resumed = await site.client.post(
        _path(site, "/channels/{channel_id}/resume"), json={"reason": "back"}, headers=headers
    )
    body = await resumed.json()
    assert resumed.status == 200 and body["changed"] is True
    assert not (await _channel(site, site.channel_id)).sales_paused
    async with site.shop.uow() as tx:
        events = await tx.audit.all()
    reasons = [e.details.get("reason") for e in events if e.action.startswith("channel.")]
    assert "holiday" in reasons and "back" in reasons


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'{"reason": ""}', b'{"reason": 5}', b'{"reason": "x", "more": 1}',
     b'["reason"]', b'{"reason": "   "}'],
)  # fmt: skip
async def test_a_bad_body_is_a_400_and_changes_nothing(site: ApiSite, body: bytes) -> None:
    headers = await site.bearer() | {"Content-Type": "application/json"}
    answer = await site.client.post(
        _path(site, "/channels/{channel_id}/pause"), data=body, headers=headers
    )
    await _problem(answer, 400)
    assert not (await _channel(site, site.channel_id)).sales_paused


async def test_another_owners_channel_is_404_for_every_operation_on_it(site: ApiSite) -> None:
    headers = await site.bearer(user=OTHER_OWNER)
    listed = await (await site.client.get("/api/v1/channels", headers=headers)).json()
    assert [c["title"] for c in listed["channels"]] == ["Beta Club"]
    for operation in site.api.operations():
        if "{channel_id}" not in operation.path:
            continue
        for channel_id in (site.channel_id, "nosuchchannel", "bad-id!"):
            answer = await site.client.request(
                operation.method,
                _path(site, operation.path, channel_id),
                json=_body(operation),
                headers=headers,
            )
            body = await _problem(answer, 404)
            assert body["detail"] == "There is no such channel."
    assert not (await _channel(site, site.channel_id)).sales_paused


async def test_an_operator_sees_every_channel_but_changes_none_of_others(site: ApiSite) -> None:
    headers = await site.bearer(user=OPERATOR)
    listed = await (await site.client.get("/api/v1/channels", headers=headers)).json()
    assert sorted(c["title"] for c in listed["channels"]) == ["Alpha Signals", "Beta Club"]
    answer = await site.client.post(
        _path(site, "/channels/{channel_id}/pause"), json={"reason": "x"}, headers=headers
    )
    await _problem(answer, 403)


async def test_a_token_of_someone_who_owns_nothing_is_refused(site: ApiSite) -> None:
    secret = await site.api_token(user=STRANGER)
    answer = await site.client.post("/api/v1/token", headers={"Authorization": f"Bearer {secret}"})
    await _problem(answer, 403)


async def test_each_api_token_has_its_own_rate_limit() -> None:
    async with api_site(BucketSize(3, 0.001)) as site:
        first = await site.api_token()
        headers = {"Authorization": f"Bearer {await site.exchange(first)}"}  # 1 call
        for _ in range(2):
            assert (await site.client.get("/api/v1/channels", headers=headers)).status == 200
        limited = await site.client.get("/api/v1/channels", headers=headers)
        await _problem(limited, 429)
        assert int(limited.headers["Retry-After"]) >= 1
        other = await site.bearer()
        assert (await site.client.get("/api/v1/channels", headers=other)).status == 200


def _served(app: web.Application) -> set[tuple[str, str]]:
    served = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api/v1/") and route.method not in ("HEAD", "*"):
            served.add((route.method.lower(), path))
    return served


async def test_the_openapi_document_names_exactly_the_served_operations(site: ApiSite) -> None:
    answer = await site.client.get("/api/v1/openapi.json")
    document = await answer.json()
    assert answer.status == 200 and document["openapi"] == "3.1.0"
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    app = site.client.app
    assert app is not None
    served = _served(app) - {("get", "/api/v1/openapi.json")}
    assert documented == served
    assert len(served) == 18
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "401" in operation["responses"], (method, path)
            assert operation["security"], (method, path)


async def test_a_body_past_the_limit_is_a_413_problem(site: ApiSite) -> None:
    headers = await site.bearer() | {"Content-Type": "application/json"}
    body = b'{"reason": "' + b"x" * (16 * 1024) + b'"}'
    answer = await site.client.post(
        _path(site, "/channels/{channel_id}/pause"), data=body, headers=headers
    )
    await _problem(answer, 413)
    assert not (await _channel(site, site.channel_id)).sales_paused


async def test_other_methods_and_unknown_paths_under_the_api_are_problems(site: ApiSite) -> None:
    wrong = await site.client.delete("/api/v1/channels")
    await _problem(wrong, 405)
    assert wrong.headers["Allow"] == "GET"
    pause = await site.client.get(_path(site, "/channels/{channel_id}/pause"))
    await _problem(pause, 405)
    assert pause.headers["Allow"] == "POST"
    await _problem(await site.client.get("/api/v1/nothing/here"), 404)
    assert (await site.client.get("/api/v1/openapi.json")).status == 200
