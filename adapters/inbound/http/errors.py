"""The one place where failures become HTTP answers.

=======================================  ===========================================
raised                                   answer
=======================================  ===========================================
aiohttp's HTTPException (404, 405, ...)  its status, with a JSON body
BodyTooLarge / IncompleteBody            413 / 400
BodyTimeout                              408, and the connection is closed
NotAuthorized                            403
Unknown* (UnknownChannel...), NotFound   404
AlreadyRegistered, Conflict              409
any other DomainError                    400, its reason in the catalog's English
Unavailable                              503, with Retry-After when it is known
anything else                            500 ``{"error": "internal error"}`` plus a
                                         reference; the traceback goes to the
                                         (redacting) log, never to the client
=======================================  ===========================================

Under the HTTP API's prefix (``/api/v1``) the same failures are RFC 9457 problem
details (``application/problem+json``), as the API's own answers are: a middleware's
answer there (this one's, the rate limiter's, an allowlist's) goes through
:func:`error_answer`, which picks the form by the request's path.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Mapping
from http import HTTPStatus

from aiohttp import web
from aiohttp.typedefs import Handler

from adapters.catalog.language import DEFAULT, speaking
from adapters.catalog.refusals import refusal
from adapters.inbound.http.body import BodyTimeout, BodyTooLarge, IncompleteBody
from core.domain.errors import AlreadyRegistered, DomainError, NotAuthorized
from core.ports.errors import Conflict, NotFound, Unavailable

__all__ = [
    "API_PREFIX",
    "PROBLEM_TYPE",
    "error_answer",
    "error_middleware",
    "is_api_path",
    "json_error",
    "problem_details",
    "retry_after_header",
]

logger = logging.getLogger(__name__)

_PASS_THROUGH_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


API_PREFIX = "/api/v1"
PROBLEM_TYPE = "application/problem+json"


def json_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def problem_details(
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, str] | None = None,
) -> web.Response:
    """A problem response: ``type`` is ``about:blank``, so ``title`` is the status's
    own phrase (RFC 9457, 4.2.1); ``detail`` says what this request did wrong."""
    body = {
        **(extensions or {}),
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    response = web.json_response(body, status=status, headers=headers)
    response.content_type = PROBLEM_TYPE
    return response


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def error_answer(
    request: web.Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """The failure as the route's clients read failures: problem details under the
    API, ``{"error": message}`` elsewhere."""
    if is_api_path(request.path):
        return problem_details(status, message, headers)
    return json_error(status, message, headers)


def retry_after_header(seconds: float | None) -> dict[str, str]:
    """``Retry-After`` in whole seconds, at least one (the header has no fractions)."""
    if seconds is None:
        return {}
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def _domain_status(error: DomainError) -> int:
    if isinstance(error, NotAuthorized):
        return 403
    # The domain names "no such thing" errors Unknown<Thing> (UnknownChannel, ...).
    if type(error).__name__.startswith("Unknown"):
        return 404
    if isinstance(error, AlreadyRegistered):
        return 409
    return 400


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like are answers, not failures
        headers = {k: v for k, v in exc.headers.items() if k in _PASS_THROUGH_HEADERS}
        return error_answer(request, exc.status, exc.reason, headers)
    except BodyTooLarge as exc:
        return error_answer(request, 413, str(exc))
    except IncompleteBody as exc:
        return error_answer(request, 400, str(exc))
    except BodyTimeout as exc:
        late = error_answer(request, 408, str(exc), {"Connection": "close"})
        late.force_close()
        return late
    except DomainError as exc:
        with speaking(DEFAULT):
            return error_answer(request, _domain_status(exc), refusal(exc))
    except NotFound:
        return error_answer(request, 404, "not found")
    except Conflict:
        return error_answer(request, 409, "conflict: someone else changed this first; try again")
    except Unavailable as exc:
        logger.warning("%s %s: dependency unavailable: %s", request.method, request.path, exc)
        return error_answer(
            request,
            503,
            "temporarily unavailable; retry later",
            retry_after_header(exc.retry_after),
        )
    except Exception:
        reference = secrets.token_hex(8)
        logger.exception("%s %s failed (reference %s)", request.method, request.path, reference)
        if is_api_path(request.path):
            return problem_details(500, "internal error", extensions={"reference": reference})
        return web.json_response({"error": "internal error", "reference": reference}, status=500)
