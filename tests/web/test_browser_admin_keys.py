"""The administrator's Open311 page in Debian's chromium at phone width: a key just issued
wraps inside its card instead of pushing the page sideways."""
from __future__ import annotations

from typing import Any

from tests.web.test_browser import PHONE, login, new_context, playwright_browser, site  # noqa: F401 (fixtures)


def test_an_issued_open311_key_wraps_at_phone_width(new_context: Any, site: Any) -> None:
    server, _services = site
    page = login(new_context(), server.url, "admin")
    page.set_viewport_size(PHONE)
    page.goto(f"{server.url}/admin/open311")
    page.fill("#make-open311-form input[name=name]", "随手拍小程序")
    page.click("#make-open311-form button[type=submit]")
    page.wait_for_selector("#key-value")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
