"""Emergencies at intake in Debian's chromium: while the operator types a request about a
crash with someone hurt, the console names 122 and 120 with a 即时转 each; one click files
the ticket and hands it over, as the ticket page's 即时转 does. A kitchen fire names 119."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch.models import Ticket
from tests.web.test_browser import Shots, login, new_context, playwright_browser, site  # noqa: F401 (fixtures)

CRASH = "济水大街和黄河路交叉口发生车祸，有人受伤倒地，需要救护车"


def test_the_console_offers_a_handover_as_an_emergency_is_typed_and_one_click_makes_it(
        new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    page.fill("#intake-phone", "13803910077")
    hint = page.locator("#emergency-hint")
    page.fill("#intake-form textarea[name=body]", "家里厨房着火了")
    page.locator("#emergency-hint button[data-to='119']").wait_for(timeout=5_000)
    assert "119 火警" in hint.inner_text() and "着火" in hint.inner_text()

    page.fill("#intake-form textarea[name=body]", CRASH)
    page.locator("#emergency-hint button[data-to='120']").wait_for(timeout=5_000)
    assert [b.get_attribute("data-to") for b in hint.locator("button").all()] == ["122", "120"]
    assert "119" not in hint.inner_text()
    Shots()(page, "operator-emergency", phone=False)
    page.locator("#emergency-hint button[data-to='122']").click()
    page.wait_for_url("**/tickets/*")
    assert "122 交通事故" in page.locator("#handed-over-to").inner_text()

    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.body == CRASH)).one()
    assert ticket.state == "handed_over" and ticket.handover_to == "122" and ticket.number in page.url

    # An ordinary request shows no hint.
    page.goto(f"{server.url}/operator")
    page.fill("#intake-form textarea[name=body]", "楼上装修噪音太大，每天早上七点就开始电钻")
    page.wait_for_function("document.getElementById('draft-routing') !== null")
    page.wait_for_timeout(1_000)
    assert hint.is_hidden()
