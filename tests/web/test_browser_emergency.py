"""Emergencies at intake in Debian's chromium: while the operator types a request about a
crash with someone hurt, the console names 122 and 120 with a 即时转 each; one click files
the ticket and hands it over, as the ticket page's 即时转 does. A kitchen fire names 119."""
from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from dispatch.limits import Limits
from dispatch.models import Ticket
from tests.web.test_browser import Shots, login, new_context, playwright_browser, site, wait_true  # noqa: F401 (fixtures)

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
    wait_true(page, "document.getElementById('draft-routing') !== null")
    page.wait_for_timeout(1_000)
    assert hint.is_hidden()


def test_past_the_proposal_limit_the_console_keeps_the_last_proposal_and_says_why(
        new_context: Any, site: Any, minute_to_spare: None) -> None:
    server, services = site
    services.settings = dataclasses.replace(services.settings, limits=Limits.build(drafts_per_operator_per_minute=1))
    page = login(new_context(), server.url, "operator")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/operator")
    routing, limited = page.locator("#draft-routing"), page.locator("#draft-limited")
    page.fill("#intake-form textarea[name=body]", "楼上装修噪音太大，每天早上七点就开始电钻")
    wait_true(page, "document.getElementById('draft-routing').textContent !== ''")
    first = routing.inner_text()
    assert limited.is_hidden()

    page.fill("#intake-form textarea[name=body]", "家里厨房着火了")
    limited.wait_for(state="visible", timeout=5_000)
    assert "分类建议刷新过于频繁" in limited.inner_text() and "秒后" in limited.inner_text()
    assert routing.inner_text() == first
    # The emergency hint is a word match: it follows the words all the same.
    page.locator("#emergency-hint button[data-to='119']").wait_for(timeout=5_000)
    assert errors == []


SMOKE = "楼下着火了，冒了很多烟"


def test_beside_an_emergency_hint_no_article_answers_and_the_handover_files_an_urgent_request(
        new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    page.fill("#intake-phone", "13803910078")
    page.fill("#intake-form textarea[name=body]", SMOKE)
    page.locator("#emergency-hint button[data-to='119']").wait_for(timeout=5_000)
    page.locator("#kb-articles button.kb-answer").first.wait_for(timeout=5_000)
    # The articles stay readable, but none of them answers a fire report.
    wait_true(page, "Array.from(document.querySelectorAll('#kb-articles button.kb-answer'))"
                    ".every(b => b.disabled)")
    note = page.locator("#kb-emergency")
    assert note.is_visible() and "疑似紧急情况" in note.inner_text()
    assert "即时转" in (page.locator("#kb-articles button.kb-answer").first.get_attribute("title") or "")

    # Words that point nowhere: the articles answer again.
    page.fill("#intake-form textarea[name=body]", "来电人说社保卡丢了，问怎么补办")
    wait_true(page, "document.getElementById('emergency-hint').hidden && "
                    "document.querySelector('#kb-articles button.kb-answer:not([disabled])') !== null")
    assert note.is_hidden()

    page.fill("#intake-form textarea[name=body]", SMOKE)
    page.locator("#emergency-hint button[data-to='119']").wait_for(timeout=5_000)
    page.locator("#emergency-hint button[data-to='119']").click()
    page.wait_for_url("**/tickets/*")
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.body == SMOKE)).one()
    assert (ticket.state, ticket.request_type, ticket.urgency) == ("handed_over", "help", "urgent")


def test_a_fire_filed_without_an_answer_asks_again_before_the_ticket_page_answers_it(
        new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    page.fill("#intake-phone", "13803910079")
    page.fill("#intake-form textarea[name=body]", SMOKE)
    page.locator("#emergency-hint button[data-to='119']").wait_for(timeout=5_000)
    page.click("#intake-submit")   # 受理 only: the operator means to check before answering
    page.wait_for_url("**/tickets/*")
    page.fill("#answer-text", "经核实为邻居家做饭油烟，已告知市民无火情")
    page.click("#answer-form button:text-is('直接办结')")
    confirm = page.locator("#answer-form #confirm-answer button")
    confirm.wait_for(timeout=5_000)
    assert "疑似紧急情况（建议即时转 119）" in page.locator("#action-error").inner_text()
    assert page.input_value("#answer-text") == "经核实为邻居家做饭油烟，已告知市民无火情"
    # Had it been a fire after all, 即时转 is at hand with the number the refusal named.
    assert page.input_value("#handover-form select[name=to]") == "119"
    confirm.click()
    page.locator("#done").wait_for(timeout=5_000)
    with services.sessions() as session:
        assert session.scalars(select(Ticket.state).where(Ticket.phone.like("%13803910079"))).one() == "answered"
