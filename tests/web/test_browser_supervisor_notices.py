"""A supervisor's notices open in Debian's chromium: the unit answers their 督办 in another
process, and the open page shows the notice and the header's unread count without a reload;
the supervisor marks it read there."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch.actions import perform
from dispatch.demo import demo_actors
from dispatch.models import Ticket
from tests.web.test_browser import Shots, login, new_context, playwright_browser, site  # noqa: F401 (fixtures)

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment


def test_the_open_notices_page_shows_the_units_answer_to_the_escalation_and_its_unread_count(
        new_context: Any, site: Any) -> None:
    server, services = site
    with services.sessions() as session:
        number = session.scalars(select(Ticket.number).where(Ticket.title == NOISE)).one()
    actors = services.run_sync(demo_actors)
    services.run_sync(lambda s: perform(s, actors["supervisor"], number, "escalate", {"note": "请今天内反馈整改方案"}))

    page = login(new_context(), server.url, "supervisor")
    page.goto(f"{server.url}/supervisor/notices")
    assert page.locator("#notices .empty").inner_text() == "暂无通知"
    assert page.locator("#nav-unread").is_hidden()
    page.wait_for_timeout(300)  # the page's stream is open before the unit answers
    services.run_sync(lambda s: perform(s, actors["ecology-environment"], number, "progress",
                                        {"text": "已约谈施工方，22点后停止夜间施工。"}))

    told = page.locator("#notices li.unread.notice-escalation_answered")
    told.wait_for(timeout=5_000)   # pushed, not reloaded
    assert number in told.inner_text() and "22点后停止夜间施工" in told.inner_text()
    assert page.locator("#nav-unread").inner_text() == "1" and page.locator("#unread-count").is_visible()
    Shots()(page, "supervisor-notices")

    page.goto(f"{server.url}/supervisor")   # every page's header counts it
    assert page.locator("#nav-unread").inner_text() == "1"
    page.click("#nav-notices")
    page.get_by_role("button", name=f"标为已读：工单{number}的督办已反馈通知", exact=False).click()
    page.wait_for_selector("#notices li.read.notice-escalation_answered", timeout=5_000)
    assert page.locator("#nav-unread").is_hidden()
    page.reload()
    assert page.locator("#nav-unread").is_hidden()


def test_the_headers_unread_count_is_live_on_every_page_a_supervisor_or_admin_has_open(
        new_context: Any, site: Any) -> None:
    from tests.web.test_browser import wait_true

    server, services = site
    with services.sessions() as session:
        number = session.scalars(select(Ticket.number).where(Ticket.title == NOISE)).one()
    actors = services.run_sync(demo_actors)
    dashboard = login(new_context(), server.url, "supervisor")
    dashboard.goto(f"{server.url}/supervisor")
    ticket = login(new_context(), server.url, "admin")
    ticket.goto(f"{server.url}/tickets/{number}")     # a page unit staff open too
    for page in (dashboard, ticket):
        assert page.locator("#nav-unread").is_hidden()
    dashboard.wait_for_timeout(300)  # the pages' streams are open before the unit asks
    services.run_sync(lambda s: perform(s, actors["ecology-environment"], number, "request_extension",
                                        {"days": "2", "reason": "需协调夜间执法"}))

    for page in (dashboard, ticket):   # pushed, not reloaded
        wait_true(page, "!document.getElementById('nav-unread').hidden"
                        " && document.getElementById('nav-unread').textContent === '1'")
    assert dashboard.url == f"{server.url}/supervisor" and ticket.url == f"{server.url}/tickets/{number}"
    # The unit's staff have no such count in their header.
    unit = login(new_context(), server.url, "ecology")
    unit.goto(f"{server.url}/tickets/{number}")
    assert unit.locator("#nav-unread").count() == 0


def test_a_request_decided_in_one_tab_lowers_the_count_and_shows_settled_in_the_others(
        new_context: Any, site: Any) -> None:
    from tests.web.test_browser import wait_true

    server, services = site
    with services.sessions() as session:
        number = session.scalars(select(Ticket.number).where(Ticket.title == NOISE)).one()
    actors = services.run_sync(demo_actors)
    notices = login(new_context(), server.url, "supervisor")
    notices.goto(f"{server.url}/supervisor/notices")
    deciding = login(new_context(), server.url, "admin")
    deciding.goto(f"{server.url}/supervisor")
    notices.wait_for_timeout(300)  # the pages' streams are open before the unit asks
    services.run_sync(lambda s: perform(s, actors["ecology-environment"], number, "request_extension",
                                        {"days": "2", "reason": "需协调夜间执法"}))
    waiting = notices.locator("#notices li.unread.notice-extension_request")
    waiting.wait_for(timeout=5_000)
    for page in (notices, deciding):
        wait_true(page, "document.getElementById('nav-unread').textContent === '1'")
    assert waiting.locator(".decide-link").count() == 1

    # The admin approves it in their tab (the supervisor's page is not touched).
    deciding.reload()
    deciding.locator("form[action^='/supervisor/extensions/'] button[value=approve]").click()
    deciding.wait_for_load_state()
    assert deciding.locator("#nav-unread").is_hidden()
    # The supervisor's open list shows it settled, and their count went down: pushed, not reloaded.
    notices.locator("#notices li.read.notice-extension_request .settled").wait_for(timeout=5_000)
    wait_true(notices, "document.getElementById('nav-unread').hidden")
    row = notices.locator("#notices li.notice-extension_request").inner_text()
    assert "已处理" in row and "去审批" not in row
    assert notices.url == f"{server.url}/supervisor/notices" and notices.locator("#unread-count").count() == 0


def test_a_notice_marked_read_in_one_tab_lowers_the_count_in_another(new_context: Any, site: Any) -> None:
    from tests.web.test_browser import wait_true

    server, services = site
    with services.sessions() as session:
        number = session.scalars(select(Ticket.number).where(Ticket.title == NOISE)).one()
    actors = services.run_sync(demo_actors)
    context = new_context()
    notices = login(context, server.url, "supervisor")
    notices.goto(f"{server.url}/supervisor/notices")
    dashboard = context.new_page()   # the same supervisor's other tab
    dashboard.goto(f"{server.url}/supervisor")
    dashboard.wait_for_timeout(300)  # the pages' streams are open before the unit asks
    services.run_sync(lambda s: perform(s, actors["ecology-environment"], number, "request_extension",
                                        {"days": "2", "reason": "需协调夜间执法"}))
    for page in (notices, dashboard):
        wait_true(page, "document.getElementById('nav-unread').textContent === '1'")
    notices.get_by_role("button", name="全部标为已读").click()
    notices.wait_for_selector("#notices li.read.notice-extension_request", timeout=5_000)
    wait_true(dashboard, "document.getElementById('nav-unread').hidden")   # pushed, not reloaded
    assert dashboard.url == f"{server.url}/supervisor"
