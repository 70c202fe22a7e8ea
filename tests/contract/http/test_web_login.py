"""Log in with Telegram (OpenID Connect) over real sockets: the dashboard's aiohttp app
against the Telegram emulator's OIDC provider. The sign-in page offers Telegram and
the bot (only the bot without a client id), in the browser's language, and is where a
logged-out /dashboard goes. The whole flow logs the owner in; a
callback with another state, a replayed callback, a code from another browser's login
(PKCE mismatch), a tampered flow cookie, a declined login and a non-owner are 403 and
log nobody in. The provider's client is also held to the emulator's strictness:
a reused code, a wrong verifier or redirect URI are refused, and a rotated key is
fetched once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlsplit

import aiohttp
import attrs
import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.inbound.http.app import build_app
from adapters.inbound.http.dashboard import Dashboard, DashboardSettings
from adapters.inbound.http.dashboard.signin import SignIn, SignInSettings, code_challenge
from adapters.outbound.memory import InMemoryNonceStore
from adapters.outbound.memory.dashboard import InMemoryChannelFigures, InMemorySessionStore
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.oidc import OpenIdConnectProvider
from adapters.outbound.system.clock import SystemClock
from adapters.outbound.system.ids import RandomIdGenerator
from composition.demo.environment import free_port
from core.domain.signing import MacKeyring
from core.ports.errors import Unavailable
from core.ports.security import Secret
from core.ports.web_login import AuthorizationRequest, CodeExchange, WebLoginRefused
from core.services.channel_settings import ChangeSales
from core.services.dashboard import OwnerDashboard
from core.services.dashboard_sessions import DashboardSessions
from core.services.resume_sales import ResumeSales
from sandbox.telegram.server import TelegramEmulator
from tests.contract.http.shop import OWNER, Client, build_shop, make_deps, nowpayments_gateway

BOT_TOKEN = "123456:dashboard-test-token-abcdefghijklmnop"
CLIENT_ID, CLIENT_SECRET = "123456", "oidc-client-secret-" + "c" * 20
STRANGER = 4242


@attrs.frozen
class Site:
    client: Client
    telegram: TelegramEmulator
    provider: OpenIdConnectProvider
    public_url: str
    http: aiohttp.ClientSession

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/dashboard/oidc/callback"


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with built(oidc=True) as running:
        yield running


@asynccontextmanager
async def built(*, oidc: bool, secure: bool = False) -> AsyncIterator[Site]:
    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    shop = build_shop(uow)
    await shop.open_channel()
    clock = SystemClock()  # the emulator signs with the real time
    sales = ChangeSales(uow, clock)
    nonces = InMemoryNonceStore(clock)
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    async with (
        TelegramEmulator(BOT_TOKEN) as telegram,
        aiohttp.ClientSession() as http,
        nowpayments_gateway() as gateway,
    ):
        telegram.add_user(int(OWNER), "Olivia", username="olivia")
        telegram.oidc.register_client(
            CLIENT_ID, CLIENT_SECRET, [f"{public_url}/dashboard/oidc/callback"]
        )
        provider = OpenIdConnectProvider(
            http,
            clock,
            issuer=telegram.base_url,
            client_id=CLIENT_ID,
            client_secret=Secret(CLIENT_SECRET),
        )
        signin = SignIn(
            provider if oidc else None,
            MacKeyring((b"k" * 32,)),
            nonces,
            clock,
            SignInSettings(public_url, secure_cookie=secure, bot_username="paygate_test_bot"),
        )
        dashboard = Dashboard(
            OwnerDashboard(
                uow,
                clock,
                InMemoryChannelFigures(store),
                sales,
                ResumeSales(uow, shop.chat, sales),
                frozenset(),
            ),
            DashboardSessions(InMemorySessionStore(clock), clock, RandomIdGenerator()),
            nonces,
            clock,
            DashboardSettings((BOT_TOKEN,), secure_cookie=False),
            (signin,),
        )
        deps = attrs.evolve(make_deps(shop, gateway), dashboard=dashboard)
        server = TestServer(build_app(deps), host="127.0.0.1", port=port)
        async with TestClient(server) as client:
            yield Site(client, telegram, provider, public_url, http)


async def authorize(site: Site, client: Client | None = None) -> str:
    """The browser starts a login and the emulated Telegram approves it: the callback
    URL the browser is sent back to (our site, with code and state)."""
    client = client or site.client
    start = await client.get("/dashboard/oidc/start", allow_redirects=False)
    assert start.status == 303, await start.text()
    location = start.headers["Location"]
    assert location.startswith(f"{site.telegram.base_url}/auth?")
    async with aiohttp.ClientSession() as browser:
        answer = await browser.get(location, allow_redirects=False)
        assert answer.status == 302, await answer.text()
        back = answer.headers["Location"]
    assert back.startswith(site.redirect_uri + "?")
    return back.removeprefix(site.public_url)


async def test_the_sign_in_page_offers_telegram_and_the_bot(site: Site) -> None:
    page = await site.client.get("/dashboard/signin")
    text = await page.text()
    assert page.status == 200
    assert 'href="/dashboard/oidc/start"' in text and "Log in with Telegram" in text
    assert "/dashboard to @paygate_test_bot" in text
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


async def test_the_sign_in_page_speaks_the_browsers_language(site: Site) -> None:
    page = await site.client.get("/dashboard/signin", headers={"Accept-Language": "ru"})
    text = await page.text()
    assert "Войти через Telegram" in text and "Log in with Telegram" not in text


async def test_without_a_client_id_the_page_offers_only_the_bot() -> None:
    async with built(oidc=False) as site:
        page = await site.client.get("/dashboard/signin")
        text = await page.text()
        start = await site.client.get("/dashboard/oidc/start", allow_redirects=False)
        logged_out = await site.client.get("/dashboard", allow_redirects=False)
    assert page.status == 200 and "Log in with Telegram" not in text
    assert "/dashboard to @paygate_test_bot" in text
    assert start.status == 404
    assert logged_out.headers["Location"] == "/dashboard/signin"


async def test_in_production_the_flow_cookie_is_host_only_and_secure() -> None:
    async with built(oidc=True, secure=True) as site:
        start = await site.client.get("/dashboard/oidc/start", allow_redirects=False)
    flow = start.cookies["__Host-paygate-oidc"]
    assert flow["secure"] and flow["httponly"] and flow["path"] == "/"
    assert not flow["domain"] and flow["max-age"] == "600"


async def test_the_overview_sends_a_logged_out_browser_to_sign_in(site: Site) -> None:
    answer = await site.client.get("/dashboard", allow_redirects=False)
    assert (answer.status, answer.headers["Location"]) == (303, "/dashboard/signin")


async def test_the_owner_logs_in_with_telegram_and_sees_the_overview(site: Site) -> None:
    site.telegram.oidc.sign_in(int(OWNER))
    start = await site.client.get("/dashboard/oidc/start", allow_redirects=False)
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["scope"] == ["openid profile"]
    assert query["redirect_uri"] == [site.redirect_uri] and query["client_id"] == [CLIENT_ID]
    flow = start.cookies["paygate-oidc"]
    assert flow["httponly"] and flow["samesite"] == "Lax"
    callback = await authorize(site)
    answer = await site.client.get(callback, allow_redirects=False)
    assert answer.status == 303, await answer.text()
    assert answer.headers["Location"] == "/dashboard"
    assert answer.cookies["paygate"]["httponly"]
    assert answer.cookies["paygate-oidc"].value == ""  # the flow cookie is gone
    page = await site.client.get("/dashboard")
    assert page.status == 200 and "Alpha Signals" in await page.text()
    again = await site.client.get("/dashboard/signin", allow_redirects=False)
    assert (again.status, again.headers["Location"]) == (303, "/dashboard")
    assert site.telegram.oidc.exchanges[-1] == ("ok", 200)


async def test_a_callback_with_another_state_is_refused(site: Site) -> None:
    site.telegram.oidc.sign_in(int(OWNER))
    callback = await authorize(site)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    answer = await site.client.get(callback.replace(state, "x" * len(state)))
    assert answer.status == 403 and "Login refused" in await answer.text()
    assert site.telegram.oidc.exchanges == []  # the code was never even presented
    assert (await site.client.get("/dashboard", allow_redirects=False)).status == 303


async def test_a_replayed_callback_is_refused(site: Site) -> None:
    site.telegram.oidc.sign_in(int(OWNER))
    callback = await authorize(site)
    cookie = site.client.session.cookie_jar.filter_cookies(site.client.make_url("/"))
    flow = cookie["paygate-oidc"].value
    assert (await site.client.get(callback, allow_redirects=False)).status == 303
    # The same callback again, the flow cookie put back as a thief of both would.
    site.client.session.cookie_jar.update_cookies(
        {"paygate-oidc": flow}, response_url=site.client.make_url("/")
    )
    again = await site.client.get(callback, allow_redirects=False)
    assert again.status == 403 and "already used" in await again.text()


async def test_a_code_from_another_browsers_login_fails_pkce(site: Site) -> None:
    """Code injection: an attacker's code, delivered with the victim's own state."""
    site.telegram.oidc.sign_in(STRANGER)
    async with TestClient(TestServer(site.client.app)) as attacker:
        attacker_callback = await _authorize_elsewhere(site, attacker)
    code = parse_qs(urlsplit(attacker_callback).query)["code"][0]
    site.telegram.oidc.sign_in(int(OWNER))
    victim = await authorize(site)
    state = parse_qs(urlsplit(victim).query)["state"][0]
    answer = await site.client.get(
        f"/dashboard/oidc/callback?code={code}&state={state}", allow_redirects=False
    )
    assert answer.status == 403 and "did not confirm who you are" in await answer.text()
    assert site.telegram.oidc.exchanges == [("invalid_grant", 400)]
    assert "paygate" not in answer.cookies


async def _authorize_elsewhere(site: Site, client: Client) -> str:
    start = await client.get("/dashboard/oidc/start", allow_redirects=False)
    async with aiohttp.ClientSession() as browser:
        answer = await browser.get(start.headers["Location"], allow_redirects=False)
    return answer.headers["Location"]


async def test_a_tampered_flow_cookie_is_refused(site: Site) -> None:
    site.telegram.oidc.sign_in(int(OWNER))
    callback = await authorize(site)
    jar = site.client.session.cookie_jar
    value = jar.filter_cookies(site.client.make_url("/"))["paygate-oidc"].value
    state, nonce, verifier, expires, tag = value.split(".")
    later = str(int(expires) + 3600)
    forged = ".".join((state, nonce, verifier, later, tag))
    jar.update_cookies({"paygate-oidc": forged}, response_url=site.client.make_url("/"))
    answer = await site.client.get(callback, allow_redirects=False)
    assert answer.status == 403 and "not started here" in await answer.text()


async def test_a_callback_without_a_started_login_is_refused(site: Site) -> None:
    answer = await site.client.get("/dashboard/oidc/callback?code=abc&state=def")
    assert answer.status == 403


async def test_a_declined_login_is_refused(site: Site) -> None:
    site.telegram.oidc.sign_in(int(OWNER))
    site.telegram.oidc.declines = True
    callback = await authorize(site)
    assert "error=access_denied" in callback
    answer = await site.client.get(callback)
    assert answer.status == 403 and "declined" in await answer.text()


async def test_someone_who_owns_nothing_is_not_let_in(site: Site) -> None:
    site.telegram.oidc.sign_in(STRANGER)
    answer = await site.client.get(await authorize(site), allow_redirects=False)
    assert answer.status == 403 and "for channel owners" in await answer.text()
    assert "paygate" not in answer.cookies


async def test_the_provider_unreachable_is_unavailable_not_a_refusal() -> None:
    async with aiohttp.ClientSession() as http:
        dead = OpenIdConnectProvider(
            http,
            SystemClock(),
            issuer=f"http://127.0.0.1:{free_port()}",
            client_id=CLIENT_ID,
            client_secret=Secret(CLIENT_SECRET),
        )
        request = AuthorizationRequest("s", "n", code_challenge("v" * 43), "http://x/cb")
        with pytest.raises(Unavailable):
            await dead.authorization_url(request)


# ----------------------------------------------------- the client against the emulator


async def code_for(site: Site, verifier: str, nonce: str = "nonce-1") -> str:
    site.telegram.oidc.sign_in(int(OWNER))
    request = AuthorizationRequest("state-1", nonce, code_challenge(verifier), site.redirect_uri)
    async with aiohttp.ClientSession() as browser:
        answer = await browser.get(
            await site.provider.authorization_url(request), allow_redirects=False
        )
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


async def test_a_code_is_exchanged_once(site: Site) -> None:
    verifier = "v" * 43
    exchange = CodeExchange(await code_for(site, verifier), verifier, site.redirect_uri, "nonce-1")
    assert await site.provider.identify(exchange) == OWNER
    with pytest.raises(WebLoginRefused, match="invalid_grant"):
        await site.provider.identify(exchange)


async def test_a_wrong_verifier_or_redirect_uri_is_refused(site: Site) -> None:
    code = await code_for(site, "v" * 43)
    with pytest.raises(WebLoginRefused, match="invalid_grant"):
        await site.provider.identify(CodeExchange(code, "w" * 43, site.redirect_uri, "nonce-1"))
    code = await code_for(site, "v" * 43)
    with pytest.raises(WebLoginRefused, match="invalid_grant"):
        await site.provider.identify(
            CodeExchange(code, "v" * 43, site.public_url + "/elsewhere", "nonce-1")
        )


async def test_a_wrong_client_secret_is_refused(site: Site) -> None:
    wrong = OpenIdConnectProvider(
        site.http,
        SystemClock(),
        issuer=site.telegram.base_url,
        client_id=CLIENT_ID,
        client_secret=Secret("not-the-secret"),
    )
    code = await code_for(site, "v" * 43)
    with pytest.raises(WebLoginRefused, match="invalid_client"):
        await wrong.identify(CodeExchange(code, "v" * 43, site.redirect_uri, "nonce-1"))


async def test_a_rotated_signing_key_is_fetched_once(site: Site) -> None:
    verifier = "v" * 43
    for _ in range(2):
        exchange = CodeExchange(await code_for(site, verifier), verifier, site.redirect_uri, "n")
        assert await site.provider.identify(attrs.evolve(exchange, nonce="nonce-1")) == OWNER
    assert site.provider.key_reads == 1
    site.telegram.oidc.rotate_key()
    exchange = CodeExchange(await code_for(site, verifier), verifier, site.redirect_uri, "nonce-1")
    assert await site.provider.identify(exchange) == OWNER
    assert site.provider.key_reads == 2
    # A token naming a key nobody published does not make us re-read again so soon.
    forged = jwt.encode(
        {"iss": site.telegram.base_url, "aud": CLIENT_ID},
        site.telegram.oidc.key,
        "RS256",
        headers={"kid": "never-published"},
    )
    with pytest.raises(WebLoginRefused, match="key the provider lacks"):
        await site.provider.verifier.verify(forged, "nonce-1")
    assert site.provider.key_reads == 2
