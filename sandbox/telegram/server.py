"""The emulator as a real HTTP server: ``/bot<token>/<method>`` like api.telegram.org,
and a control API under ``/_emulator/`` for processes that cannot call its Python
methods (the demo, end-to-end tests)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from sandbox.telegram.errors import NOT_FOUND, UNAUTHORIZED, ApiError, bad_request
from sandbox.telegram.flood import FloodControl, FloodLimits, Rate
from sandbox.telegram.methods import BotApi, Described, Params
from sandbox.telegram.model import JSON, CallRecord, ChatType, member_json, message_json
from sandbox.telegram.oidc import OidcProvider
from sandbox.telegram.outage import Outage
from sandbox.telegram.world import TOKEN_PATTERN, World


class TelegramEmulator(World):
    """A local Telegram Bot API for one bot.

    ``await start()`` serves it on 127.0.0.1 (port 0 picks a free one) and returns
    the base URL to use in place of ``https://api.telegram.org``. Every call is kept
    in ``calls``; set-up and simulated users are the methods of :class:`World`.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        flood: FloodLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        webhook_retry_delay: float = 1.0,
        webhook_retry_max_delay: float = 30.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            token,
            wall_clock=wall_clock,
            webhook_retry_delay=webhook_retry_delay,
            webhook_retry_max_delay=webhook_retry_max_delay,
        )
        self.flood = FloodControl(flood or FloodLimits(), monotonic)
        self.api = BotApi(self)
        self.oidc = OidcProvider(lambda: self.base_url, self._user, self.now)
        """Telegram's OpenID Connect provider (log in with Telegram on a website)."""
        self.calls: list[CallRecord] = []
        self.outage: Outage | None = None
        """When set, every Bot API call is refused by it (see :mod:`sandbox.telegram.outage`)."""
        self._monotonic = monotonic
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> str:
        if self._runner is not None:
            return self.base_url
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot_call)
        _add_control_routes(app, self)
        self.oidc.add_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        self.base_url = f"http://{self._host}:{port}"
        self.hub.start()
        return self.base_url

    async def stop(self) -> None:
        await self.hub.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -------------------------------------------------------------- records
    def calls_to(self, method: str) -> list[CallRecord]:
        return [c for c in self.calls if c.method == method]

    def rejected(self, code: int = 429) -> list[CallRecord]:
        return [c for c in self.calls if c.error_code == code]

    # -------------------------------------------------------------- Bot API
    async def _handle_bot_call(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ApiError as exc:
            return self._answer(method, {}, exc)
        if TOKEN_PATTERN.match(token) is None:
            return self._answer(method, params, NOT_FOUND)
        if token != self.token:
            return self._answer(method, params, UNAUTHORIZED)
        handler = self.api.handler(method)
        if handler is None:
            return self._answer(method, params, NOT_FOUND)
        method = self.api.canonical(method)
        if self.outage is not None:
            return self._answer(method, params, await self.outage.refusal())
        try:
            chat_id, private = self._flood_target(params)
            self.flood.admit(method, chat_id, private)
            result = await handler(Params(params))
        except ApiError as exc:
            return self._answer(method, params, exc)
        self.calls.append(CallRecord(method, params, self._monotonic(), ok=True))
        body: JSON = {"ok": True}
        if isinstance(result, Described):
            body["result"] = result.result
            body["description"] = result.description
        else:
            body["result"] = result
        return web.json_response(body)

    def _answer(self, method: str, params: JSON, error: ApiError) -> web.Response:
        self.calls.append(
            CallRecord(method, params, self._monotonic(), False, error.code, error.description)
        )
        return web.json_response(error.body(), status=error.code)

    def _flood_target(self, params: JSON) -> tuple[int | None, bool]:
        try:
            chat_id = self.api.chat_id_of(Params(params))
        except ApiError:
            return None, False
        chat = self.chats.get(chat_id)
        private = chat.type is ChatType.PRIVATE if chat is not None else chat_id > 0
        return chat_id, private


async def _read_params(request: web.Request) -> JSON:
    params: JSON = dict(request.query)
    if request.method not in ("POST", "PUT") or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON request body")
        params.update(body)
    else:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


# --------------------------------------------------------------- control API
ControlHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _add_control_routes(app: web.Application, emu: TelegramEmulator) -> None:
    async def body_of(request: web.Request) -> JSON:
        if not request.can_read_body:
            return {}
        body = await request.json()
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="a JSON object is expected")
        return body

    def guarded(handler: Callable[[web.Request], Awaitable[Any]]) -> ControlHandler:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                result = await handler(request)
            except (KeyError, ValueError, TypeError) as exc:
                return web.json_response({"error": str(exc)}, status=400)
            return web.json_response(result)

        return run

    def ident(request: web.Request, name: str) -> int:
        return int(request.match_info[name])

    async def add_user(request: web.Request) -> Any:
        b = await body_of(request)
        user = emu.add_user(
            int(b["id"]),
            str(b.get("first_name", "User")),
            username=b.get("username"),
            started_bot=bool(b.get("started_bot", True)),
            language_code=b.get("language_code"),
        )
        return user.to_json()

    async def add_chat(request: web.Request) -> Any:
        b = await body_of(request)
        chat = emu.add_chat(
            int(b["id"]),
            str(b["type"]),
            str(b.get("title", "Chat")),
            username=b.get("username"),
            bot_status=str(b.get("bot_status", "administrator")),
            bot_rights=b.get("bot_rights"),
            creator_id=b.get("creator_id"),
        )
        return chat.to_json()

    async def set_member(request: web.Request) -> Any:
        b = await body_of(request)
        emu.set_member(
            ident(request, "chat_id"),
            ident(request, "user_id"),
            str(b.get("status", "member")),
            b.get("rights", ()),
        )
        return {"ok": True}

    async def set_bot(request: web.Request) -> Any:
        b = await body_of(request)
        emu.set_bot_rights(ident(request, "chat_id"), str(b["status"]), b.get("rights", ()))
        return {"ok": True}

    async def show_chat(request: web.Request) -> Any:
        chat = emu.chat(ident(request, "chat_id"))
        return {
            "chat": chat.to_json(),
            "members": [member_json(chat, emu.users[m]) for m in chat.members],
            "links": [link.to_json(emu.bot, chat) for link in chat.links.values()],
            "join_requests": list(chat.join_requests),
            "messages": [
                message_json(m, chat, emu.users.get(m.from_id, emu.bot), None)
                for m in chat.messages.values()
            ],
        }

    async def user_sends(request: web.Request) -> Any:
        b = await body_of(request)
        return emu.user_sends(ident(request, "user_id"), str(b["text"]))

    async def user_presses(request: web.Request) -> Any:
        b = await body_of(request)
        query_id = emu.user_presses(
            ident(request, "user_id"), int(b["chat_id"]), int(b["message_id"]), str(b["data"])
        )
        return {"callback_query_id": query_id}

    async def user_logs_in(request: web.Request) -> Any:
        b = await body_of(request)
        url = emu.user_opens_login(
            ident(request, "user_id"), int(b["chat_id"]), int(b["message_id"]), str(b["text"])
        )
        return {"url": url}

    async def user_joins(request: web.Request) -> Any:
        b = await body_of(request)
        return {"outcome": str(emu.user_opens_link(ident(request, "user_id"), str(b["url"])))}

    async def user_pays(request: web.Request) -> Any:
        b = await body_of(request)
        result = await emu.user_pays(ident(request, "user_id"), str(b["url"]))
        return result.to_json()

    async def renews(request: web.Request) -> Any:
        return emu.subscription_renews(request.match_info["charge_id"]).to_json()

    async def channel_renews(request: web.Request) -> Any:
        chat_id, user_id = ident(request, "chat_id"), ident(request, "user_id")
        result = emu.channel_subscription_renews(chat_id, user_id).to_json()
        return result | {"subscription": emu.channel_subscription(chat_id, user_id)}

    async def user_edits_subscription(request: web.Request) -> Any:
        b = await body_of(request)
        done = emu.user_edits_subscription(
            ident(request, "user_id"), str(b["charge_id"]), bool(b["canceled"])
        )
        return {"ok": done}

    async def user_leaves(request: web.Request) -> Any:
        b = await body_of(request)
        emu.user_leaves(int(b["chat_id"]), ident(request, "user_id"))
        return {"ok": True}

    async def user_blocks(request: web.Request) -> Any:
        emu.user_blocks_bot(ident(request, "user_id"))
        return {"ok": True}

    async def user_unblocks(request: web.Request) -> Any:
        emu.user_unblocks_bot(ident(request, "user_id"))
        return {"ok": True}

    async def list_calls(request: web.Request) -> Any:
        return [
            {
                "method": c.method,
                "params": c.params,
                "at": c.at,
                "ok": c.ok,
                "error_code": c.error_code,
                "description": c.description,
            }
            for c in emu.calls
        ]

    async def set_flood(request: web.Request) -> Any:
        b = await body_of(request)

        def rate(name: str) -> Rate | None:
            value = b.get(name)
            return None if value is None else Rate(int(value[0]), float(value[1]))

        emu.flood.configure(
            FloodLimits(
                overall=rate("overall"),
                private_chat=rate("private_chat"),
                group_chat=rate("group_chat"),
                admin=rate("admin"),
                enabled=bool(b.get("enabled", True)),
            )
        )
        return {"ok": True}

    async def oidc_client(request: web.Request) -> Any:
        b = await body_of(request)
        emu.oidc.register_client(
            str(b["client_id"]), str(b["client_secret"]), [str(u) for u in b["redirect_uris"]]
        )
        return {"ok": True}

    async def oidc_user(request: web.Request) -> Any:
        b = await body_of(request)
        user_id = b.get("user_id")
        emu.oidc.sign_in(None if user_id is None else int(user_id))
        emu.oidc.declines = bool(b.get("declines", False))
        return {"ok": True}

    routes: list[tuple[str, str, Callable[[web.Request], Awaitable[Any]]]] = [
        ("POST", "/_emulator/users", add_user),
        ("POST", "/_emulator/chats", add_chat),
        ("GET", "/_emulator/chats/{chat_id}", show_chat),
        ("PUT", "/_emulator/chats/{chat_id}/members/{user_id}", set_member),
        ("PUT", "/_emulator/chats/{chat_id}/bot", set_bot),
        ("POST", "/_emulator/users/{user_id}/messages", user_sends),
        ("POST", "/_emulator/users/{user_id}/presses", user_presses),
        ("POST", "/_emulator/users/{user_id}/logins", user_logs_in),
        ("POST", "/_emulator/users/{user_id}/joins", user_joins),
        ("POST", "/_emulator/users/{user_id}/pays", user_pays),
        ("POST", "/_emulator/users/{user_id}/leaves", user_leaves),
        ("POST", "/_emulator/stars/subscriptions/{charge_id}/renew", renews),
        ("POST", "/_emulator/chats/{chat_id}/subscribers/{user_id}/renew", channel_renews),
        ("POST", "/_emulator/users/{user_id}/subscriptions", user_edits_subscription),
        ("POST", "/_emulator/users/{user_id}/block", user_blocks),
        ("POST", "/_emulator/users/{user_id}/unblock", user_unblocks),
        ("GET", "/_emulator/calls", list_calls),
        ("PUT", "/_emulator/flood", set_flood),
        ("PUT", "/_emulator/oidc/clients", oidc_client),
        ("PUT", "/_emulator/oidc/user", oidc_user),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, path, guarded(handler))
