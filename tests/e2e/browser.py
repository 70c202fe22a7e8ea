"""A real headless Chromium for the dashboard's browser tests: Debian's ``chromium``
driven by Playwright (which never downloads a browser here), with every console
message about the Content Security Policy collected, so a test can assert none.

With ``CI=true`` a test that needs it runs or fails; elsewhere it is skipped when
Chromium is not installed (``make browsers`` installs it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import pytest
from playwright.async_api import ConsoleMessage, Page, async_playwright

__all__ = ["Browser", "chromium", "chromium_page"]


def chromium() -> str:
    """The browser's path; call it first, so a test without one skips before it starts
    anything."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (make browsers installs it)")
        pytest.skip("chromium is not installed: run `make browsers`")
    return found


@attrs.frozen
class Browser:
    page: Page
    violations: list[str]
    """What the console said about the Content Security Policy (nothing, we hope)."""


@asynccontextmanager
async def chromium_page(
    executable: str, *, accept_downloads: bool = False
) -> AsyncIterator[Browser]:
    """A fresh page in a headless Chromium, closed at the end."""
    violations: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        try:
            page = await browser.new_page(accept_downloads=accept_downloads)

            def on_console(message: ConsoleMessage) -> None:
                if "Content Security Policy" in message.text:
                    violations.append(message.text)

            page.on("console", on_console)
            yield Browser(page, violations)
        finally:
            await browser.close()
