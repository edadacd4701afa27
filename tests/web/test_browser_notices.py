"""A unit's inbox open in Debian's chromium hears of a notice without a reload, and the unit
marks it read there."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from dispatch import chasing
from dispatch.models import Ticket
from tests.web.test_browser import Shots, login, new_context, playwright_browser, site  # noqa: F401 (fixtures)

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
    page.wait_for_load_state()
    assert page.locator(f"#notices li.read:has-text('{noise.number}')").count() == 1
