"""The API's subscribers, payments, exports and alerts operations over a real socket:
what each answers and changes for the channel's owner, what another owner gets (404,
exactly as for nothing, and nothing changes), what a read token gets on an action
(403), keyset pages through ``?cursor=``, query parameters checked, and the shared
middlewares answering problem details under ``/api/v1`` (and JSON elsewhere)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from adapters.inbound.http.app import BucketSize
from adapters.inbound.http.errors import error_middleware
from core.domain.coupon import Discount
from core.domain.ids import ChannelId, UserId
from core.domain.money import Money
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.alert_log import RecordedAlert
from core.ports.alerts import Severity
from core.ports.errors import Unavailable
from core.services.coupons import CouponTerms
from core.services.dashboard_exports import HEADERS, ExportKind
from tests.contract.http.api_site import OPERATOR, OTHER_OWNER, PAYER, ApiSite, api_site
from tests.contract.http.shop import OWNER, serve

PROBLEM = "application/problem+json"


@pytest.fixture
async def site() -> AsyncIterator[ApiSite]:
    async with api_site() as s:
        yield s


async def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status == status, await answer.text()
    assert answer.content_type == PROBLEM
    body: dict[str, Any] = await answer.json()
    assert body["status"] == status and body["detail"]
    return body


async def _ok(answer: Any, status: int = 200) -> Any:
    assert answer.status == status, await answer.text()
    assert answer.content_type == "application/json"
    return await answer.json()


def _one(site: ApiSite, user: UserId = PAYER, channel_id: str | None = None) -> str:
    return f"/api/v1/channels/{channel_id or site.channel_id}/subscribers/{user}"


async def _subscription(site: ApiSite, user: UserId = PAYER) -> Subscription | None:
    async with site.shop.uow() as tx:
        return await tx.subscriptions.find(user, ChannelId(site.channel_id))


async def _audit(site: ApiSite, action: str) -> list[tuple[str, str]]:
    async with site.shop.uow() as tx:
        events = await tx.audit.all()
    return [(e.actor, e.details.get("reason", "")) for e in events if e.action == action]


async def _grant(site: ApiSite, headers: dict[str, str], user: UserId, days: int = 10) -> Any:
    answer = await site.client.post(
        _one(site, user) + "/grant", json={"days": days, "reason": "a gift"}, headers=headers
    )
    return await _ok(answer)


# ---------------------------------------------------------------- subscribers


async def test_granting_days_starts_a_subscription_and_answers_the_record(site: ApiSite) -> None:
    headers = await site.bearer()
    record = await _grant(site, headers, PAYER)
    sub = await _subscription(site)
    assert sub is not None and sub.status is SubscriptionStatus.ACTIVE
    assert sub.expires_at == site.shop.clock.now() + timedelta(days=10)
    assert record["subscription"]["id"] == sub.id
    assert record["subscription"]["expires_at"] == sub.expires_at.isoformat()
    assert (record["user_id"], record["channel_title"], record["can_act"]) == (
        PAYER,
        "Alpha Signals",
        True,
    )
    assert [g["status"] for g in record["grants"]] == ["queued"]
    assert "subscription.comp" in [a["action"] for a in record["audit"]]
    assert await _audit(site, "subscription.comp") == [(f"user:{OWNER}", "a gift")]


async def test_the_owner_finds_subscribers_by_id_username_status_and_channel(
    site: ApiSite,
) -> None:
    headers = await site.bearer()
    await _grant(site, headers, PAYER)
    await _grant(site, headers, UserId(5002))
    await site.names.note(PAYER, "Payer_One")
    listed = await _ok(await site.client.get("/api/v1/subscribers", headers=headers))
    assert sorted(r["subscription"]["user_id"] for r in listed["subscribers"]) == [PAYER, 5002]
    assert listed["next"] is None and listed["named"] == []
    for q in (str(PAYER), "@payer_one", "PAYER_ONE"):
        found = await _ok(
            await site.client.get("/api/v1/subscribers", params={"q": q}, headers=headers)
        )
        assert [(r["subscription"]["user_id"], r["username"]) for r in found["subscribers"]] == [
            (PAYER, "payer_one")
        ], q
        assert found["named"] == [PAYER]
    params = {"status": "expired", "channel_id": site.channel_id}
    expired = await _ok(
        await site.client.get("/api/v1/subscribers", params=params, headers=headers)
    )
    assert expired["subscribers"] == []


async def test_subscribers_come_in_keyset_pages_through_the_cursor(site: ApiSite) -> None:
    headers = await site.bearer()
    users = [UserId(6000 + n) for n in range(51)]
    for n, user in enumerate(users):
        await _grant(site, headers, user, days=1 + n)
    first = await _ok(await site.client.get("/api/v1/subscribers", headers=headers))
    assert len(first["subscribers"]) == 50 and first["next"]
    second = await _ok(
        await site.client.get(
            "/api/v1/subscribers", params={"cursor": first["next"]}, headers=headers
        )
    )
    assert second["next"] is None
    seen = [r["subscription"]["user_id"] for r in first["subscribers"] + second["subscribers"]]
    assert seen == list(reversed(users))  # the latest end first, each once
    broken = await site.client.get(
        "/api/v1/subscribers", params={"cursor": "12_nosuch!"}, headers=headers
    )
    await _problem(broken, 400)


@pytest.mark.parametrize(
    "params",
    [{"status": "gone"}, {"q": "x" * 65}, {"q": "not a name!"}, {"cursor": "garbage"},
     {"channel_id": "bad id!"}, {"page": "2"}, {"q": "12\x00"}],
)  # fmt: skip
async def test_a_bad_query_parameter_is_a_400(site: ApiSite, params: dict[str, str]) -> None:
    headers = await site.bearer(scope="read")
    await _problem(
        await site.client.get("/api/v1/subscribers", params=params, headers=headers), 400
    )


async def test_a_query_parameter_given_twice_or_undeclared_is_a_400(site: ApiSite) -> None:
    headers = await site.bearer(scope="read")
    undeclared = await site.client.get("/api/v1/overview?verbose=1", headers=headers)
    assert "verbose is not expected" in (await _problem(undeclared, 400))["detail"]
    answer = await site.client.get(
        "/api/v1/subscribers?status=active&status=expired", headers=headers
    )
    body = await _problem(answer, 400)
    assert "more than once" in body["detail"]


async def test_revoking_ends_the_subscription_once_and_resend_needs_an_active_one(
    site: ApiSite,
) -> None:
    headers = await site.bearer()
    await _grant(site, headers, PAYER)
    resent = await site.client.post(
        _one(site) + "/resend", json={"reason": "lost the link"}, headers=headers
    )
    await _ok(resent)
    assert await _audit(site, "access.resent") == [(f"user:{OWNER}", "lost the link")]
    revoked = await _ok(
        await site.client.post(_one(site) + "/revoke", json={"reason": "abuse"}, headers=headers)
    )
    assert revoked["subscription"]["status"] == "revoked"
    sub = await _subscription(site)
    assert sub is not None and sub.status is SubscriptionStatus.REVOKED
    again = await site.client.post(_one(site) + "/revoke", json={"reason": "x"}, headers=headers)
    await _problem(again, 409)
    late = await site.client.post(_one(site) + "/resend", json={"reason": "x"}, headers=headers)
    await _problem(late, 409)
    assert await _audit(site, "subscription.revoked") == [(f"user:{OWNER}", "abuse")]


async def test_acting_on_someone_who_never_subscribed_is_404_but_their_record_is_empty(
    site: ApiSite,
) -> None:
    headers = await site.bearer()
    record = await _ok(await site.client.get(_one(site), headers=headers))
    assert (record["subscription"], record["payments"], record["grants"]) == (None, [], [])
    for action in ("revoke", "resend"):
        answer = await site.client.post(
            _one(site) + f"/{action}", json={"reason": "x"}, headers=headers
        )
        await _problem(answer, 404)
    too_big = await site.client.get(_one(site, UserId(9_999_999_999_999_999_999)), headers=headers)
    body = await _problem(too_big, 404)
    assert body["detail"] == "There is no such subscriber in this channel."


@pytest.mark.parametrize(
    "body",
    [{"reason": "x"}, {"days": 3}, {"days": 0, "reason": "x"}, {"days": 3651, "reason": "x"},
     {"days": "3", "reason": "x"}, {"days": 3, "reason": "  "}, {"days": 3, "reason": "x", "y": 1}],
)  # fmt: skip
async def test_a_bad_grant_is_a_400_and_grants_nothing(site: ApiSite, body: Any) -> None:
    headers = await site.bearer()
    await _problem(await site.client.post(_one(site) + "/grant", json=body, headers=headers), 400)
    assert await _subscription(site) is None


async def test_another_owner_gets_404_for_every_subscriber_operation(site: ApiSite) -> None:
    owner = await site.bearer()
    await _grant(site, owner, PAYER)
    before = await _subscription(site)
    other = await site.bearer(user=OTHER_OWNER)
    listed = await _ok(await site.client.get("/api/v1/subscribers", headers=other))
    assert listed["subscribers"] == []
    by_id = await site.client.get("/api/v1/subscribers", params={"q": str(PAYER)}, headers=other)
    assert (await _ok(by_id))["subscribers"] == []
    filtered = await site.client.get(
        "/api/v1/subscribers", params={"channel_id": site.channel_id}, headers=other
    )
    assert (await _problem(filtered, 404))["detail"] == "There is no such channel."
    for channel_id in (site.channel_id, "nosuchchannel"):
        one = _one(site, PAYER, channel_id)
        assert (await _problem(await site.client.get(one, headers=other), 404))[
            "detail"
        ] == "There is no such channel."
        for action, body in (("grant", {"days": 5, "reason": "mine"}), ("revoke", {"reason": "m"}),
                             ("resend", {"reason": "m"})):  # fmt: skip
            answer = await site.client.post(f"{one}/{action}", json=body, headers=other)
            assert (await _problem(answer, 404))["detail"] == "There is no such channel."
    assert await _subscription(site) == before


async def test_an_operator_sees_a_subscriber_but_cannot_act_in_others_channels(
    site: ApiSite,
) -> None:
    await _grant(site, await site.bearer(), PAYER)
    operator = await site.bearer(user=OPERATOR)
    record = await _ok(await site.client.get(_one(site), headers=operator))
    assert record["can_act"] is False and record["subscription"]["user_id"] == PAYER
    answer = await site.client.post(
        _one(site) + "/revoke", json={"reason": "operator"}, headers=operator
    )
    await _problem(answer, 403)
    sub = await _subscription(site)
    assert sub is not None and sub.status is SubscriptionStatus.ACTIVE


async def test_a_read_token_is_refused_every_action_with_403(site: ApiSite) -> None:
    read = await site.bearer(scope="read")
    writes = [op for op in site.api.operations() if op.scope.value == "write"]
    assert len(writes) == 7
    for operation in writes:
        path = "/api/v1" + operation.path.replace("{channel_id}", site.channel_id).replace(
            "{user_id}", str(PAYER)
        ).replace("{intent_id}", site.late.id)
        answer = await site.client.post(
            path, json={"days": 3, "reason": "x"} if "days" in str(operation.request) else
            {"reason": "x"}, headers=read
        )  # fmt: skip
        body = await _problem(answer, 403)
        assert "scope write" in body["detail"], operation.operation_id
    assert await _subscription(site) is None
    async with site.shop.uow() as tx:
        assert not (await tx.intents.get(site.late.id)).is_fulfilled


# ---------------------------------------------------------------- payments


async def test_a_payment_is_found_by_any_of_its_ids_and_shows_its_late_money(
    site: ApiSite,
) -> None:
    headers = await site.bearer(scope="read")
    assert site.late.invoice_id is not None
    for q in (site.late.id, "late-1", site.late.invoice_id):
        found = await _ok(
            await site.client.get("/api/v1/payments", params={"q": q}, headers=headers)
        )
        assert [p["id"] for p in found["payments"]] == [site.late.id], q
    control = await site.client.get("/api/v1/payments", params={"q": "a\x00"}, headers=headers)
    await _problem(control, 400)
    none = await site.client.get("/api/v1/payments", params={"q": "zzz"}, headers=headers)
    assert (await _ok(none))["payments"] == []
    assert (await _ok(await site.client.get("/api/v1/payments", headers=headers)))["payments"] == []
    one = await _ok(await site.client.get(f"/api/v1/payments/{site.late.id}", headers=headers))
    assert one["intent"]["status"] == "expired" and one["channel_title"] == "Alpha Signals"
    assert [(e["payment_id"], e["outcome"]) for e in one["events"]] == [("late-1", "stale")]
    assert one["late_payment_id"] == "late-1" and one["subscription"] is None


async def test_late_money_is_granted_by_hand_once_with_a_reason(site: ApiSite) -> None:
    headers = await site.bearer()
    path = f"/api/v1/payments/{site.late.id}/grant"
    await _problem(await site.client.post(path, json={"reason": "  "}, headers=headers), 400)
    first = await _ok(await site.client.post(path, json={"reason": "paid late"}, headers=headers))
    assert first["granted"] is True
    assert first["payment"]["intent"]["fulfilled_at"] is not None
    assert first["payment"]["late_payment_id"] is None
    assert first["payment"]["subscription"]["user_id"] == site.late.user_id
    again = await _ok(await site.client.post(path, json={"reason": "again"}, headers=headers))
    assert again["granted"] is False
    assert await _audit(site, "payment.granted_by_hand") == [(f"user:{OWNER}", "paid late")]


async def test_another_owner_gets_404_for_every_payment_operation(site: ApiSite) -> None:
    other = await site.bearer(user=OTHER_OWNER)
    found = await site.client.get("/api/v1/payments", params={"q": site.late.id}, headers=other)
    assert (await _ok(found))["payments"] == []
    for intent_id in (site.late.id, "nosuchpayment0000"):
        one = f"/api/v1/payments/{intent_id}"
        assert (await _problem(await site.client.get(one, headers=other), 404))[
            "detail"
        ] == "There is no such payment."
        grant = await site.client.post(f"{one}/grant", json={"reason": "mine"}, headers=other)
        assert (await _problem(grant, 404))["detail"] == "There is no such payment."
    async with site.shop.uow() as tx:
        assert not (await tx.intents.get(site.late.id)).is_fulfilled


# ---------------------------------------------------------------- exports


async def test_exports_come_in_pages_with_the_csv_columns() -> None:
    async with api_site(export_page=2) as site:
        headers = await site.bearer()
        users = [UserId(7001), UserId(7002), UserId(7003)]
        for user in users:
            await _grant(site, headers, user)
        rows: list[dict[str, str]] = []
        cursor: str | None = None
        pages = 0
        while True:
            params = {} if cursor is None else {"cursor": cursor}
            page = await _ok(
                await site.client.get("/api/v1/exports/subscribers", params=params, headers=headers)
            )
            rows += page["rows"]
            pages += 1
            cursor = page["next"]
            if cursor is None:
                break
        assert pages == 2
        assert [list(row) for row in rows] == [list(HEADERS[ExportKind.SUBSCRIBERS])] * 3
        assert sorted(int(row["user_id"]) for row in rows) == users
        assert {row["channel"] for row in rows} == {"Alpha Signals"}
        payments = await _ok(await site.client.get("/api/v1/exports/payments", headers=headers))
        assert [(r["intent_id"], r["fulfilled_at"]) for r in payments["rows"]] == [
            (site.late.id, "")
        ]
        other = await site.bearer(user=OTHER_OWNER)
        for kind in ExportKind:
            theirs = await site.client.get(f"/api/v1/exports/{kind}", headers=other)
            assert await _ok(theirs) == {"rows": [], "next": None}


async def test_an_unknown_export_or_a_broken_cursor_is_refused(site: ApiSite) -> None:
    headers = await site.bearer(scope="read")
    await _problem(await site.client.get("/api/v1/exports/secrets", headers=headers), 404)
    for cursor in ("A", "!!", "_w"):
        answer = await site.client.get(
            "/api/v1/exports/payments", params={"cursor": cursor}, headers=headers
        )
        await _problem(answer, 400)


# ---------------------------------------------------------------- alerts


async def test_alerts_show_an_owner_theirs_and_an_operator_all(site: ApiSite) -> None:
    now = site.shop.clock.now()
    for title, channel in (("mine", site.channel_id), ("theirs", site.other_channel_id),
                           ("nobody's", None)):  # fmt: skip
        await site.alert_log.record(
            RecordedAlert(now, Severity.WARNING, title, f"k:{title}",
                          None if channel is None else ChannelId(channel), {"order": "o-1"})
        )  # fmt: skip
    owner = await _ok(
        await site.client.get("/api/v1/alerts", headers=await site.bearer(scope="read"))
    )
    assert [(a["title"], a["channel_id"], a["details"]) for a in owner["alerts"]] == [
        ("mine", site.channel_id, {"order": "o-1"})
    ]
    operator = await _ok(
        await site.client.get("/api/v1/alerts", headers=await site.bearer(user=OPERATOR))
    )
    assert sorted(a["title"] for a in operator["alerts"]) == ["mine", "nobody's", "theirs"]


# ---------------------------------------------------------------- the shared middlewares


async def test_the_address_rate_limit_answers_problem_details_under_the_api_only() -> None:
    async with api_site(ip_bucket=BucketSize(2, 0.001)) as site:
        answers = [await site.client.get("/api/v1/openapi.json") for _ in range(3)]
        assert [a.status for a in answers[:2]] == [200, 200]
        body = await _problem(answers[2], 429)
        assert body["title"] == "Too Many Requests" and body["type"] == "about:blank"
        assert int(answers[2].headers["Retry-After"]) >= 1
        elsewhere = await site.client.get("/no/such/page")
        assert elsewhere.status == 429 and elsewhere.content_type == "application/json"
        assert await elsewhere.json() == {"error": "too many requests; slow down"}


async def test_the_error_middleware_answers_problem_details_under_the_api_only() -> None:
    async def boom(request: web.Request) -> web.StreamResponse:
        raise RuntimeError("a bug")

    async def gone(request: web.Request) -> web.StreamResponse:
        raise web.HTTPGone()

    async def busy(request: web.Request) -> web.StreamResponse:
        raise Unavailable("the store is down", retry_after=2.5)

    app = web.Application(middlewares=[error_middleware])
    for prefix in ("/api/v1", "/site"):
        app.router.add_get(prefix + "/boom", boom)
        app.router.add_get(prefix + "/gone", gone)
        app.router.add_get(prefix + "/busy", busy)
    async with serve(app) as client:
        crashed = await _problem(await client.get("/api/v1/boom"), 500)
        assert crashed["detail"] == "internal error" and len(crashed["reference"]) == 16
        assert "a bug" not in str(crashed)
        assert (await _problem(await client.get("/api/v1/gone"), 410))["title"] == "Gone"
        waiting = await client.get("/api/v1/busy")
        await _problem(waiting, 503)
        assert waiting.headers["Retry-After"] == "3"
        site_crash = await client.get("/site/boom")
        assert site_crash.status == 500 and site_crash.content_type == "application/json"
        assert (await site_crash.json())["error"] == "internal error"
        assert await (await client.get("/site/gone")).json() == {"error": "Gone"}
        assert (await client.get("/site/busy")).content_type == "application/json"


async def test_an_operator_may_grant_late_money_in_any_channel(site: ApiSite) -> None:
    operator = await site.bearer(user=OPERATOR)
    answer = await site.client.post(
        f"/api/v1/payments/{site.late.id}/grant",
        json={"reason": "support ticket"},
        headers=operator,
    )
    assert (await _ok(answer))["granted"] is True
    assert await _audit(site, "payment.granted_by_hand") == [(f"user:{OPERATOR}", "support ticket")]


# ---------------------------------------------------------------- plans and coupons


async def test_a_channel_shows_its_tiers_spans_stars_renewal_trial_and_bundle(
    site: ApiSite,
) -> None:
    second = await site.add_plans()
    headers = await site.bearer(scope="read")
    one = await _ok(await site.client.get(f"/api/v1/channels/{site.channel_id}", headers=headers))
    assert [
        (t["number"], t["span"], t["duration_days"], t["ends_on"], t["price"]["amount"])
        for t in one["tiers"]
    ] == [
        (1, "days", 30, None, "10"),
        (2, "lifetime", 0, None, "99.50"),
        (3, "until", 0, "2027-03-31", "40"),
    ]
    month = one["tiers"][0]
    assert month["stars_price"] == {"amount": "500", "currency": "XTR"} and month["stars_renews"]
    assert not one["tiers"][1]["stars_renews"] and one["tiers"][1]["stars_price"] is None
    assert one["trial"] == {"days": 3, "price": {"amount": "2", "currency": "USD"}}
    assert one["bundle"] == [{"id": second, "title": "Alpha Extra"}]
    assert one["stars_link"] == {"url": "https://t.me/+stars0001", "stars": 250}
    listed = await _ok(await site.client.get("/api/v1/channels", headers=headers))
    by_id = {c["id"]: c for c in listed["channels"]}
    assert by_id[site.channel_id]["bundle"] == one["bundle"] and by_id[second]["bundle"] == []


async def test_coupons_list_the_owners_own_codes_with_their_uses(site: ApiSite) -> None:
    channel = ChannelId(site.channel_id)
    later = site.shop.clock.now() + timedelta(days=7)
    await site.coupons.create(
        OWNER, CouponTerms(Discount.off_percent(20), "SPRING-20", channel, 50, later, tier=1)
    )
    await site.coupons.create(
        OWNER, CouponTerms(Discount.off_amount(Money.of("3", "USD")), "THREE")
    )
    await site.coupons.create(OWNER, CouponTerms(Discount.free_days(5), "GIFT5", channel))
    await site.coupons.switch_off(OWNER, "gift5")
    other = ChannelId(site.other_channel_id)
    await site.coupons.create(OTHER_OWNER, CouponTerms(Discount.free_days(2), "THEIRS", other))
    mine = await _ok(
        await site.client.get("/api/v1/coupons", headers=await site.bearer(scope="read"))
    )
    by_code = {c["code"]: c for c in mine["coupons"]}
    assert sorted(by_code) == ["GIFT5", "SPRING-20", "THREE"]
    spring = by_code["SPRING-20"]
    assert (spring["channel_id"], spring["tier"], spring["max_uses"], spring["uses_left"]) == (
        site.channel_id,
        1,
        50,
        50,
    )
    assert spring["discount"] == {"kind": "percent", "percent": 20, "amount": None, "days": None}
    assert spring["expires_at"] == later.isoformat() and spring["active"]
    three = by_code["THREE"]
    assert three["channel_id"] is None and three["uses_left"] is None
    assert three["discount"]["amount"] == {"amount": "3", "currency": "USD"}
    assert by_code["GIFT5"]["active"] is False and by_code["GIFT5"]["discount"]["days"] == 5
    theirs = await _ok(
        await site.client.get(
            "/api/v1/coupons", headers=await site.bearer(OTHER_OWNER, scope="read")
        )
    )
    assert [c["code"] for c in theirs["coupons"]] == ["THEIRS"]
