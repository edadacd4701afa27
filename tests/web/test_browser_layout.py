"""Layout where it matters, measured in a real browser (Debian's chromium through
Playwright): the supervisor's buttons at 1440 px, the board on a 1920x1080 wall screen
(full width, panels taking turns, still live), and on a 390x844 phone (readable chart
labels, a unit table that says it scrolls). Screenshots go to test-artifacts/pages/."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch import lifecycle, queries
from dispatch.actors import Actor
from dispatch.intake import IntakeRequest, intake
from dispatch.models import StaffUser, Ticket
from dispatch.staff import actor_for
from dispatch.vocabulary import Channel, Role
from tests.web.test_browser import ARTIFACTS, login, new_context, playwright_browser, site, wait_true  # noqa: F401

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment


def ask_for_more_time(services: Any) -> None:
    def work(session: Any) -> None:
        ticket = session.scalar(select(Ticket).where(Ticket.title == NOISE))
        unit = session.scalar(select(StaffUser).where(StaffUser.username == "ecology"))
        lifecycle.request_extension(session, ticket, actor_for(unit), 5,
                                    "需要协调多个部门联合执法，现场核查需要更多时间，请批准延期五个工作日。")
    services.run_sync(work)


def box(page: Any, selector: str) -> dict[str, float]:
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect();"
                                           " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,"
                                           " height: r.height, width: r.width}; }")


def test_the_supervisors_buttons_show_without_scrolling_at_1440(new_context: Any, site: Any) -> None:  # noqa: F811
    server, services = site
    ask_for_more_time(services)
    context = new_context()
    page = login(context, server.url, "supervisor")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server.url + "/supervisor")
    for card in ("extensions", "returned"):
        wrap = f"#table-{card} .table-wrap"
        inner = page.eval_on_selector(wrap, "e => [e.scrollWidth, e.clientWidth]")
        assert inner[0] <= inner[1], f"{card}: the table scrolls inside its card {inner}"
    for button in ("#table-extensions button[value=approve]", "#table-extensions button[value=refuse]",
                   "#table-returned td.actions a"):
        where = box(page, button)
        assert 0 <= where["left"] and where["right"] <= 1440, (button, where)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    # Text from the left, figures on the right.
    align = page.eval_on_selector_all("#table-extensions tbody td", "cells => cells.map(c => getComputedStyle(c).textAlign)")
    assert align[1] == "left" and align[3] == "left" and align[2] == "right", align   # 单位, 理由 | 申请天数
    page.screenshot(path=str(ARTIFACTS / "supervisor-1440.png"))


def test_the_wall_screen_fills_1920_rotates_its_panels_and_stays_live(new_context: Any, site: Any) -> None:  # noqa: F811
    server, services = site
    page = new_context().new_page()
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(server.url + "/board?wall=1&days=7&rotate=2")
    assert page.evaluate("document.documentElement.scrollWidth") == 1920
    assert box(page, "main")["width"] >= 1880
    assert box(page, ".tile .v")["height"] >= 60            # large type, read from across the room
    assert page.is_visible("#trends") and not page.is_visible("#units")
    assert box(page, "#trends")["bottom"] <= 1080
    page.screenshot(path=str(ARTIFACTS / "board-wall-trends.png"))
    page.wait_for_selector("#units", state="visible", timeout=5_000)
    assert not page.is_visible("#trends")
    rows = page.eval_on_selector_all("#unit-table tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.getBoundingClientRect().bottom)")
    assert rows and max(rows) <= 1080
    page.screenshot(path=str(ARTIFACTS / "board-wall-units.png"))
    page.wait_for_selector("#recent", state="visible", timeout=5_000)
    cases = page.eval_on_selector_all("#recent .cases li", "cs => cs.map(c => c.getBoundingClientRect())"
                                                          ".filter(r => r.height > 0).map(r => r.bottom)")
    assert cases and max(cases) <= 1080

    # Still live: a new ticket shows without a reload, and the turns go on.
    before = int(page.inner_text("#period-received"))
    services.run_sync(lambda s: intake(s, IntakeRequest(channel=Channel.WEB, body="人民公园路灯不亮。",
                                                        phone="13900001111"), services.rules))
    wait_true(page, f"document.getElementById('period-received').innerText.trim() === '{before + 1}'",
                           timeout=10_000)
    page.wait_for_selector("#trends", state="visible", timeout=5_000)


def test_the_board_on_a_phone_has_readable_labels_and_a_table_that_says_it_scrolls(new_context: Any, site: Any) -> None:  # noqa: F811
    server, _services = site
    page = new_context().new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/board?days=30")
    heights = page.eval_on_selector_all(
        "svg.chart text.axis", "ts => ts.filter(t => t.getBoundingClientRect().width > 0)"
                               ".map(t => t.getBoundingClientRect().height)")
    assert heights and min(heights) >= 11, heights
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.is_visible("#unit-table-hint")
    scroll = page.eval_on_selector("#unit-table-wrap", "e => [e.scrollWidth, e.clientWidth, getComputedStyle(e).overflowX]")
    assert scroll[0] > scroll[1] and scroll[2] == "auto", scroll
    page.locator("#units").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "board-phone-units.png"))
    page.set_viewport_size({"width": 1366, "height": 900})
    assert not page.is_visible("#unit-table-hint")


def test_the_wall_screen_pages_a_long_unit_ranking_instead_of_cutting_it(new_context: Any, site: Any) -> None:  # noqa: F811
    server, services = site
    operator = Actor(label="operator", role=Role.OPERATOR)

    def spread(session: Any) -> None:   # one ticket to each of 24 units: more rows than one screen holds
        for i, unit in enumerate(queries.active_units(session)[:24]):
            ticket = intake(session, IntakeRequest(channel=Channel.WEB, body=f"第 {i} 件诉求。", phone=f"1390000{i:04d}"),
                            services.rules).ticket
            lifecycle.transfer(session, ticket, unit, operator)
    services.run_sync(spread)
    page = new_context().new_page()
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(server.url + "/board?wall=1&days=7&rotate=2")
    page.wait_for_selector("#units", state="visible", timeout=5_000)
    total = len(page.query_selector_all("#unit-table tbody tr"))
    seen: set[str] = set()
    pages = int(page.inner_text("#units .turn-page").split("/")[1].split()[0])
    assert pages >= 2 and total >= 24
    for _ in range(pages):
        shown = page.eval_on_selector_all("#unit-table tbody tr", "rows => rows.filter(r => !r.hidden)"
                                          ".map(r => [r.dataset.unit, r.getBoundingClientRect().bottom])")
        assert shown and max(bottom for _, bottom in shown) <= 1080
        seen |= {code for code, _ in shown}
        marker = page.inner_text("#units .turn-page")
        wait_true(page, f"!document.getElementById('units').classList.contains('shown') || "
                               f"document.querySelector('#units .turn-page').innerText !== {marker!r}", timeout=5_000)
    assert len(seen) == total   # every unit had its turn on screen


def test_pages_load_without_a_missing_file(new_context: Any, site: Any) -> None:  # noqa: F811
    server, _services = site
    page = new_context().new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    for path in ("/", "/status", "/board", "/login"):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle") if path != "/board" else page.wait_for_timeout(500)
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/static/favicon.svg")
    assert not failed, failed
