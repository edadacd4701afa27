"""A unit hears about its deadlines: the scheduler's notices and a supervisor's 督办 show in
its inbox (live), are marked read there, and the staff API lists them by role."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from dispatch import chasing, lifecycle, notices, progress
from dispatch.actors import Actor
from dispatch.vocabulary import Role
from dispatch.models import Notice, OutboxMessage, Ticket, TicketEvent
from dispatch.units import unit_by_code
from tests.web.pages_support import DEMO_PASSWORD, act, csrf, login, ticket_titled, token_in
from tests.web.server import ServerThread
from web import scheduler
from web.app import create_app
from web.config import Settings
from web.pages.site import WATCH_SECONDS
from web.services import Services

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment


def _chase_past_deadline(services: Services, ticket: Ticket) -> dict[str, list[str]]:
    assert ticket.deadline is not None
    return services.run_sync(lambda s: chasing.chase(s, ticket.deadline + dt.timedelta(minutes=5),  # type: ignore[operator]
                                                     services.chase_policy()))


def _notices_of(services: Services, code: str) -> list[tuple[str, str | None]]:
    with services.sessions() as session:
        unit = unit_by_code(session, code)
        return [(kind, number) for kind, number in session.execute(
            select(Notice.kind, Ticket.number).outerjoin(Ticket, Ticket.id == Notice.ticket_id)
            .where(Notice.unit_id == unit.id))]


def test_an_overdue_notice_shows_in_the_units_inbox_until_read(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    assert noise.number in _chase_past_deadline(services, noise)["overdue"]
    assert _chase_past_deadline(services, noise)["overdue"] == []  # the job ran twice: nothing new
    told = _notices_of(services, "ecology-environment")
    assert [kind for kind, number in told if number == noise.number] == ["overdue"]
    login(client, "ecology")
    page = client.get("/unit").text
    assert f"{len(told)} 条未读" in page and f"工单{noise.number}" in page and "超过办理时限" in page
    response = client.post("/unit/notices/read", data={"csrf_token": token_in(page)}, follow_redirects=False)
    assert response.status_code == 303
    assert "条未读" not in client.get("/unit").text
    assert "超过办理时限" in client.get("/unit/notices").text  # still listed, as read
    login(client, "housing")
    assert "超过办理时限" not in client.get("/unit").text


def test_marking_a_notice_read_needs_the_csrf_token(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    _chase_past_deadline(services, noise)
    login(client, "ecology")
    refused = client.post("/unit/notices/read", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert f"{len(_notices_of(services, 'ecology-environment'))} 条未读" in client.get("/unit").text


def test_a_supervisors_escalation_is_a_notice_and_a_text_to_the_duty_phone(client: TestClient,
                                                                           services: Services) -> None:
    noise = ticket_titled(services, NOISE)

    def give_duty_phone(session: Session) -> None:
        unit_by_code(session, "ecology-environment").duty_phone = "+8613900000009"

    services.run_sync(give_duty_phone)
    login(client, "supervisor")
    assert act(client, noise.number, "escalate", text="请今天内答复").status_code == 303
    login(client, "ecology")
    page = client.get("/unit").text
    assert "1 条未读" in page and "请今天内答复" in page
    with services.sessions() as session:
        texts = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "+8613900000009")).all()
    assert [(m.kind, m.ticket_id) for m in texts] == [("unit_escalation", noise.id)]
    assert "请今天内答复" in texts[0].body


def test_a_notice_of_a_ticket_the_unit_returned_is_done_on_the_page_and_in_the_api(
        client: TestClient, services: Services) -> None:
    bus = ticket_titled(services, "建议增加公交班次").number    # received
    login(client, "operator")
    assert act(client, bus, "transfer", unit_code="housing").status_code == 303  # type: ignore[attr-defined]
    token = client.post("/api/v1/auth/token", json={"username": "housing", "password": DEMO_PASSWORD}).json()["token"]

    def api(**params: str) -> dict[str, dict[str, object]]:
        listed = client.get("/api/v1/staff/notices", params=params, headers={"Authorization": f"Bearer {token}"})
        return {str(n["ticket"]): n for n in listed.json()["notices"]}

    def line(page: str) -> str:
        found = re.search(rf'<li class="[^"]*"[^>]*>(?:(?!</li>).)*{bus}(?:(?!</li>).)*</li>', page, re.S)
        assert found, page
        return found.group(0)

    login(client, "housing")
    before = client.get("/unit/notices").text
    assert 'class="unread notice-transferred"' in line(before) and "data-done" not in line(before)
    assert bus in api(unread="1") and not api()[bus].get("ticket_left_unit")
    assert act(client, bus, "return", text="公交线路属交通运输局职责").status_code == 303  # type: ignore[attr-defined]
    # 退单: nothing left for housing to do: done, as a finished ticket's notice is, though unread.
    after = client.get("/unit/notices").text
    assert 'class="read notice-transferred" data-done="true"' in line(after) and "已移出本单位" in line(after)
    assert "标为已读" not in line(after)
    assert bus not in api(unread="1")
    told = api()[bus]
    assert (told["ticket_left_unit"], told["ticket_finished"], told["read_at"]) == (True, False, None)


def test_the_inbox_counts_come_alone_for_the_page_to_refresh_them(client: TestClient, services: Services) -> None:
    login(client, "housing")
    page = client.get("/unit").text
    whole = re.search(r'<ul class="summary" id="inbox-counts"[^>]*>\n(.*?)</ul>', page, re.S)
    assert whole and 'data-counts="/unit/counts"' in page
    assert client.get("/unit/counts").text == whole.group(1)   # the same items the page has
    overdue = client.get("/unit/counts", params={"show": "overdue"}).text
    assert re.search(r'<li class="[^"]*" aria-current="true"><a href="/unit\?show=overdue#inbox"', overdue)
    assert 'data-counts="/unit/counts?show=overdue"' in client.get("/unit", params={"show": "overdue"}).text
    login(client, "operator")
    assert client.get("/unit/counts", follow_redirects=False).status_code in (303, 403)


def _tbody(html: str) -> str:
    found = re.search(r'<table class="list" id="inbox">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert found, html
    return found.group(1)


def test_the_inbox_rows_come_alone_for_the_page_at_its_filter_and_only_ever_the_units_own(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)   # ecology's
    login(client, "ecology")
    page = client.get("/unit").text
    assert 'data-rows="/unit/rows?page=1"' in page
    rows = client.get("/unit/rows").text
    assert _tbody(rows) == _tbody(page) and noise.number in _tbody(rows)
    new = client.get("/unit", params={"show": "new"}).text
    assert 'data-rows="/unit/rows?show=new&amp;page=1"' in new
    assert _tbody(client.get("/unit/rows", params={"show": "new"}).text) == _tbody(new)
    assert noise.number not in _tbody(new)   # in progress: not waiting to be accepted
    # The unit is the signed-in one's: no address names another.
    login(client, "housing")
    for asked in ({}, {"unit": "ecology"}, {"unit_id": str(noise.unit_id)}, {"q": noise.number}):
        assert noise.number not in client.get("/unit/rows", params=asked).text, asked
    login(client, "operator")
    assert client.get("/unit/rows", follow_redirects=False).status_code in (303, 403)
    client.cookies.clear()
    assert client.get("/unit/rows", follow_redirects=False).status_code == 303


def test_the_api_lists_notices_by_role(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    _chase_past_deadline(services, noise)

    def other_unit_notice(session: Session) -> None:
        housing = unit_by_code(session, "housing")
        notices.tell(session, housing, notices.NoticeKind.DIGEST, "digest:test", "今日临期：1件")

    services.run_sync(other_unit_notice)

    def token(username: str) -> str:
        response = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def listed(username: str, **params: str) -> httpx.Response:
        return client.get("/api/v1/staff/notices", params=params,
                          headers={"Authorization": f"Bearer {token(username)}"})

    ecology = listed("ecology").json()
    assert ecology["total"] == len(_notices_of(services, "ecology-environment")) >= 1
    assert {n["unit"] for n in ecology["notices"]} == {"ecology-environment"}
    assert {"kind": "overdue", "ticket": noise.number} in [{"kind": n["kind"], "ticket": n["ticket"]}
                                                          for n in ecology["notices"]]
    housing = listed("housing").json()
    assert {n["unit"] for n in housing["notices"]} == {"housing"}
    assert {"kind": "digest", "ticket": None} in [{"kind": n["kind"], "ticket": n["ticket"]} for n in housing["notices"]]
    everyone = listed("supervisor").json()
    with services.sessions() as session:
        assert everyone["total"] == len(session.scalars(select(Notice.id)).all()) > ecology["total"]
    assert listed("operator").status_code == 403
    assert listed("supervisor", page="0").status_code == 422
    assert client.get("/api/v1/staff/notices").status_code == 401


def test_a_notice_reaches_an_open_inbox_live(services: Services) -> None:
    """The scheduler may run in another process: the page hears of a notice from the database."""
    noise = ticket_titled(services, NOISE)
    with ServerThread(create_app(services.settings, services)) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            http.get("/login")
            token = csrf(http)  # type: ignore[arg-type]
            assert http.post("/login", data={"csrf_token": token, "username": "ecology",
                                             "password": DEMO_PASSWORD}).status_code in (200, 303)
            with http.stream("GET", "/unit/notices/events") as stream:
                lines = stream.iter_lines()
                assert next(line for line in lines if line.startswith("event:")) == "event: hello"
                _chase_past_deadline(services, noise)
                started = time.monotonic()
                assert next(line for line in lines if line.startswith("event:")) == "event: notices"
                assert time.monotonic() - started < 5
            assert "超过办理时限" in http.get("/unit/notices").text
    with services.sessions() as session:
        assert session.scalar(select(Notice.kind).where(Notice.ticket_id == noise.id)) == "overdue"


def test_an_open_inbox_hears_of_its_own_tickets_changing_and_not_of_other_units(services: Services) -> None:
    noise = ticket_titled(services, NOISE)   # ecology-environment's
    wages = ticket_titled(services, "农民工工资被拖欠")   # transferred to human-resources
    with _ecology_inbox_stream(services, until="event: tickets") as (heard, listener):
        _as_its_unit(services, wages.id, lifecycle.accept)
        time.sleep(3 * WATCH_SECONDS + 1)   # the watcher has seen the change by now
        assert [line for _, line in heard] == ["event: hello"]
        changed = time.monotonic()
        _as_its_unit(services, noise.id, lambda s, ticket, staff: progress.report_progress(
            s, ticket, staff, "已联系施工单位，正在协调处理"))
        listener.join(10)
        assert heard[-1][1] == "event: tickets" and heard[-1][0] >= changed


def test_an_open_inbox_hears_only_of_its_own_units_notices(services: Services) -> None:
    def tell(code: str, key: str) -> None:
        services.run_sync(lambda s: notices.tell(s, unit_by_code(s, code), notices.NoticeKind.DIGEST, key, "测试通知"))

    with _ecology_inbox_stream(services, until="event: notices") as (heard, listener):
        tell("housing", "test:other")
        time.sleep(3 * WATCH_SECONDS + 1)   # the watcher has seen the notice by now
        assert [line for _, line in heard] == ["event: hello"]
        tell("ecology-environment", "test:own")
        listener.join(10)
        assert heard[-1][1] == "event: notices"


@contextlib.contextmanager
def _ecology_inbox_stream(services: Services, until: str) -> Iterator[tuple[list[tuple[float, str]], threading.Thread]]:
    """ecology's inbox stream on a real server, its events heard (when, line) in a thread
    that stops at `until`; the stream has said hello."""
    heard: list[tuple[float, str]] = []
    with ServerThread(create_app(services.settings, services)) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            http.get("/login")
            assert http.post("/login", data={"csrf_token": csrf(http), "username": "ecology",  # type: ignore[arg-type]
                                             "password": DEMO_PASSWORD}).status_code in (200, 303)

            def listen() -> None:
                with http.stream("GET", "/unit/notices/events") as stream:
                    for line in stream.iter_lines():
                        if line.startswith("event:"):
                            heard.append((time.monotonic(), line))
                        if line == until:
                            return

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            _wait_for(lambda: heard)
            assert heard[0][1] == "event: hello"
            yield heard, listener


def _as_its_unit(services: Services, ticket_id: int, step: Callable[[Session, Ticket, Actor], object]) -> None:
    def work(session: Session) -> None:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.unit_id is not None
        step(session, ticket, Actor(label="staff", role=Role.UNIT_STAFF, unit_id=ticket.unit_id))
    services.run_sync(work)


def _wait_for(condition: Callable[[], object], seconds: float = 10) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end
        time.sleep(0.05)


def test_the_scheduler_runs_the_chasing_jobs_and_a_second_run_changes_nothing(services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    assert noise.deadline is not None
    later = noise.deadline + dt.timedelta(minutes=5)

    def counts() -> tuple[int, int, int]:
        with services.sessions() as session:
            return (len(session.scalars(select(Notice.id)).all()),
                    len(session.scalars(select(TicketEvent.id)).all()),
                    len(session.scalars(select(OutboxMessage.id)).all()))

    before = counts()
    first = asyncio.run(scheduler.run_once(services, later))
    assert noise.number in first["chase_deadlines"]["overdue"]
    after_first = counts()
    assert after_first[0] > before[0] and after_first[1] > before[1]
    second = asyncio.run(scheduler.run_once(services, later))
    assert second["chase_deadlines"] == {"near_due": [], "overdue": [], "escalated": [], "digests": []}
    assert counts() == after_first


def test_the_chasing_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"HOTLINE_NEAR_DUE_HOURS": "12", "HOTLINE_ESCALATE_EVERY_WORKING_DAYS": "3"})
    assert (settings.near_due_hours, settings.escalate_every_working_days) == (12.0, 3)
    defaults = Settings.from_env({})
    assert (defaults.near_due_hours, defaults.escalate_every_working_days) == (24.0, 2)
    with pytest.raises(ValueError, match="HOTLINE_ESCALATE_EVERY_WORKING_DAYS"):
        Settings.from_env({"HOTLINE_ESCALATE_EVERY_WORKING_DAYS": "0"})


def _row_of(page: str, number: str) -> str:
    rows = [row for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if f'href="/tickets/{number}"' in row]
    assert rows, number
    return rows[0]


def test_the_inbox_marks_a_ticket_with_unread_news_until_it_is_read(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    assert 'data-news=' not in _row_of(client.get("/unit").text, noise.number)
    login(client, "supervisor")
    assert act(client, noise.number, "escalate", text="请今天内答复").status_code == 303
    login(client, "ecology")
    page = client.get("/unit").text
    assert 'data-news="escalation">督办</span>' in _row_of(page, noise.number)
    assert 'data-news="escalation"' in _row_of(client.get("/unit/rows").text, noise.number)
    with services.sessions() as session:
        notice_id = session.scalar(select(Notice.id).where(Notice.kind == "escalation"))
    client.post("/unit/notices/read", data={"csrf_token": token_in(page), "notice": str(notice_id)})
    assert 'data-news=' not in _row_of(client.get("/unit").text, noise.number)
    assert 'data-news=' not in _row_of(client.get("/unit/rows").text, noise.number)


def test_the_worklist_comes_before_the_notices_and_each_read_button_names_its_ticket(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    _chase_past_deadline(services, noise)
    login(client, "ecology")
    page = client.get("/unit").text
    assert page.index('id="inbox-list"') < page.index('id="notices"')
    assert 'href="#inbox-list"' in page and 'href="#notices"' in page
    assert f'aria-label="标为已读：工单{noise.number}的超期通知' in page


def test_the_pages_script_marks_a_notice_read_and_gets_the_notices_alone(client: TestClient,
                                                                         services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    _chase_past_deadline(services, noise)
    login(client, "ecology")
    page = client.get("/unit").text
    answer = client.post("/unit/notices/read", data={"csrf_token": token_in(page)},
                         headers={"X-Notices-Panel": "1"}, follow_redirects=False)
    assert answer.status_code == 200 and '<ul class="notices">' in answer.text
    assert "<html" not in answer.text and "条未读" not in answer.text and "超过办理时限" in answer.text


def test_the_digests_ticket_numbers_are_links(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)

    def digest(session: Session) -> None:
        notices.tell(session, unit_by_code(session, "ecology-environment"), notices.NoticeKind.DIGEST, "digest:test",
                     f"今日临期：1件工单将在24小时内到期（{noise.number}），请及时办理。")

    services.run_sync(digest)
    login(client, "ecology")
    assert f'（<a href="/tickets/{noise.number}">{noise.number}</a>）' in client.get("/unit/notices").text
