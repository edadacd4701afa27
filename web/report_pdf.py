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


def print_pdf(html: str, configured: str | None = None, timeout_ms: int = 60_000) -> bytes:
    """The HTML as an A4 PDF. Call from a worker thread (Playwright's sync API refuses to
    run inside an event loop)."""
    path = chromium_path(configured)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise NoEngine("playwright is not installed") from None
    if path is None:
        raise NoEngine("no chromium found")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout_ms)
            page.set_content(html, wait_until="load")
            return page.pdf(format="A4", print_background=True,
                            margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"})
        finally:
            browser.close()
