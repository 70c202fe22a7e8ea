"""The dashboard's Exports section: subscribers, payments and donations of the
viewer's channels as CSV files, streamed as they are read (chunked, no
Content-Length): the core reads them in keyset pages and this writes each page out
before the next is read, so memory stays constant however large the export.

Cells are safe to open in a spreadsheet: one starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is prefixed with ``'`` so that it is never taken
for a formula (CSV injection)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import attrs
from aiohttp import web

from adapters.inbound.http.dashboard.pages import Dashboard
from adapters.inbound.http.routes import Route
from core.ports.clock import Clock
from core.ports.errors import Unavailable
from core.services.dashboard_exports import DashboardExports, ExportKind

__all__ = ["ExportsSection", "safe_cell", "write_csv"]

logger = logging.getLogger(__name__)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FLUSH_BYTES = 64 * 1024


def safe_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it, never run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


async def write_csv(
    header: Sequence[str],
    rows: AsyncIterator[Sequence[str]],
    write: Callable[[bytes], Awaitable[None]],
) -> None:
    """``header`` and ``rows`` as CSV (UTF-8, CRLF, cells never run as formulas),
    handed to ``write`` about FLUSH_BYTES at a time: memory stays flat however many
    rows come. Raises what reading ``rows`` raises (the rows before are written)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_safe(header))
    async for row in rows:
        writer.writerow(_safe(row))
        if buffer.tell() >= FLUSH_BYTES:
            await write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    await write(buffer.getvalue().encode("utf-8"))


@attrs.define(eq=False)
class ExportsSection:
    _exports: DashboardExports
    _clock: Clock

    def routes(self, site: Dashboard) -> list[Route]:
        async def exports(request: web.Request) -> web.StreamResponse:
            session, viewer = await site.signed_in(request)
            channels = await self._exports.channels(viewer)
            context = {
                "viewer": viewer,
                "session": session,
                "kinds": [kind.value for kind in ExportKind],
                "channels": channels,
            }
            return site.render(request, "exports.html", context)

        async def download(request: web.Request) -> web.StreamResponse:
            _session, viewer = await site.signed_in(request)
            kind = ExportKind(request.match_info["kind"])
            day = self._clock.now().strftime("%Y-%m-%d")
            response = web.StreamResponse(
                headers={
                    "Content-Type": "text/csv; charset=utf-8",
                    "Content-Disposition": f'attachment; filename="paygate-{kind}-{day}.csv"',
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'; sandbox",
                }
            )
            response.enable_chunked_encoding()
            rows = self._exports.rows(viewer, kind)
            # The first row is read before the answer starts: a failure to read is still
            # an error page, not a truncated file.
            header = await anext(rows)
            await response.prepare(request)
            try:
                await write_csv(header, rows, response.write)
            except Unavailable:
                # The answer has started: cut it short (no final chunk), so the browser
                # reports a failed download instead of saving a file that looks whole.
                logger.warning("dashboard export %s: the store became unavailable", kind)
                response.force_close()
                return response
            await response.write_eof()
            return response

        return [
            Route("GET", "/dashboard/exports", site.page(exports), "dashboard.exports"),
            Route(
                "GET",
                "/dashboard/exports/{kind:subscribers|payments|donations}.csv",
                site.page(download),
                "dashboard.export",
            ),
        ]


def _safe(row: Sequence[str]) -> list[str]:
    return [safe_cell(cell) for cell in row]
