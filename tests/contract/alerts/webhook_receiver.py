"""A Standard Webhooks receiver on 127.0.0.1 that verifies what it gets the way the
spec tells consumers to, written from the spec and not from our sender's code: the
signature over ``{webhook-id}.{webhook-timestamp}.{raw body}`` compared in constant
time against each ``v1,`` entry of the header, and the timestamp within 5 minutes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs
from aiohttp import web

TOLERANCE = timedelta(minutes=5)


@attrs.frozen
class Delivery:
    headers: dict[str, str]
    body: bytes
    verdict: str
    """"valid", or why the receiver would reject it."""

    def payload(self) -> Any:
        return json.loads(self.body)


def verify(secret: str, headers: dict[str, str], body: bytes, now: datetime) -> str:
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        return "missing headers"
    if not timestamp.isdigit():
        return "malformed timestamp"
    if abs(now - datetime.fromtimestamp(int(timestamp), now.tzinfo)) > TOLERANCE:
        return "timestamp outside the tolerance"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    for entry in signatures.split(" "):
        version, _, encoded = entry.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(encoded), expected):
            return "valid"
    return "no matching signature"


class WebhookReceiver:
    """Answers ``status`` (200 by default) on ``/hook`` after ``delay`` seconds, or 401
    to a request that does not verify; ``/moved`` redirects to ``/hook`` with 307."""

    def __init__(self, secret: str, now: Callable[[], datetime]) -> None:
        self.deliveries: list[Delivery] = []
        self.status = 200
        self.delay = 0.0
        self._secret = secret
        self._now = now
        self._runner: web.AppRunner | None = None
        self._port = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._port}{path}"

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        app.router.add_post("/moved", self._moved)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        verdict = verify(self._secret, headers, body, self._now())
        self.deliveries.append(Delivery(headers, body, verdict))
        if self.delay:
            await asyncio.sleep(self.delay)
        if verdict != "valid":
            return web.Response(status=401, text=verdict)
        return web.Response(status=self.status)

    async def _moved(self, request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("/hook")
