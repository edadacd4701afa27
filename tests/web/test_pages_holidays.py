"""The holidays page: a supervisor enters the 2027 Spring Festival, the next ticket's deadline
counts it, a removal keeps its record, an import is previewed before it is applied, bad lines
are refused in Chinese, and only supervisors with the form's CSRF token change anything."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.clock import CHINA
from dispatch.models import CalendarDay, StaffActivity
from dispatch.vocabulary import RequestType, Urgency
from tests.web.pages_support import csrf, login, token_in
from web.services import Services

PAGE = "/supervisor/holidays"
NOTICE = "2027-01-01 holiday 元旦\n2027-02-06..2027-02-13 节假日 春节\n2027-02-14 调休上班 春节\n"


def deadline_day(services: Services, received: dt.date) -> dt.date:
    """The deadline the running app gives a 5-working-day request received that day."""
    policy = services.rules.policy
    with services.sessions() as session:
        policy.calendar.sync(session)
    moment = dt.datetime.combine(received, dt.time(10), tzinfo=CHINA)
    return policy.deadline(moment, RequestType.HELP, Urgency.NORMAL).astimezone(CHINA).date()


def test_a_range_added_on_the_page_moves_deadlines_and_its_removal_is_kept(
        client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    page = client.get(PAGE + "?year=2027")
    assert page.status_code == 200 and "2027 年的节假日尚未录入，期限按周末计算" in page.text
    assert deadline_day(services, dt.date(2027, 2, 10)) == dt.date(2027, 2, 17)  # weekends only

    added = client.post(PAGE, data={"csrf_token": token_in(page.text), "start": "2027-02-06", "end": "2027-02-13",
                                    "kind": "holiday", "festival": "春节"})
    assert added.status_code == 303 and added.headers["location"].endswith("done=added")
    added = client.post(PAGE, data={"csrf_token": csrf(client, PAGE), "start": "2027-02-14", "kind": "workday",
                                    "festival": "春节"})
    assert added.status_code == 303
    # Entered from 10 February: Sun 14 (make-up), Mon 15 .. Thu 18.
    assert deadline_day(services, dt.date(2027, 2, 10)) == dt.date(2027, 2, 18)
    listed = client.get(PAGE + "?year=2027").text
    assert "2027 年的节假日尚未录入" not in listed and "2027-02-14（周日）" in listed and "调休上班" in listed
    assert "2027 年还没有录入：元旦、清明节、劳动节、端午节、中秋节、国庆节" in listed
    # and the API says so as the page does: a unit's system counting deadlines must know
    found = client.get("/api/v1/holidays?year=2027").json()
    assert (found["basis"], found["missing"]) == ("entered", ["元旦", "清明节", "劳动节", "端午节", "中秋节", "国庆节"])

    removed = client.post(f"{PAGE}/2027-02-14/remove", data={"csrf_token": csrf(client, PAGE)})
    assert removed.status_code == 303
    assert deadline_day(services, dt.date(2027, 2, 10)) == dt.date(2027, 2, 19)
    with services.sessions() as session:
        rows = session.scalars(select(CalendarDay).where(CalendarDay.day == dt.date(2027, 2, 14))
                               .order_by(CalendarDay.id)).all()
        assert [(r.kind, r.set_by) for r in rows] == [("workday", "supervisor"), ("cleared", "supervisor")]
    history = client.get(PAGE + "?year=2027").text
    assert "修改记录 <span class=\"count\">10</span>" in history and "已删除" in history


def test_calendar_changes_are_in_the_activity_log_and_the_page_keeps_its_year(
        client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    added = client.post(PAGE, data={"csrf_token": csrf(client, PAGE), "start": "2027-02-06", "end": "2027-02-13",
                                    "kind": "holiday", "festival": "春节"})
    assert added.status_code == 303 and added.headers["location"] == PAGE + "?year=2027&done=added"
    # The same days again: nothing new, and the page still shows their year.
    again = client.post(PAGE, data={"csrf_token": csrf(client, PAGE), "start": "2027-02-06", "end": "2027-02-13",
                                    "kind": "holiday", "festival": "春节"})
    assert again.status_code == 303 and again.headers["location"] == PAGE + "?year=2027&done=unchanged"
    assert "没有改动" in client.get(again.headers["location"]).text
    assert client.post(f"{PAGE}/2027-02-13/remove", data={"csrf_token": csrf(client, PAGE)}).status_code == 303
    with services.sessions() as session:
        logged = session.scalars(select(StaffActivity).where(StaffActivity.kind.like("calendar%"))
                                 .order_by(StaffActivity.id)).all()
        assert [(a.kind, a.actor, a.target) for a in logged] == [
            ("calendar_days_set", "supervisor", "calendar:2027"), ("calendar_day_cleared", "supervisor", "calendar:2027")]
        assert logged[0].detail == {"since": "2027-02-06", "until": "2027-02-13", "days": 8, "day_kind": "holiday",
                                    "festival": "春节"}
        assert logged[1].detail["day"] == "2027-02-13"
    login(client, "admin")
    shown = client.get("/admin/activity", params={"kind": "calendar_days_set"}).text
    assert "设置节假日/调休" in shown and "起：2027-02-06；止：2027-02-13；天数：8；日子类型：节假日；节日：春节" in shown
    assert "删除节假日/调休设置" in client.get("/admin/activity").text


def test_an_import_is_previewed_then_applied(client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    preview = client.post(PAGE + "/import", data={"csrf_token": csrf(client, PAGE), "step": "preview",
                                                  "lines": NOTICE})
    assert preview.status_code == 200 and "确认导入 10 天" in preview.text
    with services.sessions() as session:
        assert session.scalar(select(CalendarDay)) is None  # a preview writes nothing
    applied = client.post(PAGE + "/import", data={"csrf_token": token_in(preview.text), "step": "apply",
                                                  "lines": NOTICE})
    assert applied.status_code == 303 and applied.headers["location"].endswith("done=imported")
    with services.sessions() as session:
        assert len(session.scalars(select(CalendarDay)).all()) == 10
    assert client.get("/api/v1/holidays?year=2027").json()["basis"] == "entered"
    again = client.post(PAGE + "/import", data={"csrf_token": csrf(client, PAGE), "step": "preview",
                                                "lines": NOTICE})
    assert "已录入，跳过" in again.text and "确认导入" not in again.text


def test_bad_lines_are_refused_in_chinese_and_nothing_is_stored(client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    lines = "2027-02-10 调休上班 春节\n2027-13-01 holiday 元旦\n2040-01-01 holiday 元旦\n2027-01-01 元旦\n"
    refused = client.post(PAGE + "/import", data={"csrf_token": csrf(client, PAGE), "step": "apply", "lines": lines})
    assert refused.status_code == 422
    for words in ("第 1 行：2027-02-10 不是周六或周日", "第 2 行：日期「2027-13-01」不存在", "第 3 行：日期须在",
                  "第 4 行：「2027-01-01 元旦」看不懂"):
        assert words in refused.text, words
    form = client.post(PAGE, data={"csrf_token": csrf(client, PAGE), "start": "2027-02-10", "kind": "workday",
                                   "festival": "春节"})
    assert form.status_code == 422 and "本来就上班" in form.text
    with services.sessions() as session:
        assert session.scalar(select(CalendarDay)) is None


def test_only_supervisors_and_admins_change_the_calendar_and_every_post_needs_its_csrf_token(
        client: TestClient, services: Services) -> None:
    for name in ("operator", "housing"):
        login(client, name)
        assert client.get(PAGE).status_code == 403
    login(client, "admin")
    assert client.get(PAGE).status_code == 200
    login(client, "supervisor")
    assert 'href="/supervisor/holidays"' in client.get("/supervisor").text
    forged = client.post(PAGE, data={"start": "2027-01-01", "kind": "holiday", "festival": "元旦"})
    assert forged.status_code == 403
    forged = client.post(PAGE + "/import", data={"step": "apply", "lines": NOTICE})
    assert forged.status_code == 403
    with services.sessions() as session:
        assert session.scalar(select(CalendarDay)) is None


def test_the_api_lists_a_year_with_what_it_stands_on(client: TestClient) -> None:
    known = client.get("/api/v1/holidays?year=2026").json()
    assert known["missing"] == [] and known["basis"] == "official" and {"date": "2026-10-01", "kind": "holiday", "name": "国庆节",
                                              "source": "official"} in known["days"]
    unknown = client.get("/api/v1/holidays?year=2028").json()
    assert (unknown["basis"], unknown["days"], unknown["missing"]) == ("weekends", [], [])
    for year in ("1999", "20270", "二〇二七", "²", "9" * 5000):
        bad = client.get(f"/api/v1/holidays?year={year}")
        assert bad.status_code == 422 and "年份" in bad.json()["message"], year
