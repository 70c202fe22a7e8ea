"""The Telegram emulator's OpenID Connect provider is as strict as RFC 6749 and RFC
7636 ask, so a client that passes against it is not passing by leniency: an unknown
client or redirect URI is an error page (never a redirect), a bad authorization
request goes back as ``error=`` with the state, and the token endpoint refuses a
missing or wrong client secret, two ways of authenticating at once, another grant
type, an expired, reused or foreign code, another redirect URI and a wrong verifier."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import jwt
import pytest

from sandbox.telegram.server import TelegramEmulator

CALLBACK = "http://127.0.0.1:9/cb"
SECRET = "client-secret-" + "x" * 20
VERIFIER = "v" * 43
CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
)
USER = 8101


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as telegram:
        telegram.add_user(USER, "Olivia", username="olivia")
        telegram.oidc.register_client("42", SECRET, [CALLBACK])
        telegram.oidc.register_client("43", SECRET + "3", [CALLBACK])
        telegram.oidc.sign_in(USER)
        yield telegram


def auth_query(**changes: str | None) -> dict[str, str]:
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": "42",
        "redirect_uri": CALLBACK,
        "scope": "openid profile",
        "state": "st-1",
        "nonce": "no-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    query.update(changes)
    return {k: v for k, v in query.items() if v is not None}


async def authorize(telegram: TelegramEmulator, **changes: str | None) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as http:
        url = f"{telegram.base_url}/auth?{urlencode(auth_query(**changes))}"
        answer = await http.get(url, allow_redirects=False)
        await answer.read()
        return answer


def redirected(answer: aiohttp.ClientResponse) -> dict[str, str]:
    assert answer.status == 302
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def code(telegram: TelegramEmulator, **changes: str | None) -> str:
    return redirected(await authorize(telegram, **changes))["code"]


async def exchange(
    telegram: TelegramEmulator,
    form: dict[str, str],
    basic: tuple[str, str] | None = ("42", SECRET),
) -> tuple[int, dict[str, Any], aiohttp.ClientResponse]:
    headers = {}
    if basic is not None:
        encoded = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {encoded}"
    async with aiohttp.ClientSession() as http:
        answer = await http.post(f"{telegram.base_url}/token", data=form, headers=headers)
        return answer.status, await answer.json(), answer


def token_form(code_: str, **changes: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code_,
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
    } | changes


async def test_discovery_names_the_endpoints_under_the_issuer(emulator: TelegramEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        document = await (
            await http.get(f"{emulator.base_url}/.well-known/openid-configuration")
        ).json()
        keys = await (await http.get(document["jwks_uri"])).json()
    assert document["issuer"] == emulator.base_url
    assert document["authorization_endpoint"] == f"{emulator.base_url}/auth"
    assert document["token_endpoint"] == f"{emulator.base_url}/token"
    assert [k["kty"] for k in keys["keys"]] == ["RSA"]


async def test_a_good_exchange_returns_a_signed_id_token(emulator: TelegramEmulator) -> None:
    status, body, answer = await exchange(emulator, token_form(await code(emulator)))
    assert status == 200 and answer.headers["Cache-Control"] == "no-store"
    jwk = jwt.PyJWK(emulator.oidc.jwks()["keys"][0])
    claims = jwt.decode(body["id_token"], jwk.key, algorithms=["RS256"], audience="42")
    assert (claims["iss"], claims["id"], claims["nonce"]) == (emulator.base_url, USER, "no-1")
    assert claims["preferred_username"] == "olivia"


async def test_client_secret_post_is_accepted(emulator: TelegramEmulator) -> None:
    form = token_form(await code(emulator), client_id="42", client_secret=SECRET)
    assert (await exchange(emulator, form, basic=None))[0] == 200


@pytest.mark.parametrize(
    ("changes", "status"),
    [({"client_id": "nobody"}, 400), ({"redirect_uri": "http://evil.example/cb"}, 400)],
)
async def test_an_unknown_client_or_redirect_uri_is_an_error_page_not_a_redirect(
    emulator: TelegramEmulator, changes: dict[str, str], status: int
) -> None:
    answer = await authorize(emulator, **changes)
    assert answer.status == status and "Location" not in answer.headers


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "S512"}, "invalid_request"),
    ],
)
async def test_a_bad_authorization_request_goes_back_with_its_error_and_state(
    emulator: TelegramEmulator, changes: dict[str, str | None], error: str
) -> None:
    assert redirected(await authorize(emulator, **changes)) | {"error_description": ""} == {
        "error": error,
        "state": "st-1",
        "error_description": "",
    }


async def test_nobody_logged_in_is_asked_to_log_in(emulator: TelegramEmulator) -> None:
    emulator.oidc.sign_in(None)
    answer = await authorize(emulator)
    assert answer.status == 401 and "Location" not in answer.headers


async def test_a_declining_user_sends_access_denied(emulator: TelegramEmulator) -> None:
    emulator.oidc.declines = True
    assert redirected(await authorize(emulator)) == {"error": "access_denied", "state": "st-1"}


@pytest.mark.parametrize(
    ("basic", "form_changes", "status", "error"),
    [
        (None, {}, 401, "invalid_client"),
        (("42", "wrong"), {}, 401, "invalid_client"),
        (("42", SECRET), {"client_secret": SECRET}, 401, "invalid_request"),
        (("42", SECRET), {"grant_type": "password"}, 400, "unsupported_grant_type"),
        (("42", SECRET), {"redirect_uri": "http://127.0.0.1:9/other"}, 400, "invalid_grant"),
        (("42", SECRET), {"code_verifier": "w" * 43}, 400, "invalid_grant"),
        (("43", SECRET + "3"), {}, 400, "invalid_grant"),
    ],
)
async def test_the_token_endpoint_refuses_what_rfc_6749_refuses(
    emulator: TelegramEmulator,
    basic: tuple[str, str] | None,
    form_changes: dict[str, str],
    status: int,
    error: str,
) -> None:
    form = token_form(await code(emulator), **form_changes)
    got, body, answer = await exchange(emulator, form, basic=basic)
    assert (got, body) == (status, {"error": error})
    if status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Basic")


async def test_a_code_is_good_once_and_not_after_it_expires(emulator: TelegramEmulator) -> None:
    first = await code(emulator)
    assert (await exchange(emulator, token_form(first)))[0] == 200
    assert (await exchange(emulator, token_form(first)))[:2] == (400, {"error": "invalid_grant"})
    late = await code(emulator)
    now = emulator.oidc.now
    emulator.oidc.now = lambda: now() + 301
    assert (await exchange(emulator, token_form(late)))[:2] == (400, {"error": "invalid_grant"})
