"""受理并转办 in Debian's chromium, by keyboard: the operator types a request, Tabs to a
proposed unit's 受理并转办 and presses Enter; the ticket is filed and transferred, and the
ticket page has the cursor on 返回话务台. A request filed with Ctrl+Enter lands with the
cursor on the top suggestion's 转办, one Enter away. A unit retired meanwhile is refused with
the reason, the typed words still in the form."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from dispatch.models import Ticket, Unit
from tests.web.test_browser import Shots, login, new_context, playwright_browser, site, wait_true  # noqa: F401 (fixtures)

NOISE = "楼上装修噪音太大，每天早上七点就开始电钻，周末也不停，严重影响休息，请相关部门管一管。"
ACTIVE = "document.activeElement && (document.activeElement.id || document.activeElement.dataset.unit)"


def _ticket(services: Any, body: str) -> Ticket:
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.body == body)).one()
        session.expunge(ticket)
        return ticket


def _unit_code(services: Any, unit_id: int | None) -> str | None:
    with services.sessions() as session:
        return session.scalar(select(Unit.code).where(Unit.id == unit_id))


def _type_request(page: Any, phone: str, body: str) -> Any:
    page.fill("#intake-phone", phone)
    page.fill("#intake-form textarea[name=body]", body)
    button = page.locator("#draft-transfer button.transfer-proposed").first
    button.wait_for(timeout=10_000)
    return button


def test_an_operator_files_and_transfers_in_one_keystroke_and_lands_on_the_way_back(
        new_context: Any, site: Any, small_model: Any) -> None:
    server, services = site
    services.router.model = small_model
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    first = _type_request(page, "13803910071", NOISE)
    unit = first.get_attribute("data-unit")
    assert first.inner_text().startswith("受理并转办 ")
    # Each proposed unit below routing's threshold is marked, the second and third too, and its
    # button is described by the mark for a screen reader.
    lines = page.evaluate("""Array.from(document.querySelectorAll('#draft-transfer .transfer-line')).map(l => {
        const b = l.querySelector('button'), mark = l.querySelector('.low-confidence');
        return {percent: parseFloat(l.querySelector('.prob').textContent), mark: mark && mark.textContent,
                described: b.getAttribute('aria-describedby') === (mark && mark.id)};
    })""")
    assert len(lines) >= 2 and all(line["described"] for line in lines)
    assert [line["mark"] for line in lines] == ["置信度低" if line["percent"] / 100 < services.router.threshold
                                                else None for line in lines]
    assert any(line["mark"] for line in lines[1:])
    Shots()(page, "operator-transfer", phone=False)
    # Reached from the request by Tab alone.
    page.focus("#intake-form textarea[name=body]")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE) == unit:
            break
    assert page.evaluate(ACTIVE) == unit
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "已受理并转办" in page.inner_text("#done")
    ticket = _ticket(services, NOISE)
    assert ticket.state == "transferred" and _unit_code(services, ticket.unit_id) == unit
    wait_true(page, "document.activeElement && document.activeElement.id === 'back-to-console'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/operator")


def test_a_request_filed_with_ctrl_enter_lands_on_the_top_suggestions_transfer(new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    body = "小区门口的路灯坏了一个多月，晚上很黑，请尽快修理。"
    page.fill("#intake-phone", "13803910072")
    page.fill("#intake-form textarea[name=body]", body)
    with page.expect_navigation():
        page.press("#intake-form textarea[name=body]", "Control+Enter")
    # The site's stand-in classifier proposes housing first (tests/web/test_browser.py).
    wait_true(page, "document.activeElement && document.activeElement.dataset.unit === 'housing'")
    Shots()(page, "ticket-from-console", phone=False)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "已转办" in page.inner_text("#done")
    ticket = _ticket(services, body)
    assert ticket.state == "transferred" and _unit_code(services, ticket.unit_id) == "housing"
    wait_true(page, "document.activeElement && document.activeElement.id === 'back-to-console'")


def test_a_unit_retired_meanwhile_is_refused_and_the_request_stays(
        new_context: Any, site: Any, small_model: Any) -> None:
    server, services = site
    services.router.model = small_model
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    first = _type_request(page, "13803910073", NOISE)
    unit = first.get_attribute("data-unit")
    with services.sessions() as session:
        session.execute(update(Unit).where(Unit.code == unit).values(active=False))
        session.commit()
    with page.expect_navigation():
        first.click()
    assert "已停用，不能再接收工单" in page.inner_text("#intake-error")
    assert page.input_value("#intake-form textarea[name=body]") == NOISE
    assert page.input_value("#intake-phone") == "13803910073"
    with services.sessions() as session:
        assert session.scalar(select(Ticket.id).where(Ticket.body == NOISE)) is None
