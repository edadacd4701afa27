"""The operator's day in Debian's chromium: while a request is typed, 诉求类型 follows the type
its words say until the operator chooses one, then offers it with one click; and a ticket filed
wrong is put right on its page (修改受理信息), the record showing what it was."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch.models import Ticket
from tests.web.test_browser import login, new_context, playwright_browser, site, wait_true  # noqa: F401 (fixtures)

NOISE = "楼上装修噪音太大，每天早上七点就开始电钻，严重影响休息。"
QUESTION = "请问新生儿医保在哪里办理，需要什么材料？"


def _type(page: Any) -> str:
    return page.eval_on_selector("#intake-type", "el => el.value")  # type: ignore[no-any-return]


def test_the_type_follows_the_words_until_the_operator_chooses_and_then_is_offered(
        new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    assert _type(page) == "consultation"
    page.fill("#intake-phone", "13803910088")
    page.fill("#intake-form textarea[name=body]", NOISE)
    # Untouched, the select follows the words, and says so beside it.
    wait_true(page, "document.getElementById('intake-type').value === 'complaint'")
    hint = page.locator("#type-hint")
    assert hint.is_visible() and "噪音" in hint.inner_text() and "投诉" in hint.inner_text()
    assert not page.locator("#type-hint-take").is_visible()
    # The operator chooses: the words no longer move the select, they offer theirs.
    page.select_option("#intake-type", "help")
    page.fill("#intake-form textarea[name=body]", NOISE + "我要投诉。")
    take = page.locator("#type-hint-take")
    take.wait_for(state="visible", timeout=5_000)
    assert _type(page) == "help" and take.inner_text() == "改为投诉"
    take.click()
    assert _type(page) == "complaint" and not take.is_visible()
    page.click("#intake-submit")
    page.wait_for_url("**/tickets/*")
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.phone == "+8613803910088")).one()
    assert ticket.request_type == "complaint"


def test_words_of_a_question_keep_the_default_and_a_question_turned_complaint_follows(
        new_context: Any, site: Any) -> None:
    server, _ = site
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    page.fill("#intake-form textarea[name=body]", QUESTION)
    wait_true(page, "!document.getElementById('type-hint').hidden")
    assert _type(page) == "consultation"
    page.fill("#intake-form textarea[name=body]", "我要投诉物业")
    wait_true(page, "document.getElementById('intake-type').value === 'complaint'")
    page.fill("#intake-form textarea[name=body]", "人民路")
    wait_true(page, "document.getElementById('intake-type').value === 'consultation'")
    assert page.locator("#type-hint").is_hidden()


def test_an_operator_corrects_a_ticket_filed_wrong_on_its_page(new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    page.fill("#intake-phone", "13803910099")
    page.fill("#intake-form textarea[name=body]", "小区门口路灯不亮。")
    page.select_option("#intake-type", "consultation")
    page.click("#intake-submit")
    page.wait_for_url("**/tickets/*")
    page.click("#correct summary")
    page.select_option("#correct-form select[name=type]", "complaint")
    page.fill("#correct-form input[name=location]", "济水街道文化路12号")
    page.fill("#correct-form textarea[name=body]", "小区门口路灯不亮一个月了，物业不管。")
    page.click("#correct-form button[type=submit]")
    page.wait_for_selector("#done")
    assert "受理信息已修改" in page.inner_text("#done")
    record = page.inner_text("#audit-log")
    assert "修改受理信息" in record and "咨询 → 投诉" in record and "济水街道文化路12号" in record
    # Each field changed is a line of the note, not a step of the record: no timeline dot on it.
    dots = page.evaluate("Array.from(document.querySelectorAll('#audit-log .correction li'))"
                         ".map(li => getComputedStyle(li, '::before').content)")
    assert dots and set(dots) == {"none"}, dots
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.phone == "+8613803910099")).one()
    assert (ticket.request_type, ticket.location) == ("complaint", "济水街道文化路12号")
