"""Sending IPNs: signed like the provider, retried on failure, to this machine only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp

from sandbox.nowpayments.js_form import sign
from sandbox.nowpayments.model import IpnDelivery

__all__ = ["LOOPBACK_HOSTS", "IpnCourier"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class IpnCourier:
    """Posts each IPN until it is answered 2xx or ``retries`` more attempts fail,
    waiting ``retry_delay`` seconds between attempts and ``timeout`` for each."""

    def __init__(
        self,
        *,
        secret: str,
        retries: int,
        retry_delay: float,
        timeout: float,
        allowed_hosts: frozenset[str],
    ) -> None:
        self._secret = secret
        self._retries = retries
        self._retry_delay = retry_delay
        self._timeout = timeout
        self._allowed_hosts = allowed_hosts
        self._client: aiohttp.ClientSession | None = None

    def open(self) -> None:
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def deliver(
        self, url: str, payment_id: int, status: str, payload: dict[str, object]
    ) -> AsyncIterator[IpnDelivery]:
        """Each attempt at notifying ``status``, yielded as soon as it is answered so
        the caller records it before any retry."""
        body, signature = sign(payload, self._secret)
        for attempt in range(1, self._retries + 2):
            response_status, error = await self._post(url, body, signature)
            yield IpnDelivery(
                payment_id=payment_id,
                status=status,
                url=url,
                body=body,
                signature=signature,
                attempt=attempt,
                response_status=response_status,
                error=error,
            )
            if response_status is not None and 200 <= response_status < 300:
                return
            if attempt <= self._retries and self._retry_delay:
                await asyncio.sleep(self._retry_delay)

    async def _post(self, url: str, body: bytes, signature: str) -> tuple[int | None, str | None]:
        host = urlsplit(url).hostname
        if host not in self._allowed_hosts:
            # Tests and the demo only ever talk to this machine.
            return None, f"refused: {host!r} is not an allowed IPN host"
        if self._client is None:
            raise RuntimeError("the emulator is not running")
        headers = {"Content-Type": "application/json", "x-nowpayments-sig": signature}
        try:
            async with self._client.post(url, data=body, headers=headers) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
