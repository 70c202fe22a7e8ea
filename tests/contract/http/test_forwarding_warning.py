"""Behind a reverse proxy that ``PAYGATE_TRUSTED_PROXIES`` does not list, every client
is the proxy and shares its rate-limit bucket. In production the first request that
shows it is logged once, with the setting that fixes it."""

from __future__ import annotations

import logging

import pytest

from adapters.inbound.http import HttpSettings, TrustedProxies, build_app
from adapters.inbound.http.security_headers import Environment
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from tests.contract.http.shop import Shop, make_deps, serve

FORWARDED = ({"X-Forwarded-For": "198.51.100.1"}, {"Forwarded": "for=198.51.100.2"})


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "PAYGATE_TRUSTED_PROXIES" in r.getMessage()
    ]


async def send_forwarded(shop: Shop, gateway: NowPaymentsGateway, settings: HttpSettings) -> None:
    async with serve(build_app(make_deps(shop, gateway, settings=settings))) as client:
        assert (await client.get("/healthz")).status == 200
        for _ in range(3):
            for headers in FORWARDED:
                assert (await client.get("/healthz", headers=headers)).status == 200


async def test_in_production_forwarding_headers_from_an_untrusted_peer_are_warned_once(
    shop: Shop, gateway: NowPaymentsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await send_forwarded(shop, gateway, HttpSettings(environment=Environment.PRODUCTION))

    (warning,) = warnings_in(caplog)
    assert "a request from 127.0.0.1 carried X-Forwarded-For" in warning
    assert "PAYGATE_TRUSTED_PROXIES is not set" in warning
    assert "set PAYGATE_TRUSTED_PROXIES to the proxy's addresses or network" in warning
    assert "198.51.100.1" not in warning, "what the client wrote is not repeated"


async def test_a_peer_missing_from_the_trusted_proxies_is_named_as_such(
    shop: Shop, gateway: NowPaymentsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    settings = HttpSettings(
        environment=Environment.PRODUCTION, trusted_proxies=TrustedProxies.parse("10.0.0.0/8")
    )
    await send_forwarded(shop, gateway, settings)

    (warning,) = warnings_in(caplog)
    assert "it is not in PAYGATE_TRUSTED_PROXIES" in warning


async def test_the_forwarded_header_alone_is_noticed_too(
    shop: Shop, gateway: NowPaymentsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    settings = HttpSettings(environment=Environment.PRODUCTION)
    async with serve(build_app(make_deps(shop, gateway, settings=settings))) as client:
        await client.get("/healthz", headers=FORWARDED[1])

    (warning,) = warnings_in(caplog)
    assert "carried Forwarded," in warning


@pytest.mark.parametrize(
    "settings",
    [
        HttpSettings(environment=Environment.DEVELOPMENT),
        HttpSettings(
            environment=Environment.PRODUCTION,
            trusted_proxies=TrustedProxies.parse("127.0.0.1/32"),
        ),
    ],
    ids=["development", "trusted_proxy"],
)
async def test_no_warning_in_development_or_from_a_trusted_proxy(
    shop: Shop,
    gateway: NowPaymentsGateway,
    caplog: pytest.LogCaptureFixture,
    settings: HttpSettings,
) -> None:
    caplog.set_level(logging.WARNING)
    await send_forwarded(shop, gateway, settings)

    assert warnings_in(caplog) == []
