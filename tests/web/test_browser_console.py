"""The operator console in Debian's chromium: a call that ends leaves 当前来电, 已回拨 asks
before a missed call leaves the list, Ctrl+Enter in 诉求内容 files the ticket."""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import telephony
from dispatch.clock import utcnow
from dispatch.demo import DEMO_PASSWORD
from dispatch.models import Callback
from tests.web.test_browser import (login, new_context, pbx_site, playwright_browser, site,  # noqa: F401 (fixtures)
                                    wait_true)


def _console_on(page: Any, server: Any, agent: str) -> None:
    page.select_option("#agent-select", agent)
    page.click("form[action='/operator/agent'] button")
    page.wait_for_selector("#pop-waiting")
    deadline = time.monotonic() + 10
    while server.app.state.hub.subscribers(f"screen-pop:{agent}") == 0:
        assert time.monotonic() < deadline, "the console did not subscribe to its screen-pops"
        page.wait_for_timeout(50)


def _answered(services: Any, server: Any, linkedid: str, caller: str, agent: str) -> None:
    now = utcnow()
    call = telephony.CallData(linkedid=linkedid, outcome="answered", caller=caller, dialed="12345",
                              started_at=now, queue="hotline", entered_queue_at=now, agent=agent,
                              agent_name="Wang Fang", answered_at=now)

    def record(session: Session) -> telephony.ScreenPop:
        return telephony.screen_pop(session, telephony.record_call(session, call))

    server.call(server.app.state.hub.publish, f"screen-pop:{agent}", services.run_sync(record))


def _ended(server: Any, linkedid: str, agent: str) -> None:
    server.call(server.app.state.hub.publish, f"call-ended:{agent}", {"linkedid": linkedid})


def test_a_call_that_ends_leaves_the_console_and_its_number_is_not_kept(new_context: Any, site: Any) -> None:
    server, services = site
    operator = login(new_context(), server.url, "operator")
    _console_on(operator, server, "PJSIP/7001")

    # Nothing typed: the call's end takes its number and call id off the form.
    _answered(services, server, "1700000000.51", "13803910051", "PJSIP/7001")
    operator.wait_for_selector("#pop-caller")
    assert operator.input_value("#intake-phone") == "13803910051"
    _ended(server, "1700000000.51", "PJSIP/7001")
    operator.wait_for_selector("#pop-ended")
    assert operator.query_selector("#pop-caller") is None
    assert "live" not in (operator.get_attribute("#screen-pop", "class") or "")
    assert operator.input_value("#intake-phone") == "" and operator.input_value("#intake-linkedid") == ""

    # Typed while on the call: the call leaves 当前来电, the form stays to be filed.
    _answered(services, server, "1700000000.52", "13803910052", "PJSIP/7001")
    operator.wait_for_selector("#pop-caller")
    operator.fill("#intake-form textarea[name=body]", "反映小区门口路灯不亮。")
    _ended(server, "1700000000.52", "PJSIP/7001")
    operator.wait_for_selector("#pop-ended")
    assert operator.input_value("#intake-form textarea[name=body]") == "反映小区门口路灯不亮。"
    assert operator.input_value("#intake-phone") == "13803910052"
    assert operator.input_value("#intake-linkedid") == "1700000000.52"


def test_a_call_the_pbx_hangs_up_leaves_the_console(pbx_site: Any) -> None:
    server, services, pbx, new_context = pbx_site
    operator = login(new_context(), server.url, "operator")
    _console_on(operator, server, "PJSIP/7002")
    pbx.start_call("answered")  # rings PJSIP/7002, talks a few seconds, hangs up
    operator.wait_for_selector("#pop-caller")
    assert operator.input_value("#intake-linkedid") != ""
    operator.wait_for_selector("#pop-ended", timeout=20_000)
    assert operator.input_value("#intake-phone") == "" and operator.input_value("#intake-linkedid") == ""
    operator.reload()
    assert operator.query_selector("#pop-caller") is None


def test_closing_a_missed_call_without_calling_asks_first(new_context: Any, site: Any) -> None:
    server, services = site
    now = utcnow()
    services.run_sync(lambda s: telephony.record_call(s, telephony.CallData(
        linkedid="1700000000.53", outcome="abandoned", caller="13803910053", dialed="12345",
        started_at=now - dt.timedelta(minutes=2), queue="hotline", entered_queue_at=now, ended_at=now)))
    operator = login(new_context(), server.url, "operator")
    operator.goto(f"{server.url}/operator")
    row = operator.locator("#callbacks tr:has-text('13803910053')")
    asked: list[str] = []

    def say(answer: bool) -> Any:
        def on_dialog(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if answer else dialog.dismiss()
        return on_dialog

    operator.once("dialog", say(False))
    row.locator("button:has-text('已回拨')").click()
    operator.wait_for_timeout(300)
    assert asked and "13803910053" in asked[0]
    with services.sessions() as session:
        assert session.scalar(select(Callback.status).where(Callback.caller.endswith("13803910053"))) == "pending"

    operator.once("dialog", say(True))
    with operator.expect_navigation():
        row.locator("button:has-text('已回拨')").click()
    assert "已记录回拨" in operator.inner_text("#done")
    with services.sessions() as session:
        assert session.scalar(select(Callback.status).where(Callback.caller.endswith("13803910053"))) == "done"


def test_ctrl_enter_in_the_request_files_the_call(new_context: Any, site: Any) -> None:
    server, services = site
    operator = login(new_context(), server.url, "operator")
    operator.goto(f"{server.url}/operator")
    assert "Ctrl+Enter" in operator.inner_text("#intake-submit-key")
    operator.fill("#intake-phone", "13803910054")
    body = operator.locator("#intake-form textarea[name=body]")
    body.fill("咨询老年人乘公交优惠卡的办理地点。")
    body.press("Enter")  # a plain Enter is a new line
    assert "/operator" in operator.url and body.input_value().endswith("\n")
    with operator.expect_navigation():
        body.press("Control+Enter")
    assert "/tickets/" in operator.url and "已受理" in operator.inner_text("#done")


def test_a_half_typed_request_survives_a_reload_and_a_look_elsewhere_until_it_is_filed(
        new_context: Any, site: Any) -> None:
    server, services = site
    operator = login(new_context(), server.url, "operator")
    operator.goto(f"{server.url}/operator")
    assert operator.locator("#draft-restored").is_hidden()
    operator.fill("#intake-phone", "13803910055")
    operator.fill("#intake-form input[name=name]", "张女士")
    operator.select_option("#intake-form select[name=urgency]", "urgent")
    operator.fill("#intake-form textarea[name=body]", "反映小区门口路灯坏了三天。")

    # F5 in the middle of the call: the words, the number and the choices are back, said so.
    operator.reload()
    assert operator.input_value("#intake-form textarea[name=body]") == "反映小区门口路灯坏了三天。"
    assert operator.input_value("#intake-phone") == "13803910055"
    assert operator.input_value("#intake-form input[name=name]") == "张女士"
    assert operator.input_value("#intake-form select[name=urgency]") == "urgent"
    assert "已恢复" in operator.inner_text("#draft-restored")

    # A look at the search page and back by the menu: still there.
    operator.goto(f"{server.url}/search?q=13803910055")
    operator.click("header a[href='/operator']")
    assert operator.input_value("#intake-form textarea[name=body]") == "反映小区门口路灯坏了三天。"

    # Filed: the next call starts on an empty form.
    with operator.expect_navigation():
        operator.locator("#intake-form textarea[name=body]").press("Control+Enter")
    assert "/tickets/" in operator.url
    operator.goto(f"{server.url}/operator")
    assert operator.input_value("#intake-form textarea[name=body]") == ""
    assert operator.locator("#draft-restored").is_hidden()

    # 清空 throws a restored draft away.
    operator.fill("#intake-form textarea[name=body]", "咨询公积金提取。")
    operator.reload()
    operator.click("#draft-restored button")
    assert operator.input_value("#intake-form textarea[name=body]") == ""
    operator.reload()
    assert operator.input_value("#intake-form textarea[name=body]") == ""


def test_a_restored_request_is_not_taken_over_by_the_call_on_the_line(new_context: Any, site: Any) -> None:
    server, services = site
    operator = login(new_context(), server.url, "operator")
    _console_on(operator, server, "PJSIP/7001")
    operator.fill("#intake-phone", "13803910056")
    operator.fill("#intake-form textarea[name=body]", "反映噪音扰民。")
    # Another caller gets through while the page reloads: the page comes with that call.
    _answered(services, server, "1700000000.57", "13803910057", "PJSIP/7001")
    operator.wait_for_selector("#pop-queue li")
    operator.reload()
    assert operator.input_value("#intake-form textarea[name=body]") == "反映噪音扰民。"
    assert operator.input_value("#intake-phone") == "13803910056"
    assert operator.input_value("#intake-linkedid") == ""
    assert "13803910057" in operator.inner_text("#pop-queue-list")


def test_enter_in_a_one_line_field_moves_on_and_ctrl_enter_there_files(new_context: Any, site: Any) -> None:
    server, services = site
    operator = login(new_context(), server.url, "operator")
    operator.goto(f"{server.url}/operator")
    operator.fill("#intake-phone", "13803910058")
    operator.fill("#intake-form textarea[name=body]", "反映小区路灯不亮。")
    # The place typed last and Enter pressed out of habit: nothing is filed yet.
    place = operator.locator("#intake-form input[name=location]")
    place.fill("沁园街道")
    place.press("Enter")
    operator.wait_for_timeout(500)
    assert operator.url.endswith("/operator")
    assert operator.evaluate("document.activeElement.name") == "confidential"
    operator.keyboard.press("Enter")
    assert operator.evaluate("document.activeElement.id") == "intake-submit"
    operator.fill("#intake-form input[name=name]", "李先生")
    with operator.expect_navigation():
        operator.locator("#intake-form input[name=name]").press("Control+Enter")
    assert "/tickets/" in operator.url and "已受理" in operator.inner_text("#done")


def test_a_refused_number_puts_the_cursor_in_the_number_field(new_context: Any, site: Any) -> None:
    server, services = site
    operator = login(new_context(), server.url, "operator")
    operator.goto(f"{server.url}/operator")
    operator.fill("#intake-phone", "12")
    operator.fill("#intake-form textarea[name=body]", "反映小区路灯不亮。")
    with operator.expect_navigation():
        operator.locator("#intake-form textarea[name=body]").press("Control+Enter")
    assert "联系电话" in operator.inner_text("#intake-error")
    assert operator.evaluate("document.activeElement.id") == "intake-phone"
    assert operator.get_attribute("#intake-phone", "aria-invalid") == "true"
    assert operator.input_value("#intake-form textarea[name=body]") == "反映小区路灯不亮。"


def test_a_number_typed_by_hand_shows_the_callers_earlier_tickets(new_context: Any, site: Any) -> None:
    server, services = site
    operator = login(new_context(), server.url, "operator")
    operator.goto(f"{server.url}/operator")
    operator.fill("#intake-phone", "13803910059")
    operator.fill("#intake-form textarea[name=body]", "反映小区门口路灯不亮。")
    with operator.expect_navigation():
        operator.locator("#intake-form textarea[name=body]").press("Control+Enter")
    number = operator.inner_text("#ticket-number").strip()

    # The same citizen calls again without caller ID and says their number.
    operator.goto(f"{server.url}/operator")
    assert operator.locator("#intake-history").is_hidden()
    operator.fill("#intake-phone", "138-0391-0059")
    operator.press("#intake-phone", "Tab")
    operator.wait_for_selector("#intake-history-list li")
    assert number in operator.inner_text("#intake-history") and "已受理" in operator.inner_text("#intake-history")
    operator.fill("#intake-phone", "13803910060")
    operator.press("#intake-phone", "Tab")
    operator.wait_for_selector("#intake-history-none", state="visible")
    assert operator.query_selector("#intake-history-list li") is None


def test_logging_out_with_a_request_not_filed_asks_first_and_then_keeps_nothing(
        new_context: Any, site: Any) -> None:
    server, services = site
    context = new_context()
    operator = login(context, server.url, "operator")
    operator.goto(f"{server.url}/operator")
    operator.fill("#intake-phone", "13803910061")
    operator.fill("#intake-form textarea[name=body]", "反映小区门口路灯不亮。")
    asked: list[str] = []

    def answer(yes: bool) -> Any:
        def on_dialog(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if yes else dialog.dismiss()
        return on_dialog

    operator.once("dialog", answer(False))
    operator.click("header form[action='/logout'] button")
    operator.wait_for_timeout(300)
    assert asked and "未受理" in asked[0] and operator.url.endswith("/operator")
    operator.once("dialog", answer(True))
    with operator.expect_navigation():
        operator.click("header form[action='/logout'] button")
    # The same operator back in the same tab (the next shift) starts on an empty form.
    operator.fill("input[name=username]", "operator")
    operator.fill("input[name=password]", DEMO_PASSWORD)
    with operator.expect_navigation():
        operator.press("input[name=password]", "Enter")
    operator.goto(f"{server.url}/operator")
    assert operator.input_value("#intake-form textarea[name=body]") == ""


def test_a_request_typed_hours_ago_is_not_restored(new_context: Any, site: Any) -> None:
    server, services = site
    operator = login(new_context(), server.url, "operator")
    operator.goto(f"{server.url}/operator")
    operator.fill("#intake-form textarea[name=body]", "反映噪音扰民。")
    operator.goto(f"{server.url}/search")
    # On another page, three hours pass (the draft's time set back).
    operator.evaluate("""() => {
        const key = Object.keys(sessionStorage).find(k => k.startsWith('hotline.intake-draft:'));
        const kept = JSON.parse(sessionStorage.getItem(key));
        kept.saved_at = Date.now() - 3 * 60 * 60 * 1000;
        sessionStorage.setItem(key, JSON.stringify(kept));
    }""")
    operator.goto(f"{server.url}/operator")
    assert operator.input_value("#intake-form textarea[name=body]") == ""
    assert operator.locator("#draft-restored").is_hidden()


def test_a_ticket_number_typed_in_the_consoles_search_opens_the_ticket(new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    page.fill("#intake-phone", "13803910079")
    page.fill("#intake-form textarea[name=body]", "小区门口路灯坏了三天")
    with page.expect_navigation():
        page.locator("#intake-form textarea[name=body]").press("Control+Enter")
    number = page.url.split("/tickets/")[1].split("?")[0]
    page.goto(f"{server.url}/operator")
    page.fill(".console-head input[name=q]", number)
    with page.expect_navigation():
        page.locator(".console-head input[name=q]").press("Enter")
    assert page.url == f"{server.url}/tickets/{number}"


def test_a_callback_rings_in_the_background_and_its_row_shows_how_it_went(pbx_site: Any) -> None:
    server, services, pbx, new_context = pbx_site
    now = utcnow()
    services.run_sync(lambda s: telephony.record_call(s, telephony.CallData(
        linkedid="1700000000.6", outcome="abandoned", caller="13803910066", dialed="12345",
        started_at=now - dt.timedelta(minutes=2), queue="hotline", entered_queue_at=now, ended_at=now)))
    with services.sessions() as session:
        callback_id = session.scalar(select(Callback.id).where(Callback.caller.like("%13803910066")))
    operator = login(new_context(), server.url, "operator")
    _console_on(operator, server, "PJSIP/7002")
    # At the PBX's own pace: the operator's phone rings 3 s, then the citizen's 2 s, unanswered.
    pbx.sim.speed = 1.0
    pbx.sim.dial_status["13803910066"] = "NOANSWER"
    row = operator.locator(f"#callback-{callback_id}")
    clicked = time.monotonic()
    row.locator("form.callback-call button").click()
    wait_true(operator, f"document.querySelector('#callback-{callback_id} .callback-status')"
                        ".textContent === '正在回拨…'", timeout=2_000)
    assert time.monotonic() - clicked < 2.5 and operator.url.endswith("/operator")
    assert row.locator("form.callback-call button").is_disabled()
    # A reload while it rings: the row still says so, and then says how it went.
    operator.reload()
    assert operator.inner_text(f"#callback-{callback_id} .callback-status") == "正在回拨…"
    wait_true(operator, f"/^最近回拨：话务员 王芳 \\d\\d-\\d\\d \\d\\d:\\d\\d 无人接听$/.test("
                        f"document.querySelector('#callback-{callback_id} .callback-status').textContent)",
              timeout=15_000)
    assert operator.inner_text(f"#callback-{callback_id} .callback-attempts") == "1"
    assert row.locator("form.callback-call button").is_enabled()


def test_a_callback_answered_takes_every_row_of_that_number_off_the_console(pbx_site: Any) -> None:
    """The citizen who rang twice and got no answer is called back once: when they answer, the
    server closes both missed calls, and the console stops offering 回拨 and 已回拨 on either
    (a second 回拨 would ring them again; 已回拨 would only be refused)."""
    server, services, pbx, new_context = pbx_site
    now = utcnow()
    for n, minutes in ((1, 9), (2, 3)):
        services.run_sync(lambda s, n=n, minutes=minutes: telephony.record_call(s, telephony.CallData(
            linkedid=f"1700000000.7{n}", outcome="abandoned", caller="13803910067", dialed="12345",
            started_at=now - dt.timedelta(minutes=minutes), queue="hotline", entered_queue_at=now, ended_at=now)))
    with services.sessions() as session:
        first, second = session.scalars(select(Callback.id).where(Callback.caller.like("%13803910067"))
                                        .order_by(Callback.id)).all()
    operator = login(new_context(), server.url, "operator")
    _console_on(operator, server, "PJSIP/7002")
    pbx.sim.dial_status["13803910067"] = "ANSWER"
    operator.locator(f"#callback-{second} form.callback-call button").click()
    for callback_id in (second, first):
        wait_true(operator, f"document.querySelector('#callback-{callback_id} .callback-status')"
                            ".textContent === '市民已接听，已移出回拨列表'", timeout=15_000)
        row = operator.locator(f"#callback-{callback_id}")
        assert row.locator("form.callback-call button").is_disabled()
        assert row.locator("form.callback-done button").is_disabled()
