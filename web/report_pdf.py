"""Report PDFs through chromium's own print (Playwright drives it), where both are
installed: the HTML prints as it shows, charts and Chinese text included. Playwright is
imported only here, when a report is made, never at start."""
from __future__ import annotations

import shutil

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


class NoEngine(Exception):
    """Neither chromium nor Playwright here: the report goes out without its PDF."""


def chromium_path(configured: str | None) -> str | None:
    if configured:
        return shutil.which(configured) or None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


async def print_pdf(html: str, configured: str | None = None, timeout_ms: int = 60_000) -> bytes:
    """The HTML as an A4 PDF. Asynchronous, in the app's own loop (chromium works in its own
    process): cancelling it (the server stopping) closes the browser at once, where a
    thread would hold the process's exit until chromium was done."""
    path = chromium_path(configured)
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise NoEngine("playwright is not installed") from None
    if path is None:
        raise NoEngine("no chromium found")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        try:
            page = await browser.new_page()
            page.set_default_timeout(timeout_ms)
            await page.set_content(html, wait_until="load")
            return await page.pdf(format="A4", print_background=True,
                                  margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"})
        finally:
            await browser.close()
