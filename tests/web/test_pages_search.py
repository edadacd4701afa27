"""The staff search over HTTP: filters (state, unit, channel, days of receipt), 50 a page,
the filtered result as CSV, and what unit staff may find and download."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, insert, select, update
from starlette.testclient import TestClient

from dispatch import api_tokens, lifecycle, queries
from dispatch.actors import Actor
from dispatch.clock import local_day_start
from dispatch.intake import IntakeRequest, intake
from dispatch.models import StaffActivity, StaffUser, Ticket
from dispatch.units import unit_by_code
from dispatch.vocabulary import Channel, Role
from tests.web.pages_support import login, ticket_titled
from web.pages import search
from web.pages.labels import local_time
from web.pages.periods import today_local
from web.services import Services

NOISE = "工地夜间施工噪音扰民"       # SMS, in progress with ecology-environment
WAGES = "农民工工资被拖欠"           # web, transferred to human-resources
BUS = "建议增加公交班次"             # phone, received
MANHOLE = "道路井盖缺失"             # web, returned by housing
OPERATOR = Actor(label="operator", role=Role.OPERATOR)


def rows_of(response_text: str) -> list[list[str]]:
    assert response_text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(response_text.lstrip("\ufeff"))))


def file_tickets(services: Services, count: int, words: str, **fields: object) -> list[str]:
    def work(session):  # type: ignore[no-untyped-def]
        numbers = []
        for i in range(count):
            request = IntakeRequest(channel=Channel.WEB, title=f"{words}{i}", body=f"{words}，第 {i} 件。",
                                    phone=f"1390000{i:04d}", **fields)  # type: ignore[arg-type]
            numbers.append(intake(session, request, services.rules).ticket.number)
        return numbers
    return services.run_sync(work)


def test_filters_narrow_the_search_by_state_unit_channel_and_day(client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    everything = [ticket_titled(services, t).number for t in (NOISE, WAGES, BUS, MANHOLE)]

    by_channel = client.get("/search", params={"channel": "web"}).text
    assert ticket_titled(services, WAGES).number in by_channel and ticket_titled(services, MANHOLE).number in by_channel
    assert ticket_titled(services, BUS).number not in by_channel and ticket_titled(services, NOISE).number not in by_channel

    by_state = client.get("/search", params={"state": "in_progress"}).text
    assert ticket_titled(services, NOISE).number in by_state
    assert not any(n in by_state for n in everything if n != ticket_titled(services, NOISE).number)

    by_unit = client.get("/search", params={"unit": "human-resources"}).text
    assert ticket_titled(services, WAGES).number in by_unit and ticket_titled(services, NOISE).number not in by_unit
    assert client.get("/search", params={"unit": "human-resources", "state": "closed"}).text.count("/tickets/") == 0

    # Days of receipt: one ticket moved 100 days back is the only one found in that week.
    old_day = today_local() - dt.timedelta(days=100)
    services.run_sync(lambda s: s.execute(update(Ticket).where(Ticket.title == BUS)
                                          .values(received_at=local_day_start(old_day) + dt.timedelta(hours=10))))
    week = {"since": (old_day - dt.timedelta(days=3)).isoformat(), "until": (old_day + dt.timedelta(days=3)).isoformat()}
    by_days = client.get("/search", params=week).text
    assert ticket_titled(services, BUS).number in by_days and "找到 1 件" in by_days
    recent = client.get("/search", params={"since": (today_local() - dt.timedelta(days=7)).isoformat()}).text
    assert ticket_titled(services, BUS).number not in recent and ticket_titled(services, NOISE).number in recent


def test_a_bad_filter_is_refused_in_chinese(client: TestClient) -> None:
    login(client, "supervisor")
    for params in ({"state": "bogus"}, {"channel": "fax"}, {"unit": "no-such-unit"}, {"since": "2026-13-01"},
                   {"since": "2026-05-02", "until": "2026-05-01"}, {"due": "late"}):
        response = client.get("/search", params=params)
        assert response.status_code == 422, params
        assert any(word in response.text for word in ("工单状态应为", "渠道应为", "没有代码", "日期", "办理时限应为")), params
        assert client.get("/search.csv", params=params).status_code == 422, params


def test_results_come_fifty_a_page_with_links_that_keep_the_filters(client: TestClient, services: Services) -> None:
    numbers = file_tickets(services, 61, "停车位被占")
    login(client, "operator")
    first = client.get("/search", params={"q": "停车位被占", "channel": "web"}).text
    assert "找到 61 件" in first and "第 1 / 2 页" in first
    assert first.count('<a href="/tickets/') == 50
    assert "page=2" in first and "channel=web" in first[first.index('id="pager"'):]
    second = client.get("/search", params={"q": "停车位被占", "channel": "web", "page": "2"}).text
    assert second.count('<a href="/tickets/') == 11
    shown = {n for n in numbers if f"/tickets/{n}\"" in first} | {n for n in numbers if f"/tickets/{n}\"" in second}
    assert shown == set(numbers)
    # Past the end, the last page; nonsense, the first.
    assert client.get("/search", params={"q": "停车位被占", "page": "9"}).text.count('<a href="/tickets/') == 11
    assert client.get("/search", params={"q": "停车位被占", "page": "x"}).text.count('<a href="/tickets/') == 50


def test_the_csv_holds_the_whole_filtered_result_and_no_personal_details(client: TestClient, services: Services) -> None:
    numbers = file_tickets(services, 55, "=HYPERLINK(停车)", name="王小明")
    login(client, "supervisor")
    page = client.get("/search", params={"q": "停车", "channel": "web"}).text
    assert 'href="/search.csv?q=%E5%81%9C%E8%BD%A6&amp;channel=web"' in page
    response = client.get("/search.csv", params={"q": "停车", "channel": "web"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = rows_of(response.text)
    assert rows[0][:3] == ["工单号", "受理时间", "渠道"]
    assert sorted(r[0] for r in rows[1:]) == sorted(numbers)          # all 55, not one page
    assert all(r[2] == "网站" for r in rows[1:])
    assert all(r[8].startswith("'=HYPERLINK") for r in rows[1:])       # no formula runs in a spreadsheet
    assert "王小明" not in response.text and "13900000" not in response.text
    narrower = rows_of(client.get("/search.csv", params={"q": "停车", "state": "closed"}).text)
    assert narrower == rows[:1]
    # Each download is in the staff activity log, with its filters but not the words asked.
    logged = services.run_sync(lambda s: s.scalars(select(StaffActivity).where(StaffActivity.target == "search.csv")
                                                   .order_by(StaffActivity.id)).all())
    assert [(a.kind, a.actor_id is not None, a.detail) for a in logged] == [
        ("export", True, {"channel": "web", "rows": 55}), ("export", True, {"state": "closed", "rows": 0})]


def test_unit_staff_find_and_download_only_their_units_tickets(client: TestClient, services: Services) -> None:
    secret = file_tickets(services, 1, "邻居装修噪音", confidential=True)[0]

    def transfer(session):  # type: ignore[no-untyped-def]
        ticket = session.query(Ticket).filter_by(number=secret).one()
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), OPERATOR)
    services.run_sync(transfer)

    login(client, "housing")
    page = client.get("/search", params={"channel": "web"}).text
    assert ticket_titled(services, MANHOLE).number in page and secret in page   # returned by it; now with it
    assert ticket_titled(services, WAGES).number not in page
    assert "邻居装修噪音" not in page and "（保密工单）" in page
    assert 'name="unit"' not in page                                           # no unit picker for a unit
    # Asking for another unit's tickets changes nothing: still only its own.
    other = client.get("/search", params={"unit": "human-resources", "channel": "web"}).text
    assert ticket_titled(services, WAGES).number not in other and ticket_titled(services, MANHOLE).number in other
    rows = rows_of(client.get("/search.csv", params={"unit": "human-resources", "channel": "web"}).text)
    assert {r[0] for r in rows[1:]} == {ticket_titled(services, MANHOLE).number, secret}
    assert "邻居装修噪音" not in str(rows) and ["（保密工单）"] == [r[8] for r in rows[1:] if r[0] == secret]


def test_a_unit_finds_its_ticket_by_a_phone_typed_in_full_width_or_with_the_country_code(
        client: TestClient, services: Services) -> None:
    number = file_tickets(services, 1, "小区电梯故障")[0]     # phone 13900000000

    def transfer(session):  # type: ignore[no-untyped-def]
        ticket = session.query(Ticket).filter_by(number=number).one()
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), OPERATOR)
    services.run_sync(transfer)

    login(client, "housing")
    for typed in ("１３９００００００００", "+86 139-0000-0000", "0086 139 0000 0000"):
        assert number in client.get("/search", params={"q": typed}).text, typed
        rows = rows_of(client.get("/search.csv", params={"q": typed}).text)
        assert [r[0] for r in rows[1:]] == [number], typed
    login(client, "supervisor")
    assert number in client.get("/search", params={"q": "１３９ ００００ ００００"}).text


def test_the_search_and_its_csv_are_for_staff_only(client: TestClient) -> None:
    for path in ("/search?state=received", "/search.csv?state=received"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_staff_api_token_downloads_the_csv_exports_with_its_users_role(
        client: TestClient, services: Services) -> None:
    """A unit's or the city's scripts read the exports with a token, as its user would on the page."""
    def tokens(session):  # type: ignore[no-untyped-def]
        made = {}
        for name in ("housing", "supervisor"):
            user = session.scalar(select(StaffUser).where(StaffUser.username == name))
            made[name] = {"Authorization": f"Bearer {api_tokens.create(session, user, '报表脚本', lifetime=None)[1]}"}
        return made
    bearer = services.run_sync(tokens)
    client.cookies.clear()   # no browser session: the token alone

    mine = client.get("/search.csv", params={"channel": "web"}, headers=bearer["housing"])
    assert mine.status_code == 200 and mine.headers["content-type"].startswith("text/csv")
    assert {r[0] for r in rows_of(mine.text)[1:]} == {ticket_titled(services, MANHOLE).number}   # its unit's only
    assert client.get("/supervisor/export/units.csv", headers=bearer["housing"]).status_code == 403
    table = client.get("/supervisor/export/units.csv", headers=bearer["supervisor"])
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    assert client.get("/search.csv", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    logged = services.run_sync(lambda s: s.scalars(select(StaffActivity).where(StaffActivity.kind == "export")
                                                   .order_by(StaffActivity.id)).all())
    assert [a.target for a in logged] == ["search.csv", "units.csv"]


def test_a_csv_cut_at_its_limit_says_so_in_its_last_line_and_the_page_beside_the_button(
        client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "EXPORT_LIMIT", 3)
    file_tickets(services, 5, "路灯不亮")
    login(client, "supervisor")
    page = client.get("/search", params={"q": "路灯不亮"}).text
    assert "最多导出 3 件" in page.split('id="search-csv"')[1]
    response = client.get("/search.csv", params={"q": "路灯不亮"})
    rows = rows_of(response.text)
    assert len(rows) == 1 + 3 + 1 and rows[-1][0].startswith("（仅导出前 3 件")
    assert response.headers["x-hotline-export-truncated"] == "3"
    whole = client.get("/search.csv", params={"q": "路灯不亮0"})
    assert "x-hotline-export-truncated" not in whole.headers and len(rows_of(whole.text)) == 2
    logged = services.run_sync(lambda s: s.scalars(select(StaffActivity).where(StaffActivity.target == "search.csv")
                                                   .order_by(StaffActivity.id)).all())
    assert [a.detail for a in logged] == [{"rows": 3, "cut": True}, {"rows": 1}]


def test_a_search_by_words_runs_with_its_settings(client: TestClient, services: Services,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Its statements after the first see the search's settings (on PostgreSQL): the page's
    statements share a transaction, so the settings the search sets for it hold."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no such settings")
    login(client, "supervisor")
    seen = []
    searched = queries.staff_tickets

    def searching(session, **kwargs):   # type: ignore[no-untyped-def]
        found = searched(session, **kwargs)
        seen.append({name: session.scalar(select(func.current_setting(name))) for name in queries.SEARCH_SETTINGS})
        return found
    monkeypatch.setattr(queries, "staff_tickets", searching)
    assert client.get("/search", params={"q": "噪音"}).status_code == 200
    assert seen == [queries.SEARCH_SETTINGS]


def test_an_unknown_state_is_refused_with_the_states_in_chinese_alone(client: TestClient) -> None:
    login(client, "housing")
    response = client.get("/search", params={"state": "overdue"})
    assert response.status_code == 422
    assert "工单状态应为以下之一：" in response.text and "已受理" in response.text
    assert "（received）" not in response.text and "received" not in response.text.split("<main", 1)[-1]


def test_the_results_show_each_tickets_deadline_and_a_unit_is_led_to_its_inbox_filters(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    assert noise.deadline is not None
    login(client, "ecology")
    page = client.get("/search", params={"q": noise.number}).text
    assert "<th>办理时限</th>" in page
    row = page[page.index(f'href="/tickets/{noise.number}"'):].split("</tr>")[0]
    assert local_time(noise.deadline) in row and ("剩" in row or "超期" in row)
    assert 'href="/unit?show=overdue"' in page and 'href="/unit?show=near"' in page
    # By words too (the search's other statement), the deadline is read with the rest.
    page = client.get("/search", params={"q": "噪音"}).text
    row = page[page.index(f'href="/tickets/{noise.number}"'):].split("</tr>")[0]
    assert local_time(noise.deadline) in row
    login(client, "supervisor")
    assert 'id="inbox-filters"' not in client.get("/search", params={"q": noise.number}).text


def test_the_search_finds_overdue_and_due_soon_tickets_as_the_inbox_does(
        client: TestClient, services: Services) -> None:
    """办理时限 超期 / 临期 (?due=overdue|near), kept by the pager and the CSV link: a unit's
    search finds what its inbox's 超期 count counts."""
    noise = ticket_titled(services, NOISE)
    now = dt.datetime.now(dt.timezone.utc)
    with services.sessions.begin() as session:
        session.execute(update(Ticket).where(Ticket.id == noise.id).values(deadline=now - dt.timedelta(hours=2)))
    login(client, "ecology")
    page = client.get("/search", params={"due": "overdue"}).text
    assert f'href="/tickets/{noise.number}"' in page and 'name="due"' in page
    assert '<option value="overdue" selected>超期</option>' in page and "due=overdue" in page
    inbox = client.get("/unit", params={"show": "overdue"}).text
    assert f'href="/tickets/{noise.number}"' in inbox
    assert f'href="/tickets/{noise.number}"' not in client.get("/search", params={"due": "near"}).text
    by_words = client.get("/search", params={"due": "overdue", "q": "噪音"}).text
    assert f'href="/tickets/{noise.number}"' in by_words
    rows = rows_of(client.get("/search.csv", params={"due": "overdue"}).text)
    assert noise.number in [row[0] for row in rows[1:]]
    login(client, "supervisor")
    assert f'href="/tickets/{noise.number}"' in client.get("/search", params={"due": "overdue"}).text


def test_pages_go_on_past_the_count_of_1000_while_tickets_follow(client: TestClient, services: Services) -> None:
    received = local_day_start(dt.date.today()) - dt.timedelta(days=20)
    services.run_sync(lambda session: session.execute(insert(Ticket), [
        {"number": f"20200101-{i:04d}", "query_code": "123456", "channel": "open311", "request_type": "complaint",
         "urgency": "normal", "title": f"井盖{i}", "body": "井盖丢了", "state": "received",
         "received_at": received + dt.timedelta(minutes=i), "transfer_count": 0, "accepted_transfer_count": 0,
         "return_count": 0, "confidential": False, "version": 1, "follow_up_attempts": 0} for i in range(1, 1061)]))
    login(client, "operator")
    page_21 = client.get("/search", params={"channel": "open311", "page": "21"}).text
    assert page_21.count('<a href="/tickets/') == 50 and "第 21 / 20+ 页" in page_21 and "page=22" in page_21
    last = client.get("/search", params={"channel": "open311", "page": "22"}).text
    assert last.count('<a href="/tickets/') == 10 and "20200101-0001" in last and 'rel="next"' not in last
    # Past every ticket: the last counted page.
    assert "第 20 / 20+ 页" in client.get("/search", params={"channel": "open311", "page": "40"}).text


def test_a_ticket_number_typed_in_a_search_box_opens_that_ticket(client: TestClient, services: Services) -> None:
    numbers = file_tickets(services, 2, "小区路灯不亮")
    login(client, "operator")
    opened = client.get("/search", params={"q": numbers[1], "open": "1"}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/tickets/{numbers[1]}"
    # A part of a number, another filter beside it, or a link without the box's flag: the list.
    assert client.get("/search", params={"q": numbers[1][:-1], "open": "1"}, follow_redirects=False).status_code == 200
    assert client.get("/search", params={"q": numbers[1], "open": "1", "channel": "phone"},
                      follow_redirects=False).status_code == 200
    assert client.get("/search", params={"q": numbers[1]}, follow_redirects=False).status_code == 200
    # A unit finds only its own tickets: another unit's number stays a list with nothing in it.
    login(client, "housing")
    listed = client.get("/search", params={"q": numbers[0], "open": "1"}, follow_redirects=False)
    assert listed.status_code == 200 and f"/tickets/{numbers[0]}" not in listed.text
    for page in ("/operator", "/search"):
        login(client, "operator")
        assert 'name="open" value="1"' in client.get(page).text
