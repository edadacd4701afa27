"""Small things the pages say and serve: low-confidence proposals shown plainly, who raised a
ticket by channel, staff by display name in the audit log, the supervisor's badges and
alignment, the favicon, the wall screen's page and the phone's narrow charts."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from dispatch.models import Ticket
from tests.web.pages_support import act, login, ticket_titled
from web.services import Services

WAGES = "农民工工资被拖欠"           # filed on the web form
BUS = "建议增加公交班次"             # filed by phone, waiting for dispatch


def proposals(probability: float) -> Any:
    def suggest(_session: Session, _ticket: Ticket) -> list[dict[str, Any]]:
        return [{"unit_code": "housing", "probability": probability, "reason": "模型：城乡建设"}]
    return suggest


def suggestion_button(html: str) -> str:
    found = re.search(r'<button class="([^"]*)" type="submit" data-unit="housing">', html)
    assert found, "no proposal button"
    return found.group(1)


def test_a_proposal_below_the_routing_threshold_is_not_the_primary_action(client: TestClient,
                                                                          services: Services) -> None:
    login(client, "operator")
    number = ticket_titled(services, BUS).number
    threshold = services.router.threshold
    client.app.state.suggest = proposals(0.003)  # type: ignore[attr-defined]
    low = client.get(f"/tickets/{number}").text
    assert "primary" not in suggestion_button(low).split()
    assert "0.3%" in low and "置信度低" in low and "仅供参考" in low
    client.app.state.suggest = proposals(threshold)  # type: ignore[attr-defined]
    sure = client.get(f"/tickets/{number}").text
    assert "primary" in suggestion_button(sure).split() and "置信度低" not in sure


def test_who_raised_the_ticket_is_named_by_channel(client: TestClient, services: Services) -> None:
    login(client, "operator")
    web = client.get(f"/tickets/{ticket_titled(services, WAGES).number}").text
    phone = client.get(f"/tickets/{ticket_titled(services, BUS).number}").text
    assert '<dt id="contact-label">反映人</dt>' in web and "来电人" not in web
    assert '<dt id="contact-label">来电人</dt>' in phone


def test_the_audit_log_names_staff_by_their_display_name(client: TestClient, services: Services) -> None:
    login(client, "operator")
    number = ticket_titled(services, BUS).number
    assert act(client, number, "transfer", unit_code="housing").status_code == 303
    page = client.get(f"/tickets/{number}").text
    log = page[page.index('id="audit-log"'):]
    log = log[:log.index("</ol>")]
    assert "话务员 王芳" in log
    assert not re.search(r'<span class="muted">operator\b', log)
    assert "市民（电话）" in log   # citizens keep their channel label


def test_the_supervisor_badges_count_things_and_figures_align_right(client: TestClient) -> None:
    login(client, "supervisor")
    page = client.get("/supervisor").text

    def head(name: str) -> str:
        start = page.index(f'id="table-{name}"')
        return page[start:page.index("</h2>", start)]

    assert 'class="count"' not in head("tickets") and 'class="count"' not in head("follow_up")
    assert re.search(r'class="count">1<', head("returned"))   # one returned ticket waits in the demo
    body = page[page.index('id="table-tickets"'):]
    body = body[:body.index("</table>")]
    assert re.search(r'<td class="k-text">受理</td>\s*<td class="k-figure num">\d+</td>', body)
    returned = page[page.index('id="table-returned"'):]
    assert re.search(r'<td class="k-text">道路井盖缺失</td>', returned)
    assert '<td class="actions"><a class="button small" href="/tickets/' in returned


def test_every_page_links_a_favicon_that_is_served(client: TestClient) -> None:
    for path in ("/", "/status", "/board", "/login"):
        assert '<link rel="icon" href="/static/favicon.svg"' in client.get(path).text, path
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00" and b"PNG" in icon.content[:40]
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")


def test_the_wall_screen_is_the_board_in_its_own_frame(client: TestClient) -> None:
    wall = client.get("/board", params={"wall": "1", "days": "7"}).text
    plain = client.get("/board", params={"days": "7"}).text
    assert '<body class="board wall">' in wall and 'data-rotate="15"' in wall
    assert '<body class="board">' in plain and "data-rotate" not in plain
    assert 'name="since"' not in wall and 'href="/board?wall=1"' in plain
    for page in (wall, plain):   # the same live panel in both
        assert 'data-live="/board/events"' in page and 'id="period-received"' in page
        assert all(f'data-turn="{t}"' in page for t in ("trends", "units", "recent"))


def test_the_board_draws_its_charts_narrow_for_a_phone_too(client: TestClient) -> None:
    panel = client.get("/board/panel", params={"days": "30"}).text
    assert panel.count('<svg class="chart narrow" viewBox="0 0 360 ') == 2
    assert panel.count('<svg class="chart wide" viewBox="0 0 720 ') == 2
    narrow = panel[panel.index('<svg class="chart narrow"'):]
    narrow = narrow[:narrow.index("</svg>")]
    assert 3 <= len(re.findall(r'text-anchor="middle" class="axis"', narrow)) <= 6   # day labels that fit
    assert 'id="unit-table-hint"' in panel


def _deadline_line(page: str) -> str:
    found = re.search(r"<dt>办理时限</dt><dd[^>]*>(.*?)</dd>", page, re.S)
    assert found, "the page shows no deadline"
    return found.group(1)


def test_a_finished_ticket_shows_its_deadline_without_a_countdown(client: TestClient, services: Services) -> None:
    login(client, "operator")
    bus = ticket_titled(services, "建议增加公交班次")
    assert bus.deadline is not None
    running = _deadline_line(client.get(f"/tickets/{bus.number}").text)
    assert re.search(r"(剩|超期) \d", running)
    assert act(client, bus.number, "handover", to="119").status_code == 303
    finished = _deadline_line(client.get(f"/tickets/{bus.number}").text)
    assert not re.search(r"(剩|超期) \d", finished)
    assert "不再计时" in finished and str(bus.deadline.year) in finished


def test_each_supervisor_badge_says_what_it_counts(client: TestClient) -> None:
    login(client, "supervisor")
    page = client.get("/supervisor").text

    def head(name: str) -> str:
        start = page.index(f'id="table-{name}"')
        return page[start:page.index("</h2>", start)]

    assert re.search(r'class="count">\d+</span><span class="count-word"> 件</span>', head("returned"))
    assert '<span class="count-word"> 个单位</span>' in head("units")
    assert 'class="count"' not in head("routing_feedback")
