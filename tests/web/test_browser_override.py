"""先行办结申请 in Debian's chromium: the lead unit asks on the ticket page, a supervisor finds
the request on /supervisor and refuses it with a reason on the ticket page, and the lead unit
reads the refusal in its notices and above its 办结 form."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dispatch.actions import perform
from dispatch.actors import Actor
from dispatch.vocabulary import Role
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from tests.web.test_browser import login, new_context, playwright_browser, site  # noqa: F401 (fixtures)


def co_handled(session: Session) -> str:
    """In progress with housing (demo account "housing"), transport's 协办 part unanswered."""
    ticket = new_ticket(session, body="人民路燃气管道施工后路面一直没有恢复，井盖也松了。")
    perform(session, Actor(label="operator", role=Role.OPERATOR), ticket.number, "transfer",
            {"unit": "housing", "co_units": ["transport"]})
    perform(session, unit_staff(session, "housing"), ticket.number, "accept", {})
    return ticket.number


def test_the_lead_asks_to_resolve_first_and_hears_the_supervisors_refusal(new_context: Any, site: Any) -> None:
    server, services = site
    number = services.run_sync(co_handled)

    lead = login(new_context(), server.url, "housing")
    lead.on("dialog", lambda dialog: dialog.accept())
    lead.goto(f"{server.url}/tickets/{number}")
    assert "交通运输局" in lead.inner_text("#co-parts-waiting")
    lead.fill("#override-request-form input[name=text]", "交通局三天未答复，路面已由我局修好")
    lead.click("#override-request-form button")
    lead.wait_for_selector("#override-request-state[data-status=open]")
    assert "先行办结申请已提交" in lead.inner_text("#done")
    assert lead.locator("#override-request-form").count() == 0   # one open request at a time

    supervisor = login(new_context(), server.url, "supervisor")
    supervisor.goto(f"{server.url}/supervisor")
    listed = supervisor.locator("#table-override_requests")
    assert "交通局三天未答复" in listed.inner_text()
    listed.locator(f"a:has-text('{number}')").first.click()
    supervisor.wait_for_selector("#refuse-override-form")
    assert "交通局三天未答复" in supervisor.inner_text("#override-parts")
    supervisor.fill("#refuse-override-form input[name=text]", "请再催交通局一天")
    supervisor.click("#refuse-override-form button")
    supervisor.wait_for_selector("#done")
    assert supervisor.locator("#refuse-override-form").count() == 0
    supervisor.goto(f"{server.url}/supervisor")
    assert number not in supervisor.inner_text("#table-override_requests")

    lead.goto(f"{server.url}/unit")
    told = lead.locator(f"#notices li:has-text('{number}')").first
    assert "先行办结申请未同意" in told.inner_text() and "请再催交通局一天" in told.inner_text()
    lead.goto(f"{server.url}/tickets/{number}")
    refused = lead.locator("#override-request-state[data-status=refused]")
    assert "请再催交通局一天" in refused.inner_text()
    assert lead.locator("#override-request-form").count() == 1   # and it may ask again
