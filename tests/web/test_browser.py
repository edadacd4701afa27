"""The whole story in a real browser (Debian's chromium driven by Playwright): a citizen
files a complaint on the form, an operator transfers it, the unit accepts and resolves it,
the citizen sees it resolved by number and code, and the public board's counts and rates
follow, live. Screenshots of every page at desktop and phone width go to test-artifacts/.

Skipped only where no chromium exists and CI is not set; in CI a missing browser fails."""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.demo import DEMO_PASSWORD
from dispatch.models import Call, Ticket
from dispatch import telephony
from dispatch.clock import utcnow
from tests.web.pages_support import seed_demo
from tests.web.server import ServerThread
from web.app import create_app
from web.config import Settings
from web.services import Services

CHROMIUM = os.environ.get("HOTLINE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _browser_or_skip() -> Any:
    missing = None
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing = f"no chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = missing or "the playwright package is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    return sync_playwright


@pytest.fixture(scope="module")
def playwright_browser() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def suggest_housing(_session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    """Stands in for the classifier: the street-light complaints go to housing."""
    return [{"unit_code": "housing", "probability": 0.87, "reason": "模型：城乡建设 87%"},
            {"unit_code": "qinyuan", "probability": 0.08, "reason": "属地：沁园街道"}]


@pytest.fixture
def site(database_url: str, sessions: sessionmaker[Session]) -> Iterator[tuple[ServerThread, Services]]:
    services = Services.build(Settings(database_url=database_url))
    seed_demo(services)  # the demo, from the run's snapshot when there is one
    app = create_app(services.settings, services)
    app.state.suggest = suggest_housing
    try:
        with ServerThread(app) as server:
            yield server, services
    finally:
        services.close()


@pytest.fixture
def new_context(playwright_browser: Any, site: Any) -> Iterator[Any]:
    """Browser contexts of one test, closed before its server stops (their live streams too).
    Whatever the test does, the site's Content-Security-Policy must refuse nothing the pages
    themselves need: chromium reports each refusal on the console, and any fails the test."""
    made: list[Any] = []
    refused: list[str] = []

    def make(**options: Any) -> Any:
        context = playwright_browser.new_context(viewport=DESKTOP, locale="zh-CN", **options)
        context.set_default_timeout(10_000)
        context.on("console", lambda message: refused.append(message.text)
                   if "Content Security Policy" in message.text else None)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
    assert not refused, refused


class Dialogs:
    """A page's confirm() dialogs: each message kept in `asked`; dismissed (取消) until
    `accept` is set."""

    def __init__(self, page: Any) -> None:
        self.asked: list[str] = []
        self.accept = False
        page.on("dialog", self._answer)

    def _answer(self, dialog: Any) -> None:
        self.asked.append(dialog.message)
        dialog.accept() if self.accept else dialog.dismiss()


class Shots:
    def __init__(self) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def __call__(self, page: Any, name: str, *, phone: bool = True) -> None:
        """The page at desktop width, then (unless told not to) at phone width, full length."""
        size = page.viewport_size
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE))[:2 if phone else 1]:
            page.set_viewport_size(viewport)
            path = ARTIFACTS / f"{name}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            self.taken.append(path)
        page.set_viewport_size(size)


def wait_true(page: Any, expression: str, timeout: float = 10_000) -> Any:
    """page.wait_for_function, polled from here: Playwright's own runs the expression through
    eval() inside the page, which the site's Content-Security-Policy (no 'unsafe-eval', as it
    should be) refuses; page.evaluate goes through the DevTools protocol, which it does not."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} ms: {expression}")
        page.wait_for_timeout(50)


def login(context: Any, base: str, username: str) -> Any:
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def figure(page: Any, element_id: str) -> str:
    return page.inner_text(f"#{element_id}").strip()


def test_a_complaint_travels_from_the_form_to_the_board(new_context: Any, site: Any) -> None:
    server, services = site
    base = server.url
    shots = Shots()

    # The wall screen is open all along; it must follow every step by itself.
    wall = new_context().new_page()
    wall.goto(f"{base}/board?days=7")
    before = {k: int(figure(wall, f"period-{k}")) for k in ("received", "pending", "in_progress", "resolved")}
    resolution_before = figure(wall, "rate-resolution")

    # A citizen files a complaint on the home page.
    citizen = new_context().new_page()
    citizen.goto(base + "/")
    shots(citizen, "home")
    citizen.select_option("select[name=type]", "complaint")
    citizen.fill("input[name=title]", "济水大街路灯不亮")
    citizen.fill("textarea[name=body]", "济水大街与天坛路交叉口的路灯坏了一周，晚上很黑，我叫王小明，电话13912345678。")
    citizen.fill("input[name=phone]", "13912345678")
    citizen.fill("input[name=name]", "王小明")
    citizen.click("#complaint-form button[type=submit]")
    number = citizen.inner_text("#ticket-number").strip()
    code = citizen.inner_text("#query-code").strip()
    assert re.fullmatch(r"\d{8}-\d+", number) and re.fullmatch(r"\d{6}", code)
    shots(citizen, "submitted")

    # The board counts it, pushed by server-sent events (no reload).
    wait_true(wall, f"document.getElementById('period-received').innerText.trim() === '{before['received'] + 1}'",
                           timeout=10_000)
    assert int(figure(wall, "period-pending")) == before["pending"] + 1

    # The operator finds it waiting and transfers it with one click on the top suggestion.
    office = new_context()
    operator = login(office, base, "operator")
    assert operator.url.endswith("/operator")
    operator.click(f"#waiting a:text('{number}')")
    operator.wait_for_selector("#suggestions")
    assert "87.0%" in operator.inner_text("#suggestions")
    shots(operator, "ticket-operator")
    operator.click("#suggestions button[data-unit=housing]")
    operator.wait_for_selector("#done")
    assert "住房和城乡建设局" in operator.inner_text("#ticket-unit")

    # The unit sees it in its inbox, accepts it and replies.
    unit_context = new_context()
    unit = login(unit_context, base, "housing")
    unit.on("dialog", lambda dialog: dialog.accept())   # 确认办结
    assert unit.url.endswith("/unit")
    assert number in unit.inner_text("#inbox")
    shots(unit, "unit-inbox")
    unit.click(f"#inbox a:text('{number}')")
    unit.click("#accept-form button")
    unit.wait_for_selector("#resolve-form")
    assert "已签收" in unit.inner_text("#done")
    unit.fill("#resolve-form textarea[name=text]", "已于当天更换路灯灯具，经回访路灯正常亮起。")
    unit.click("#resolve-form button")
    unit.wait_for_selector("#done")
    assert "已办结" in unit.inner_text("#ticket-state")
    shots(unit, "ticket-unit")

    # The citizen looks it up by number and code: resolved, with the reply, masked.
    citizen.goto(f"{base}/status")
    citizen.fill("input[name=number]", number)
    citizen.fill("input[name=code]", code)
    citizen.click("form[action='/status'] button")
    assert "已办结" in citizen.inner_text("#status-state")
    assert "更换路灯" in citizen.inner_text("#status-reply")
    view = citizen.inner_text("#status-view")
    assert "13912345678" not in view and "王小明" not in view and "139****5678" in view
    shots(citizen, "status")

    # The board: one more resolved, one fewer pending, the resolution rate moved.
    wait_true(wall, f"document.getElementById('period-resolved').innerText.trim() === '{before['resolved'] + 1}'",
                           timeout=10_000)
    assert int(figure(wall, "period-pending")) == before["pending"]
    assert int(figure(wall, "period-received")) == before["received"] + 1
    assert figure(wall, "rate-resolution") != resolution_before
    assert "住房和城乡建设局" in wall.inner_text("#unit-table")
    assert "更换路灯" in wall.inner_text("#recent-cases")
    assert "13912345678" not in wall.inner_text("#recent-cases")
    shots(wall, "board")

    # The supervisor's dashboard and the search.
    supervisor = login(new_context(), base, "supervisor")
    assert supervisor.url.endswith("/supervisor")
    shots(supervisor, "supervisor")
    supervisor.goto(f"{base}/search?q=路灯")
    assert number in supervisor.inner_text("#results")
    shots(supervisor, "search")
    login_page = new_context().new_page()
    login_page.goto(f"{base}/login")
    shots(login_page, "login")

    assert all(p.stat().st_size > 5_000 for p in shots.taken)


def test_a_call_pops_up_on_the_operators_console_and_becomes_a_ticket(new_context: Any, site: Any) -> None:
    server, services = site
    base = server.url
    office = new_context()
    operator = login(office, base, "operator")
    operator.select_option("#agent-select", "PJSIP/7001")
    operator.click("form[action='/operator/agent'] button")
    operator.wait_for_selector("#pop-waiting")
    hub = server.app.state.hub
    deadline = time.monotonic() + 10
    while hub.subscribers("screen-pop:PJSIP/7001") == 0:
        assert time.monotonic() < deadline, "the console did not subscribe to its screen-pops"
        operator.wait_for_timeout(50)

    now = utcnow()
    call = telephony.CallData(linkedid="1700000000.42", outcome="answered", caller="13803910001", dialed="12345",
                              started_at=now, queue="hotline", entered_queue_at=now, agent="PJSIP/7001",
                              agent_name="Wang Fang", answered_at=now)

    def record(session: Session) -> telephony.ScreenPop:
        return telephony.screen_pop(session, telephony.record_call(session, call))

    pop = services.run_sync(record)
    assert pop.earlier_tickets, "the demo's first sample came from this number"
    server.call(hub.publish, "screen-pop:PJSIP/7001", pop)
    operator.wait_for_selector("#pop-caller")
    assert operator.inner_text("#pop-caller") == "13803910001"
    assert operator.input_value("#intake-phone") == "13803910001"
    assert len(operator.query_selector_all("#pop-earlier li")) == len(pop.earlier_tickets)
    Shots()(operator, "operator")

    operator.fill("#intake-form textarea[name=body]", "咨询新生儿医保怎么办理，需要什么材料。")
    operator.click("#intake-form button[type=submit]")
    operator.wait_for_selector("#done")
    number = operator.inner_text("#ticket-number").strip()
    with services.sessions() as session:
        linked = session.scalar(select(Call.ticket_id).where(Call.linkedid == "1700000000.42"))
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and linked == ticket.id and ticket.channel == "phone"
    # Answered on the spot (直接办结).
    operator.fill("#answer-form textarea[name=text]", "新生儿医保可在出生后三个月内到社保窗口或线上办理。")
    operator.click("#answer-form button")
    operator.wait_for_selector("#done")
    assert "直接办结" in operator.inner_text("#ticket-state")


def test_the_whole_loop_on_the_pages_with_a_follow_up_and_a_rating(new_context: Any, site: Any) -> None:
    """受理 → 派单 → 办理 → 答复 → 回访（不满意）→ 重办 → 答复 → 评价（满意）→ 办结, and the
    supervisor's satisfaction rate, all through the pages."""
    server, services = site
    base = server.url
    shots = Shots()

    citizen = new_context().new_page()
    citizen.goto(base + "/")
    citizen.fill("input[name=title]", "天坛路公交站牌倒了")
    citizen.fill("textarea[name=body]", "天坛路北口公交站牌被风刮倒，压在人行道上，很危险。")
    citizen.fill("input[name=phone]", "13912340000")
    citizen.click("#complaint-form button[type=submit]")
    number = citizen.inner_text("#ticket-number").strip()
    code = citizen.inner_text("#query-code").strip()

    operator = login(new_context(), base, "operator")
    operator.goto(f"{base}/tickets/{number}")
    operator.click("#suggestions button[data-unit=housing]")
    operator.wait_for_selector("#done")

    unit = login(new_context(), base, "housing")
    unit.on("dialog", lambda dialog: dialog.accept())   # 确认办结

    def unit_resolves(reply: str) -> None:
        unit.goto(f"{base}/tickets/{number}")
        unit.click("#accept-form button")
        unit.wait_for_selector("#resolve-form")
        unit.fill("#resolve-form textarea[name=text]", reply)
        unit.click("#resolve-form button")
        unit.wait_for_selector("#done")
        assert "已办结" in unit.inner_text("#ticket-state")

    unit_resolves("已安排人员扶正站牌。")

    # 回访 from the operator's queue: the citizen is not satisfied.
    operator.goto(f"{base}/operator")
    row = f"#follow-up-{number}"
    assert "未接通 0/3" in operator.inner_text(row)
    shots(operator, "loop-follow-up-queue", phone=False)
    operator.select_option(f"{row} + tr select[name=rating]", "unsatisfied")
    operator.fill(f"{row} + tr input[name=text]", "站牌扶正了但底座松动")
    operator.click(f"{row} + tr .outcome-form button")
    operator.wait_for_selector("#done")
    assert "已记录回访结果" in operator.inner_text("#done")
    assert operator.query_selector(row) is None

    # Reopened with the same unit, which accepts it again and answers anew.
    unit.goto(f"{base}/unit")
    assert number in unit.inner_text("#inbox")
    unit_resolves("已重新浇筑站牌底座，站牌已稳固。")

    # The citizen rates on the status page.
    citizen.goto(f"{base}/status?number={number}&code={code}")
    assert "重新浇筑" in citizen.inner_text("#status-reply")
    citizen.check("#rate-form input[value=satisfied]")
    citizen.fill("#rate-form input[name=note]", "这次修好了")
    shots(citizen, "loop-status-rate")
    citizen.click("#rate-form button")
    assert "感谢您的评价" in citizen.inner_text("#rated")
    assert "已关闭" in citizen.inner_text("#status-state")

    supervisor = login(new_context(), base, "supervisor")
    supervisor.goto(f"{base}/tickets/{number}")
    assert "已关闭" in supervisor.inner_text("#ticket-state")
    log = supervisor.inner_text("#audit-log")
    for step in ("受理", "转办", "签收", "办结", "重办", "评价：不满意（电话）", "评价：满意（网站）"):
        assert step in log, step
    shots(supervisor, "loop-ticket-closed", phone=False)
    supervisor.goto(f"{base}/supervisor?days=7")
    figures = supervisor.inner_text("#table-tickets")
    assert re.search(r"满意率\s+100\.0%", figures), figures  # the demo's river case and this one, both satisfied
    follow_up = supervisor.inner_text("#table-follow_up")
    assert re.search(r"\d+\s+\d+\s+\d+\.\d%", follow_up)
    shots(supervisor, "loop-supervisor", phone=False)


def test_an_unknown_page_is_drawn_in_the_sites_style_with_a_way_home(new_context: Any, site: Any) -> None:
    server, _ = site
    page = new_context().new_page()
    response = page.goto(f"{server.url}/no/such/page")
    assert response is not None and response.status == 404
    assert page.inner_text("h1") == "页面不存在"
    # The stylesheet applied: the brand header and the big status number in the site's blue.
    assert page.is_visible("header.top .brand")
    assert page.eval_on_selector(".error-status", "e => getComputedStyle(e).color") == "rgb(11, 79, 156)"
    Shots()(page, "error-404")
    page.click("text=返回首页")
    page.wait_for_load_state()
    assert page.url.rstrip("/") == server.url


@pytest.fixture
def pbx_site(playwright_browser: Any, database_url: str, sessions: sessionmaker[Session]) -> Iterator[Any]:
    """The demo site wired to the AMI simulator, whose every call rings PJSIP/7002."""
    from callcenter.scenarios import Member
    from tests.web.pbx_support import SimulatorThread

    with SimulatorThread(speed=20, members=(Member("PJSIP/7002", "Li Na"),)) as pbx:
        services = Services.build(Settings(database_url=database_url))
        seed_demo(services)  # the demo, from the run's snapshot when there is one
        services.settings = pbx.settings(services.settings)
        contexts: list[Any] = []
        try:
            with ServerThread(create_app(services.settings, services)) as server:
                deadline = time.monotonic() + 10
                while not server.app.state.bridge.connected:
                    assert time.monotonic() < deadline, "the app's AMI bridge did not log in"
                    time.sleep(0.02)

                def new_context() -> Any:
                    context = playwright_browser.new_context(viewport=DESKTOP, locale="zh-CN")
                    context.set_default_timeout(10_000)
                    contexts.append(context)
                    return context

                yield server, services, pbx, new_context
                for context in contexts:
                    context.close()
        finally:
            services.close()


def _popped_call(services: Services, linkedid_not: str = "") -> tuple[str, str]:
    """The newest answered call of PJSIP/7002 (its Linkedid and the number the console shows)."""
    from dispatch.phone import national_form

    deadline = time.monotonic() + 10
    while True:
        with services.sessions() as session:
            call = session.scalar(select(Call).where(Call.agent == "PJSIP/7002", Call.answered_at.is_not(None),
                                                     Call.linkedid != linkedid_not)
                                  .order_by(Call.id.desc()).limit(1))
            if call is not None and call.caller:
                return call.linkedid, national_form(call.caller)
        assert time.monotonic() < deadline, "the simulated call was not recorded"
        time.sleep(0.05)


def test_a_new_call_waits_while_the_operator_types_and_the_operator_switches_to_it(pbx_site: Any) -> None:
    server, services, pbx, new_context = pbx_site
    base = server.url
    operator = login(new_context(), base, "operator")
    operator.select_option("#agent-select", "PJSIP/7002")
    operator.click("form[action='/operator/agent'] button")
    operator.wait_for_selector("#pop-waiting")
    deadline = time.monotonic() + 10
    while server.app.state.hub.subscribers("screen-pop:PJSIP/7002") == 0:
        assert time.monotonic() < deadline, "the console did not subscribe to its screen-pops"
        operator.wait_for_timeout(50)

    # The first call reaches an untouched form: it takes the call at once.
    pbx.start_call("answered")
    first, first_number = _popped_call(services)
    wait_true(operator, f"document.getElementById('intake-linkedid').value === '{first}'")
    assert operator.input_value("#intake-phone") == first_number

    # The operator types: the caller gives another number to call back on.
    operator.fill("#intake-form textarea[name=body]", "反映天坛路北口公交站牌被风刮倒，请尽快处理。")
    operator.fill("#intake-phone", "13912340000")

    # A second call rings the same phone meanwhile: it waits, the form stays as typed.
    pbx.start_call("answered")
    second, second_number = _popped_call(services, linkedid_not=first)
    operator.wait_for_selector(f"#pop-queue li[data-linkedid='{second}']")
    assert operator.is_visible("#pop-queue") and "新来电" in operator.inner_text("#pop-queue")
    assert second_number in operator.inner_text("#pop-queue")
    assert operator.input_value("#intake-phone") == "13912340000"
    assert operator.input_value("#intake-linkedid") == first
    assert "公交站牌" in operator.input_value("#intake-form textarea[name=body]")
    Shots()(operator, "operator-call-waiting", phone=False)

    # Switching to it fills the form's number and call id; what was typed stays, marked as
    # said before the switch until the operator changes it.
    assert operator.is_hidden("#switch-warning")
    operator.click(f"#pop-queue li[data-linkedid='{second}'] .switch-call")
    assert operator.input_value("#intake-phone") == second_number
    assert operator.input_value("#intake-linkedid") == second
    assert operator.inner_text("#pop-caller") == second_number
    assert "公交站牌" in operator.input_value("#intake-form textarea[name=body]")
    assert operator.is_hidden("#pop-queue")
    assert operator.is_visible("#switch-warning") and "核对" in operator.inner_text("#switch-warning")
    operator.fill("#intake-form textarea[name=body]", "反映天坛路北口公交站牌被风刮倒，站牌已倾斜，请尽快处理。")
    assert operator.is_hidden("#switch-warning")

    operator.click("#intake-form button[type=submit]")
    operator.wait_for_selector("#done")
    number = operator.inner_text("#ticket-number").strip()
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        linked = session.scalar(select(Call.ticket_id).where(Call.linkedid == second))
        assert ticket is not None and linked == ticket.id


def test_a_units_reply_typed_into_an_expired_session_is_there_after_login(new_context: Any, site: Any) -> None:
    from dispatch import staff_sessions
    from dispatch.models import StaffSession, StaffUser

    server, services = site
    base = server.url
    number = services.run_sync(lambda s: s.scalar(select(Ticket.number).where(Ticket.title == "建议增加公交班次")))
    operator = login(new_context(), base, "operator")
    operator.goto(f"{base}/tickets/{number}")
    operator.select_option("#transfer-form select[name=unit_code]", "housing")
    operator.click("#transfer-form button[type=submit]")
    operator.wait_for_selector("#done")
    unit = login(new_context(), base, "housing")
    unit.on("dialog", lambda dialog: dialog.accept())   # 确认办结
    unit.goto(f"{base}/tickets/{number}")
    unit.click("#accept-form button")
    unit.wait_for_selector("#resolve-form")
    reply = "已协调公交公司，自下周一起早晚高峰加开三个班次。"
    unit.fill("#resolve-form textarea[name=text]", reply)

    def end_sessions(session: Session) -> None:  # idle too long, as the clock would have it
        user_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "housing"))
        for row in session.scalars(select(StaffSession).where(StaffSession.user_id == user_id)):
            staff_sessions.revoke(session, row.id)

    services.run_sync(end_sessions)
    unit.click("#resolve-form button")
    unit.wait_for_selector("#session-expired")
    assert "您填写的内容已保留" in unit.inner_text("#session-expired")
    unit.fill("input[name=username]", "housing")
    unit.fill("input[name=password]", DEMO_PASSWORD)
    unit.click("button[type=submit]")
    unit.wait_for_selector("#kept-form-notice")
    unit.wait_for_load_state("domcontentloaded")  # deferred scripts (kept.js) have run by then
    assert unit.input_value("#resolve-form textarea[name=text]") == reply
    Shots()(unit, "ticket-kept-form", phone=False)
    unit.click("#resolve-form button")
    unit.wait_for_selector("#done")
    assert "已办结" in unit.inner_text("#ticket-state")


def test_a_citizens_complaint_on_a_stale_page_comes_back_filled_in_on_a_phone(new_context: Any, site: Any) -> None:
    server, _services = site
    context = new_context()
    citizen = context.new_page()
    citizen.set_viewport_size(PHONE)
    citizen.goto(server.url + "/")
    body = "天坛路北口公交站牌被风刮倒，压在人行道上，很危险，请尽快处理。"
    citizen.fill("textarea[name=body]", body)
    citizen.fill("input[name=phone]", "13912340000")
    context.clear_cookies()  # the phone's browser dropped its cookies meanwhile
    citizen.click("#complaint-form button[type=submit]")
    citizen.wait_for_selector("text=请核对后再提交一次")  # the new page (the old one has the form too)
    assert "请核对后再提交一次" in citizen.inner_text("main")
    # The line saying what happened is in sight on a phone without scrolling.
    top = citizen.evaluate("document.querySelector('#complaint-form').previousElementSibling.getBoundingClientRect().top")
    assert 0 <= top < PHONE["height"], top
    assert citizen.input_value("textarea[name=body]") == body
    assert citizen.input_value("input[name=phone]") == "13912340000"
    Shots()(citizen, "home-stale-form")
    citizen.click("#complaint-form button[type=submit]")
    assert re.fullmatch(r"\d{8}-\d+", citizen.inner_text("#ticket-number").strip())
