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


def test_an_inline_script_slipped_into_a_page_does_not_run(playwright_browser: Any, database_url: str,
                                                           sessions: Any) -> None:
    # A page of the site's own, with a script written into it (as an unescaped name would be)
    # and one from /static: chromium runs the file and refuses the inline one.
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    from tests.web.server import ServerThread
    from web.app import create_app
    from web.config import Settings
    from web.services import Services

    services = Services.build(Settings(database_url=database_url))
    app = create_app(services.settings, services)

    async def slipped(request: Request) -> HTMLResponse:
        return HTMLResponse('<html><body><p id="p">before</p><img src="x" onerror="document.title=`handler ran`">'
                            '<script>document.getElementById("p").textContent = "inline ran"</script>'
                            '<script src="/static/confirm.js"></script></body></html>')

    app.add_route("/slipped", slipped)
    try:
        with ServerThread(app) as server:
            context = playwright_browser.new_context()
            refused: list[str] = []
            context.on("console", lambda message: refused.append(message.text))
            page = context.new_page()
            page.goto(f"{server.url}/slipped")
            page.wait_for_timeout(300)
            assert page.inner_text("#p") == "before" and page.title() != "handler ran"
            assert any("Content Security Policy" in text for text in refused), refused
            context.close()
    finally:
        services.close()
