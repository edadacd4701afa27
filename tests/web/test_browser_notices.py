"""A unit's inbox open in Debian's chromium hears of a notice without a reload, and the unit
marks it read there."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select

from dispatch import chasing, lifecycle, notices
from dispatch.actors import Actor
from dispatch.models import Ticket
from dispatch.units import unit_by_code
from dispatch.vocabulary import Role
from tests.web.test_browser import PHONE, Shots, login, new_context, playwright_browser, site, wait_true  # noqa: F401 (fixtures)

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment


def test_an_overdue_notice_appears_in_the_open_inbox_and_is_marked_read(new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/unit")
    assert page.locator("#notices .empty").inner_text() == "暂无通知"
    page.wait_for_timeout(300)  # the page's stream is open before the scheduler runs
    with services.sessions() as session:
        noise = session.scalars(select(Ticket).where(Ticket.title == NOISE)).one()
    services.run_sync(lambda s: chasing.chase(s, noise.deadline + dt.timedelta(minutes=5), services.chase_policy()))

    page.wait_for_selector("#notices li.unread.notice-overdue", timeout=5_000)  # pushed, not reloaded
    assert noise.number in page.locator("#notices li.unread.notice-overdue").first.inner_text()
    Shots()(page, "unit-notices")
    page.locator("#notices li.unread").first.locator("button").click()
    page.wait_for_selector(f"#notices li.read:has-text('{noise.number}')", timeout=5_000)
    assert page.locator(f"#notices li.read:has-text('{noise.number}')").count() == 1


BUS = "建议增加公交班次"   # received, with no unit yet


def test_the_inbox_counts_change_in_the_open_page_when_a_ticket_is_transferred_to_the_unit(
        new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "housing")
    page.goto(f"{server.url}/unit")
    waiting = page.locator("#inbox-counts a[data-show='new'] b")
    total = page.locator("#inbox-counts a[data-show=''] b")
    before_new, before_total = int(waiting.inner_text()), int(total.inner_text())
    page.evaluate("window.notReloaded = true")
    page.wait_for_timeout(300)  # the page's stream is open before the ticket moves
    with services.sessions() as session:
        bus = session.scalars(select(Ticket).where(Ticket.title == BUS)).one()
    # Transferred by the domain alone, as another process would: no notice, only a ticket change.
    services.run_sync(lambda s: lifecycle.transfer(s, s.get(Ticket, bus.id), unit_by_code(s, "housing"),
                                                   Actor(label="operator", role=Role.OPERATOR)))

    wait_true(page,   # pushed, not reloaded
        f"document.querySelector(\"#inbox-counts a[data-show='new'] b\").textContent === '{before_new + 1}'",
        timeout=5_000)
    assert int(total.inner_text()) == before_total + 1
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#inbox-counts li[aria-current='true'] a[data-show='']").count() == 1


def test_the_inbox_table_follows_the_units_tickets_in_the_open_page_keeping_its_filter_and_typing(
        new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "housing")
    page.goto(f"{server.url}/unit?show=new")
    rows = page.locator("#inbox tbody")
    page.fill("input[name=q]", "半截的搜索")   # typed, not sent
    page.evaluate("window.notReloaded = true")
    page.wait_for_timeout(300)  # the page's stream is open before the ticket moves
    with services.sessions() as session:
        bus = session.scalars(select(Ticket).where(Ticket.title == BUS)).one()
        noise = session.scalars(select(Ticket).where(Ticket.title == NOISE)).one()
        housing = unit_by_code(session, "housing")
    assert bus.number not in rows.inner_text()
    # Transferred by the domain alone, as another process would: no notice, only a ticket change.
    services.run_sync(lambda s: lifecycle.transfer(s, s.get(Ticket, bus.id), unit_by_code(s, "housing"),
                                                   Actor(label="operator", role=Role.OPERATOR)))
    page.locator(f"#inbox tbody a[href='/tickets/{bus.number}']").first.wait_for(timeout=5_000)   # pushed
    # Ecology's ticket changes too: the city-wide news never brings another unit's ticket.
    services.run_sync(lambda s: lifecycle.escalate(s, s.get(Ticket, noise.id), Actor(label="supervisor", role=Role.SUPERVISOR),
                                                   "请尽快办理。"))
    # The ticket leaves the unit (退单): gone from the open table within the 5 s pause for city-wide news.
    services.run_sync(lambda s: lifecycle.return_ticket(
        s, s.get(Ticket, bus.id), Actor(label="housing", role=Role.UNIT_STAFF, unit_id=housing.id), "不属于本单位职责"))
    wait_true(page, f"!document.querySelector('#inbox tbody').textContent.includes('{bus.number}')",
                           timeout=10_000)
    assert noise.number not in rows.inner_text()
    assert page.evaluate("window.notReloaded") is True
    assert page.url.endswith("/unit?show=new")
    assert page.input_value("input[name=q]") == "半截的搜索"
    assert page.locator("#inbox-counts li[aria-current='true'] a[data-show='new']").count() == 1


def test_the_inbox_shows_its_worklist_first_and_marks_a_notice_read_in_place(new_context: Any, site: Any) -> None:
    server, services = site
    with services.sessions() as session:
        noise = session.scalars(select(Ticket).where(Ticket.title == NOISE)).one()
        ecology = unit_by_code(session, "ecology-environment")
    services.run_sync(lambda s: chasing.chase(s, noise.deadline + dt.timedelta(minutes=5), services.chase_policy()))
    # A supervisor's 督办 of the ticket, and a busy day's notices besides.
    def busy_day(session: Any) -> None:
        unit = session.get(type(ecology), ecology.id)
        for n in range(25):
            notices.tell(session, unit, notices.NoticeKind.KB_REVIEW, f"kb:test:{n}", f"知识库文章《第{n}篇》已过复核日期。")
        ticket = session.get(Ticket, noise.id)
        notices.tell_escalation(session, ticket, lifecycle.escalate(
            session, ticket, Actor(label="supervisor", role=Role.SUPERVISOR), "请尽快办理。"))

    services.run_sync(busy_day)
    context = new_context()
    page = login(context, server.url, "ecology")
    page.set_viewport_size(PHONE)
    page.goto(f"{server.url}/unit")
    # The worklist is on the first screen, above the notices; a skip link leads to each.
    row = page.locator(f"#inbox tbody tr:has(a[href='/tickets/{noise.number}'])")
    assert row.bounding_box()["y"] < page.locator("#notices").bounding_box()["y"]
    assert page.locator("#inbox").bounding_box()["y"] < PHONE["height"]
    assert row.locator("[data-news='escalation']").count() == 1   # the 督办 not yet read
    page.click(".skip-links a[href='#notices']")
    page.evaluate("window.notReloaded = true")
    page.wait_for_timeout(300)  # the page's stream is open

    escalation = page.get_by_role("button", name=re.compile(f"^标为已读：工单{noise.number}的督办通知"))
    escalation.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    unread = page.locator("#notices li.unread").count()
    escalation.click()
    wait_true(page, f"document.querySelectorAll('#notices li.unread').length === {unread - 1}", timeout=5_000)
    assert page.evaluate("window.notReloaded") is True and page.url.split("#")[0].endswith("/unit")
    assert abs(page.evaluate("window.scrollY") - before) < 2
    # The keyboard stays in the list: on the next notice's button.
    assert page.evaluate("document.activeElement.closest('#notices') !== null")
    # The row's 督办 tag goes with the notice, in place.
    row.locator("[data-news='escalation']").wait_for(state="detached", timeout=10_000)
    Shots()(page, "unit-inbox-worklist-first")
