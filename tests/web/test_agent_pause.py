"""示忙 / 示闲 over HTTP, through a real server, its real AMI bridge and the AMI simulator on
loopback: an operator goes for a meal from the console and the console, the supervisors' agent
list and the staff activity log say so; a phone the PBX does not know is refused in Chinese;
who may pause whom."""
from __future__ import annotations

import json
import re
import time
from typing import Any, Callable, Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from dispatch.models import AgentStatus, StaffActivity
from tests.web.pages_support import DEMO_PASSWORD, csrf, login, seed_demo, token_in
from tests.web.pbx_support import SimulatorThread
from tests.web.server import ServerThread
from web.app import create_app
from web.config import Settings
from web.services import Services


def until(check: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return value


@pytest.fixture
def pbx_site(database_url: str, sessions: sessionmaker[Session]) -> Iterator[tuple[ServerThread, Services]]:
    with SimulatorThread(speed=1) as pbx:
        services = Services.build(pbx.settings(Settings(database_url=database_url)))
        seed_demo(services)
        try:
            with ServerThread(create_app(services.settings, services)) as server:
                until(lambda: server.app.state.bridge and server.app.state.bridge.connected,
                      "the app's AMI bridge did not log in")
                yield server, services
        finally:
            services.close()


def signed_in(server: ServerThread, username: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=20)
    token = token_in(client.get("/login").text)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303, response.text
    return client


def pause_state(page: str) -> str:
    found = re.search(r'id="pause-state"[^>]*>([^<]*)<', page)
    assert found, "the console shows no 示忙 / 示闲 state"
    return found.group(1)


def agent_row(page: str, interface: str) -> str:
    found = re.search(rf'<tr data-interface="{re.escape(interface)}">(.*?)</tr>', page, re.S)
    assert found, f"the agent list has no row for {interface}"
    return found.group(1)


def test_an_operator_goes_for_a_meal_and_back_and_everyone_sees_it(pbx_site: tuple[ServerThread, Services]) -> None:
    server, services = pbx_site
    operator = signed_in(server, "operator")
    token = token_in(operator.get("/operator").text)
    assert operator.post("/operator/agent", data={"csrf_token": token, "agent": "PJSIP/7001"}).status_code == 303
    # The bridge's QueueStatus at login said the phone is in the queue and not paused.
    until(lambda: pause_state(operator.get("/operator").text) == "示闲", "the console did not show 示闲")

    pauses: list[dict[str, Any]] = []
    with operator.stream("GET", "/operator/events") as stream:
        lines = stream.iter_lines()
        next(line for line in lines if line == "event: hello")  # subscribed once it says hello
        response = operator.post("/operator/pause", data={"csrf_token": token, "paused": "1", "reason": "meal"})
        assert response.status_code == 303 and response.headers["location"] == "/operator?done=paused"
        # Live, as the PBX's QueueMemberPause comes back through the bridge.
        for line in lines:
            if line == "event: pause":
                pauses.append(json.loads(next(lines).removeprefix("data: ")))
                break
    assert pauses == [{"logged_in": True, "paused": True, "reason": "meal", "words": "示忙（就餐）"}]
    page = operator.get("/operator?done=paused").text
    assert pause_state(page) == "示忙（就餐）" and "已示忙" in page

    with services.sessions() as session:
        logged = session.scalars(select(StaffActivity).where(StaffActivity.kind == "agent_paused")).one()
        assert (logged.actor, logged.target, logged.detail) == ("operator", "PJSIP/7001", {"reason": "meal"})
        status = session.get(AgentStatus, "PJSIP/7001")
        assert status is not None and status.paused and status.paused_reason == "meal"

    # The supervisor's agent list names the reason, and lets them put the operator back.
    supervisor = signed_in(server, "supervisor")
    time.sleep(1.1)  # a second of 示忙 to count
    board = supervisor.get("/wallboard").text
    row = agent_row(board, "PJSIP/7001")
    assert "就餐" in row and "暂停" in row and "示闲" in row
    figures = supervisor.get("/wallboard/figures").json()
    listed = next(a for a in figures["agent_list"] if a["interface"] == "PJSIP/7001")
    assert listed["paused_reason"] == "meal" and listed["paused_seconds_today"] >= 1
    response = supervisor.post("/operator/pause", data={"csrf_token": token_in(board), "interface": "PJSIP/7001",
                                                         "paused": "0", "back": "wallboard"})
    assert response.status_code == 303 and response.headers["location"] == "/wallboard?done=unpaused"
    until(lambda: pause_state(operator.get("/operator").text) == "示闲", "the operator was not put back to 示闲")
    with services.sessions() as session:
        back = session.scalars(select(StaffActivity).where(StaffActivity.kind == "agent_unpaused")).one()
        assert (back.actor, back.target) == ("supervisor", "PJSIP/7001")
        status = session.get(AgentStatus, "PJSIP/7001")
        assert status is not None and not status.paused and status.paused_seconds >= 1
    operator.close()
    supervisor.close()


def test_a_phone_the_pbx_does_not_know_is_refused_in_chinese(pbx_site: tuple[ServerThread, Services]) -> None:
    server, services = pbx_site
    operator = signed_in(server, "operator")
    token = token_in(operator.get("/operator").text)
    operator.post("/operator/agent", data={"csrf_token": token, "agent": "PJSIP/7099"})
    response = operator.post("/operator/pause", data={"csrf_token": token, "paused": "1", "reason": "break"})
    assert response.status_code == 409
    assert "交换机拒绝了 PJSIP/7099 的示忙/示闲（Interface not found）" in response.text
    supervisor = signed_in(server, "supervisor")
    response = supervisor.post("/operator/pause", headers={"Accept": "application/json"}, data={
        "csrf_token": token_in(supervisor.get("/wallboard").text), "interface": "PJSIP/7099", "paused": "0"})
    assert response.status_code == 409 and "交换机拒绝了 PJSIP/7099" in response.json()["error"]
    with services.sessions() as session:
        assert session.scalars(select(StaffActivity).where(StaffActivity.kind.like("agent_%"))).all() == []
    operator.close()
    supervisor.close()


def test_who_may_pause_whom(client: TestClient, services: Services) -> None:
    login(client, "housing")
    assert client.post("/operator/pause", data={"csrf_token": csrf(client, "/unit"), "paused": "1",
                                                 "reason": "meal", "interface": "PJSIP/7001"}).status_code == 403
    login(client, "operator")
    token = csrf(client, "/operator")
    client.post("/operator/agent", data={"csrf_token": token, "agent": "PJSIP/7001"})
    # Another operator's phone: not theirs to pause, whatever the PBX.
    response = client.post("/operator/pause", data={"csrf_token": token, "paused": "1", "reason": "meal",
                                                     "interface": "PJSIP/7002"})
    assert response.status_code == 403 and "PJSIP/7002 不是您的分机" in response.text
    assert client.post("/operator/pause", data={"csrf_token": "forged", "paused": "1",
                                                 "reason": "meal"}).status_code == 403
    response = client.post("/operator/pause", data={"csrf_token": token, "paused": "1", "reason": "nap"})
    assert response.status_code == 422 and "请选择示忙原因" in response.text
    # Their own phone, but no PBX to ask.
    response = client.post("/operator/pause", data={"csrf_token": token, "paused": "1", "reason": "meal"})
    assert response.status_code == 409 and "电话系统未接入，无法示忙或示闲" in response.text
    # A supervisor may ask for anyone's; here too the PBX is missing, not the right.
    login(client, "supervisor")
    response = client.post("/operator/pause", headers={"Accept": "application/json"}, data={
        "csrf_token": csrf(client, "/wallboard"), "paused": "1", "reason": "meeting", "interface": "PJSIP/7002"})
    assert response.status_code == 409 and "电话系统未接入" in response.json()["error"]
    with services.sessions() as session:
        assert session.scalars(select(StaffActivity).where(StaffActivity.kind.like("agent_%"))).all() == []


def test_in_a_browser_the_console_follows_a_supervisors_unpause_without_a_reload(
        pbx_site: tuple[ServerThread, Services]) -> None:
    from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _browser_or_skip, wait_true
    from tests.web.test_browser import login as browser_login

    server, _services = pbx_site
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            operator = browser_login(browser.new_context(viewport=DESKTOP, locale="zh-CN"), server.url, "operator")
            operator.goto(server.url + "/operator")
            operator.select_option("#agent-select", "PJSIP/7001")
            operator.click("form.agent button[type=submit]")
            operator.wait_for_selector("#pause-state")
            operator.select_option("#agent-pause select[name=reason]", "training")
            operator.click("#agent-pause button:has-text('示忙')")
            operator.wait_for_load_state()
            wait_true(operator, "document.getElementById('pause-state').textContent === '示忙（培训）'")
            # The reason box keeps the reason given, not the list's first (小休).
            assert operator.input_value("#agent-pause select[name=reason]") == "training"
            operator.evaluate("window.notReloaded = true")

            supervisor = browser_login(browser.new_context(viewport=DESKTOP, locale="zh-CN"), server.url, "supervisor")
            supervisor.goto(server.url + "/wallboard")
            row = supervisor.locator('tr[data-interface="PJSIP/7001"]')
            assert "培训" in row.inner_text() and row.locator("select[name=reason]").input_value() == "training"
            # 示忙 and 示闲 on one line of the row, not one under the other.
            tops = [row.locator(f"button:has-text('{word}')").bounding_box()["y"] for word in ("示忙", "示闲")]
            assert abs(tops[0] - tops[1]) < 2, tops
            row.locator("button:has-text('示闲')").click()
            supervisor.wait_for_load_state()
            wait_true(supervisor, "document.querySelector('tr[data-interface=\"PJSIP/7001\"] .reason')"
                                  ".textContent.trim() === ''")
            # The operator's open console says so by itself, over its events stream.
            wait_true(operator, "document.getElementById('pause-state').textContent === '示闲'")
            assert operator.evaluate("window.notReloaded === true")
        finally:
            browser.close()
