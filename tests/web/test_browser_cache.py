"""After logging out, the browser's Back button does not show a staff page from its caches
(the back/forward cache, the HTTP cache): it asks the server again and gets the login page."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch.models import Ticket
from tests.web.test_browser import login, new_context, playwright_browser, site  # noqa: F401 (fixtures)

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment (demo account "ecology")


def test_back_after_logout_shows_the_login_page_not_the_ticket_with_its_phone(new_context: Any, site: Any) -> None:
    server, services = site
    with services.sessions() as session:
        noise = session.scalars(select(Ticket).where(Ticket.title == NOISE)).one()
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/tickets/{noise.number}")
    assert noise.phone[-11:] in page.content()      # the staff page shows the whole number
    page.click("form[action='/logout'] button")
    page.wait_for_url(f"{server.url}/login")
    page.go_back()
    page.wait_for_load_state()
    assert page.url.startswith(f"{server.url}/login"), page.url
    assert noise.phone[-11:] not in page.content() and NOISE not in page.content()
