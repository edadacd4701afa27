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
from dispatch.models import Callback
from tests.web.test_browser import login, new_context, pbx_site, playwright_browser, site  # noqa: F401 (fixtures)


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
