"""The dashboard's Payments, Exports and Alerts sections over a real socket: search
and a payment's page, grant by hand (CSRF, reason, once), CSV exports streamed and
safe to open, the recent alerts; and every route tried as another owner (no IDOR)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import attrs
import pytest

from adapters.inbound.http.app import build_app
from adapters.inbound.http.dashboard import Dashboard, DashboardSettings
from adapters.inbound.http.dashboard.alerts import AlertsSection
from adapters.inbound.http.dashboard.exports import ExportsSection, safe_cell
from adapters.inbound.http.dashboard.payments import PaymentsSection
from adapters.outbound.memory import InMemoryNonceStore
from adapters.outbound.memory.alert_log import InMemoryAlertLog
from adapters.outbound.memory.dashboard import InMemoryChannelFigures, InMemorySessionStore
from adapters.outbound.memory.payment_lookup import InMemoryExportPages, InMemoryPaymentLookup
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.system.clock import SystemClock
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.channel import Channel
from core.domain.intent_state import IntentStatus
from core.domain.payment import EventOutcome, PaymentIntent, Purpose
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.ports.alert_log import RecordedAlert
from core.ports.alerts import Severity
from core.ports.payment_ledger import PaymentChanges
from core.services.channel_settings import ChangeSales
from core.services.dashboard import OwnerDashboard
from core.services.dashboard_alerts import DashboardAlerts
from core.services.dashboard_exports import DashboardExports
from core.services.dashboard_payments import DashboardPayments
from core.services.dashboard_sessions import DashboardSessions
from core.services.fulfilment import Fulfilment
from core.services.resume_sales import ResumeSales
from tests.contract.builders import at, commit_with, make_event, make_intent, saving
from tests.contract.http.shop import (
    KEYRING,
    OWNER,
    Client,
    build_shop,
    make_deps,
    nowpayments_gateway,
    serve,
)
from tests.contract.http.test_dashboard import (
    BOT_TOKEN,
    OPERATOR,
    OTHER_CLOSED,
    OTHER_OPEN,
    OTHER_OWNER,
    link,
)


@attrs.frozen
class Site:
    client: Client
    store: InMemoryStore
    uow: InMemoryUnitOfWorkFactory
    channel: Channel
    other: Channel
    late: PaymentIntent
    """Alpha Signals' subscription payment that expired, then money came (``late-1``)."""
    alerts: InMemoryAlertLog


async def _late_payment(uow: InMemoryUnitOfWorkFactory, channel: Channel) -> PaymentIntent:
    intent = attrs.evolve(
        make_intent(channel, status=IntentStatus.EXPIRED), duration_days=30, payment_id=None
    )
    await commit_with(uow, lambda tx: tx.intents.add(intent))
    late = attrs.evolve(
        make_event(intent, payment_id="late-1", status=IntentStatus.FINISHED),
        outcome=EventOutcome.STALE,
        parent_payment_id=None,
    )
    await commit_with(uow, saving(PaymentChanges(events=[late])))
    return intent


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    shop = build_shop(uow)
    channel = await shop.open_channel()
    for chat in (OTHER_OPEN, OTHER_CLOSED):
        shop.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
        shop.chat.set_member(chat, OTHER_OWNER, ChatRights(MemberStatus.CREATOR))
    other = await shop.register.execute(OTHER_OWNER, OTHER_OPEN, OTHER_CLOSED, "Beta Club")
    late = await _late_payment(uow, channel)
    clock = SystemClock()
    sales = ChangeSales(uow, clock)
    owners = OwnerDashboard(
        uow,
        clock,
        InMemoryChannelFigures(store),
        sales,
        ResumeSales(uow, shop.chat, sales),
        frozenset({OPERATOR}),
    )
    alerts = InMemoryAlertLog()
    payments = DashboardPayments(
        uow,
        clock,
        KEYRING,
        owners,
        InMemoryPaymentLookup(store),
        Fulfilment(RandomIdGenerator()),
    )
    dashboard = Dashboard(
        owners,
        DashboardSessions(InMemorySessionStore(clock), clock, RandomIdGenerator()),
        InMemoryNonceStore(clock),
        clock,
        DashboardSettings((BOT_TOKEN,), secure_cookie=False),
        (
            PaymentsSection(payments),
            ExportsSection(DashboardExports(owners, InMemoryExportPages(store), 500), clock),
            AlertsSection(DashboardAlerts(owners, alerts)),
        ),
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(make_deps(shop, gateway), dashboard=dashboard)
        async with serve(build_app(deps)) as client:
            yield Site(client, store, uow, channel, other, late, alerts)


async def login(site: Site, user: int) -> str:
    """Log ``user`` in; the session's CSRF token."""
    answer = await site.client.get(link(user), allow_redirects=False)
    assert answer.status == 303, await answer.text()
    page = await (await site.client.get("/dashboard/payments")).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def granted(site: Site) -> bool:
    async with site.uow() as tx:
        return (await tx.intents.get(site.late.id)).is_fulfilled


async def test_a_payment_is_found_and_its_page_shows_the_late_money(site: Site) -> None:
    await login(site, OWNER)
    assert site.late.invoice_id is not None
    for q in (site.late.id, "late-1", site.late.invoice_id):
        found = await (await site.client.get("/dashboard/payments", params={"q": q})).text()
        assert f'href="/dashboard/payments/{site.late.id}"' in found, q
    none = await (await site.client.get("/dashboard/payments", params={"q": "zzz"})).text()
    assert "No payment of your channels has that id." in none
    page = await site.client.get(f"/dashboard/payments/{site.late.id}")
    text = await page.text()
    assert page.status == 200
    assert "Alpha Signals" in text and "late-1" in text and "stale" in text
    assert 'action="/dashboard/payments/' in text and "Grant by hand" in text


async def test_grant_by_hand_needs_the_csrf_token_and_a_reason_then_grants_once(
    site: Site,
) -> None:
    token = await login(site, OWNER)
    path = f"/dashboard/payments/{site.late.id}/grant"
    no_token = await site.client.post(path, data={"reason": "late"})
    assert no_token.status == 403
    no_reason = await site.client.post(path, data={"csrf": token, "reason": "  "})
    assert no_reason.status == 400 and "reason is required" in await no_reason.text()
    assert not await granted(site)
    first = await site.client.post(path, data={"csrf": token, "reason": "paid late"})
    assert first.status == 200 and "Granted by hand" in await first.text()
    again = await site.client.post(path, data={"csrf": token, "reason": "paid late"})
    assert "was granted already" in await again.text()
    assert await granted(site)
    async with site.uow() as tx:
        sub = await tx.subscriptions.find(site.late.user_id, site.channel.id)
        audit = [a for a in await tx.audit.all() if a.action == "payment.granted_by_hand"]
    assert sub is not None
    assert [(a.actor, a.details["reason"]) for a in audit] == [(f"user:{OWNER}", "paid late")]
    page = await (await site.client.get(f"/dashboard/payments/{site.late.id}")).text()
    assert "payment.granted_by_hand" in page and sub.id in page
    assert 'action="/dashboard/payments/' not in page  # nothing left to grant


async def test_another_owner_gets_404_for_every_payment_route(site: Site) -> None:
    token = await login(site, OTHER_OWNER)
    search = await site.client.get("/dashboard/payments", params={"q": site.late.id})
    text = await search.text()
    assert f'href="/dashboard/payments/{site.late.id}"' not in text
    assert "No payment of your channels has that id." in text
    for path in (f"/dashboard/payments/{site.late.id}", "/dashboard/payments/nosuchpayment0000"):
        assert (await site.client.get(path)).status == 404
        answer = await site.client.post(f"{path}/grant", data={"csrf": token, "reason": "mine"})
        assert answer.status == 404
    assert (await site.client.get("/dashboard/payments/..%2Fx")).status == 404
    assert not await granted(site)


async def test_the_operator_finds_and_grants_any_payment(site: Site) -> None:
    token = await login(site, OPERATOR)
    search = await site.client.get("/dashboard/payments", params={"q": "late-1"})
    assert site.late.id in await search.text()
    path = f"/dashboard/payments/{site.late.id}/grant"
    answer = await site.client.post(path, data={"csrf": token, "reason": "support ticket 12"})
    assert answer.status == 200 and await granted(site)


async def test_pages_need_a_login(site: Site) -> None:
    for path in (
        "/dashboard/payments",
        f"/dashboard/payments/{site.late.id}",
        "/dashboard/exports",
        "/dashboard/exports/payments.csv",
        "/dashboard/alerts",
    ):
        assert (await site.client.get(path)).status == 403, path


async def _many_payments(site: Site, count: int) -> None:
    async def add(tx: object) -> None:
        for n in range(count):
            intent = make_intent(site.channel, purpose=Purpose.DONATION)
            intent.invoice_id = f"inv-{n:05d}"
            if n == 7:
                intent.invoice_id = '=HYPERLINK("http://evil")'
            await tx.intents.add(intent)  # type: ignore[attr-defined]

    await commit_with(site.uow, add)
    theirs = make_intent(site.other, purpose=Purpose.DONATION)
    await commit_with(site.uow, lambda tx: tx.intents.add(theirs))


async def test_a_large_export_is_streamed_in_full_and_safe_to_open(site: Site) -> None:
    await _many_payments(site, 5000)
    await login(site, OWNER)
    answer = await site.client.get("/dashboard/exports/payments.csv")
    assert answer.status == 200
    assert answer.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in answer.headers
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="paygate-payments-\d{4}-\d{2}-\d{2}\.csv"',
        answer.headers["Content-Disposition"],
    )
    rows = list(csv.reader(io.StringIO(await answer.text())))
    assert rows[0][:3] == ["intent_id", "channel_id", "channel"]
    assert len(rows) == 1 + 5000 + 1  # the header, the donations, the late payment
    assert {row[1] for row in rows[1:]} == {site.channel.id}
    assert len({row[0] for row in rows[1:]}) == 5001
    invoices = {row[rows[0].index("invoice_id")] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil")' in invoices
    assert not any(i.startswith("=") for i in invoices)


async def test_exports_hold_only_the_viewers_channels(site: Site) -> None:
    await _many_payments(site, 3)
    await login(site, OTHER_OWNER)
    page = await (await site.client.get("/dashboard/exports")).text()
    assert 'href="/dashboard/exports/payments.csv"' in page
    for kind in ("payments", "subscribers", "donations"):
        answer = await site.client.get(f"/dashboard/exports/{kind}.csv")
        rows = list(csv.reader(io.StringIO(await answer.text())))
        assert answer.status == 200 and len(rows) >= 1
        assert all(row[rows[0].index("channel_id")] == site.other.id for row in rows[1:]), kind
    payments = list(
        csv.reader(
            io.StringIO(await (await site.client.get("/dashboard/exports/payments.csv")).text())
        )
    )
    assert len(payments) == 2  # the header and Beta Club's one
    assert (await site.client.get("/dashboard/exports/secrets.csv")).status == 404


def test_a_cell_that_a_spreadsheet_would_run_is_prefixed() -> None:
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(risky) == "'" + risky
    assert safe_cell("plain -1") == "plain -1"
    assert safe_cell("") == ""


async def test_alerts_show_the_owners_channels_and_the_operator_sees_all(site: Site) -> None:
    for title, channel in (
        ("about alpha", site.channel.id),
        ("about beta", site.other.id),
        ("about nothing", None),
    ):
        await site.alerts.record(
            RecordedAlert(at(), Severity.WARNING, title, f"k:{title}", channel, {"intent": "-"})
        )
    await login(site, OWNER)
    text = await (await site.client.get("/dashboard/alerts")).text()
    assert "about alpha" in text and "about beta" not in text and "about nothing" not in text
    await login(site, OTHER_OWNER)
    text = await (await site.client.get("/dashboard/alerts")).text()
    assert "about beta" in text and "about alpha" not in text
    await login(site, OPERATOR)
    text = await (await site.client.get("/dashboard/alerts")).text()
    assert all(t in text for t in ("about alpha", "about beta", "about nothing"))


async def test_the_sections_speak_the_browsers_language(site: Site) -> None:
    await login(site, OWNER)
    ru = {"Accept-Language": "ru"}
    payments = await (await site.client.get("/dashboard/payments", headers=ru)).text()
    assert "Номер заказа, платежа или счёта" in payments
    page = await site.client.get(f"/dashboard/payments/{site.late.id}", headers=ru)
    assert "Выдать вручную" in await page.text()
    es = {"Accept-Language": "es"}
    exports = await (await site.client.get("/dashboard/exports", headers=es)).text()
    assert "Exportaciones" in exports and "Canales incluidos: 1" in exports
    alerts = await (await site.client.get("/dashboard/alerts", headers=es)).text()
    assert "No hay alertas recientes." in alerts
