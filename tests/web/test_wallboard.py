"""The call wallboard (话务实时监控) against the AMI simulator on a real TCP link: a caller
joins the queue and rings an agent, gives up, and the page in a real browser follows live
(no reload) and turns red; /api/v1/calls/live gives the same figures. Who may see it."""
from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.web.pages_support import login, seed_demo
from tests.web.pbx_support import SimulatorThread
from tests.web.server import ServerThread
from tests.web.test_api_staff import token_for
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DESKTOP, _browser_or_skip, wait_true
from tests.web.test_browser import login as browser_login
from tests.web.test_browser import playwright_browser, site  # noqa: F401 (fixtures)
from web.app import create_app
from web.config import Settings
from web.services import Services


def until(check: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return value


def test_only_dispatching_staff_see_the_wallboard(services: Services, client: TestClient) -> None:
    assert client.get("/wallboard").status_code in (302, 303)
    assert client.get("/api/v1/calls/live").status_code == 401
    login(client, "housing")
    assert client.get("/wallboard").status_code == 403
    assert client.get("/wallboard/figures").status_code == 403
    unit = {"Authorization": f"Bearer {token_for(services, 'housing')}"}
    assert client.get("/api/v1/calls/live", headers=unit).status_code == 403
    for name in ("operator", "supervisor"):
        login(client, name)
        page = client.get("/wallboard")
        assert page.status_code == 200 and "话务实时监控" in page.text
        # No PBX, nobody logged in to the queue: nobody is ready, and the board says so in red.
        assert 'class="wallboard-page alarm"' in page.text and "没有空闲坐席" in page.text
        headers = {"Authorization": f"Bearer {token_for(services, name)}"}
        live = client.get("/api/v1/calls/live", headers=headers).json()
        assert live["waiting"] == 0 and live["alarms"] == ["no_agent_ready"]
        assert client.get("/wallboard/figures").json()["agents"] == live["agents"]


@pytest.fixture
def pbx_site(database_url: str, sessions: sessionmaker[Session]) -> Iterator[tuple[ServerThread, Services, SimulatorThread]]:
    with SimulatorThread(speed=1) as pbx:
        services = Services.build(pbx.settings(Settings(database_url=database_url)))
        seed_demo(services)  # the demo, from the run's snapshot when there is one
        try:
            with ServerThread(create_app(services.settings, services)) as server:
                yield server, services, pbx
        finally:
            services.close()


def test_the_wallboard_follows_a_caller_who_waits_then_gives_up(pbx_site: Any) -> None:
    server, services, pbx = pbx_site
    sync_playwright = _browser_or_skip()
    headers = {"Authorization": f"Bearer {token_for(services, 'operator')}"}

    def live() -> dict[str, Any]:
        response = httpx.get(server.url + "/api/v1/calls/live", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    until(lambda: server.app.state.bridge and server.app.state.bridge.connected, "the bridge did not log in")
    # QueueStatus at login: the simulator's three agents, all ready; nothing offered yet.
    first = until(lambda: (f := live())["agents"]["ready"] == 3 and f, "the agents did not show")
    assert first["waiting"] == 0 and first["today"]["offered"] == 0 and first["alarms"] == []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        context.set_default_timeout(15_000)
        try:
            page = browser_login(context, server.url, "operator")
            page.goto(server.url + "/wallboard")
            assert page.inner_text("#agents-ready").strip() == "3"
            assert "alarm" not in (page.get_attribute("body", "class") or "")
            # The caller joins the queue and rings 7001, then hangs up after 8 s (scenario "abandoned").
            pbx.start_call("abandoned")
            wait_true(page, "document.getElementById('waiting').textContent.trim() === '1'")
            wait_true(page, "document.getElementById('agents-ringing').textContent.trim() === '1'")
            waiting = live()
            assert waiting["waiting"] == 1 and waiting["agents"]["ringing"] == 1 and waiting["agents"]["ready"] == 2
            assert waiting["today"]["offered"] == 1 and waiting["oldest_waiting_since"] is not None
            # Given up: one abandoned call, on the callback list, and a 24-hour answer rate of 0 %.
            wait_true(page, "document.getElementById('abandoned').textContent.trim() === '1'")
            page.wait_for_selector("body.alarm")
            assert page.inner_text("#waiting").strip() == "0", (live(), page.inner_text("#wallboard"))
            assert page.inner_text("#callbacks-pending").strip() == "1"
            assert "近 24 小时接通率低于 95%" in page.inner_text("#alarms")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "wallboard-alarm-desktop.png"), full_page=True)
        finally:
            context.close()
            browser.close()
    after = live()
    assert (after["today"]["offered"], after["today"]["answered"], after["today"]["abandoned"]) == (1, 0, 1)
    assert after["waiting"] == 0 and after["callbacks_pending"] == 1 and after["agents"]["ready"] == 3
    assert after["alarms"] == ["low_answer_rate"]
    assert after["last_24h"] == {"offered": 1, "answered": 0, "answer_rate": 0.0}


@pytest.fixture
def fast_pbx_site(database_url: str, sessions: sessionmaker[Session]) -> Iterator[tuple[ServerThread, Services, SimulatorThread]]:
    with SimulatorThread(speed=2) as pbx:
        services = Services.build(pbx.settings(Settings(database_url=database_url)))
        seed_demo(services)
        try:
            with ServerThread(create_app(services.settings, services)) as server:
                yield server, services, pbx
        finally:
            services.close()


def test_a_caller_the_queue_let_go_is_not_waiting_nor_answered_while_still_on_the_line(fast_pbx_site: Any) -> None:
    server, services, pbx = fast_pbx_site
    headers = {"Authorization": f"Bearer {token_for(services, 'operator')}"}

    def live() -> dict[str, Any]:
        response = httpx.get(server.url + "/api/v1/calls/live", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    until(lambda: server.app.state.bridge and server.app.state.bridge.connected, "the bridge did not log in")
    until(lambda: live()["agents"]["ready"] == 3, "the agents did not show")
    # Joins at 1 s, rings 7001 unanswered, the queue's timeout lets the caller go at 10 s; a
    # voicemail takes them until the hangup at 40 s (at twice real time: 5 s and 20 s from now).
    pbx.start_call("timeout_to_voicemail")
    until(lambda: live()["waiting"] == 1, "the caller did not wait")
    board = until(lambda: (f := live())["timed_out_on_line"] == 1 and f, "the queue's timeout was not seen",
                  seconds=10)
    # Still on the line (the hangup is 15 s away), but neither waiting nor answered nor abandoned.
    assert board["waiting"] == 0 and board["longest_wait_seconds"] == 0
    today = board["today"]
    assert (today["offered"], today["answered"], today["abandoned"], today["timed_out"]) == (1, 0, 0, 1)
    assert today["answer_rate"] == 0.0 and today["abandonment_rate"] == 0.0
    # Its outcome is known: it counts in the 24-hour rate at once, and waits on the callback list.
    assert board["last_24h"] == {"offered": 1, "answered": 0, "answer_rate": 0.0}
    assert board["callbacks_pending"] == 1 and "low_answer_rate" in board["alarms"]


def test_the_wallboards_clock_is_china_time_in_a_browser_set_to_another_zone(
        playwright_browser: Any, site: Any) -> None:
    server, _services = site
    context = playwright_browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="America/New_York")
    context.set_default_timeout(15_000)
    try:
        page = browser_login(context, server.url, "operator")
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"
        page.goto(server.url + "/wallboard")
        # The page's first figures, then the script's refresh (on the stream's hello, or 5 s on).
        wait_true(page, r"/^\d\d:\d\d:\d\d$/.test(document.getElementById('updated-at').textContent.trim())")
        shown = page.inner_text("#updated-at").strip()
        china = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
        hours, minutes, seconds = (int(part) for part in shown.split(":"))
        apart = abs((hours * 3600 + minutes * 60 + seconds) - (china.hour * 3600 + china.minute * 60 + china.second))
        assert min(apart, 86_400 - apart) < 120, (shown, china.isoformat())
    finally:
        context.close()
