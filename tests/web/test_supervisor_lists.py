"""The supervisor's chasing lists come a page at a time: the first page, the length of the
whole list, links to the next pages; the CSV holds the whole list."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from dispatch import chasing, lifecycle
from dispatch.actions import ActionContext, perform
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.models import Ticket, TicketEvent
from dispatch.queries import OPEN_STATES
from dispatch.vocabulary import Role
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from tests.web.pages_support import login, refused, token_in
from web.pages.labels import short_time
from web.services import Services


def overdue_numbers(services: Services) -> list[str]:
    """Every overdue ticket, longest overdue first, counted from the tickets themselves."""
    now = utcnow()
    return services.run_sync(lambda s: list(s.scalars(
        select(Ticket.number).where(Ticket.state.in_(OPEN_STATES), Ticket.deadline < now)
        .order_by(Ticket.deadline, Ticket.received_at, Ticket.id))))


def listed(page: str, name: str) -> list[str]:
    section = page[page.index(f'id="table-{name}"'):]
    section = section[:section.index("</section>")]
    return re.findall(r'<a href="/tickets/([\d-]+)">', section)


def test_the_overdue_list_shows_a_page_its_length_and_links_to_the_rest(client: TestClient,
                                                                        services: Services) -> None:
    long_ago = utcnow() - dt.timedelta(days=60)
    services.run_sync(lambda s: [new_ticket(s, services.rules, now=long_ago + dt.timedelta(minutes=i))
                                 for i in range(25)])
    everything = overdue_numbers(services)
    assert len(everything) >= 25
    login(client, "supervisor")

    first = client.get("/supervisor", params={"days": "7"}).text
    head = first[first.index('id="table-overdue"'):]
    assert f'<span class="count">{len(everything)}</span>' in head[:head.index("</h2>")]
    assert listed(first, "overdue") == everything[:20]
    pages = -(-len(everything) // 20)
    assert f"第 1 / {pages} 页，共 {len(everything)} 条" in first
    next_link = re.search(r'<nav class="pager" id="overdue-pager".*?<a href="([^"]+)" rel="next">', first, re.S)
    assert next_link is not None
    href = next_link.group(1).replace("&amp;", "&")
    assert "overdue_page=2" in href and "days=7" in href and href.endswith("#table-overdue")

    second = client.get(href.split("#")[0]).text
    assert listed(second, "overdue") == everything[20:40]
    assert listed(second, "near_due") == listed(first, "near_due")   # the other lists stay where they were
    assert 'rel="prev"' in second[second.index('id="overdue-pager"'):]
    # Past the last page: the last page.
    assert listed(client.get("/supervisor", params={"overdue_page": "999"}).text, "overdue") == \
        everything[(pages - 1) * 20:]

    exported = client.get("/supervisor/export/overdue.csv").content.decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(exported)))
    assert [row[0] for row in rows[1:]] == everything
    assert services.run_sync(lambda s: s.scalar(select(func.count(Ticket.id)))) > len(everything)


def test_returned_tickets_come_twenty_a_page_with_links_to_the_rest(client: TestClient, services: Services) -> None:
    from dispatch import lifecycle
    from dispatch.actors import Actor
    from dispatch.states import State
    from dispatch.units import unit_by_code
    from dispatch.vocabulary import Role
    from tests.conftest import unit_staff

    operator = Actor(label="op", role=Role.OPERATOR)
    start = utcnow() - dt.timedelta(days=3)

    def bounce(session) -> None:  # type: ignore[no-untyped-def]
        housing = unit_by_code(session, "housing")
        for i in range(25):
            t = new_ticket(session, services.rules, now=start + dt.timedelta(minutes=i))
            lifecycle.transfer(session, t, housing, operator, now=start + dt.timedelta(minutes=30 + i))
            # Returned in the reverse order of receipt: the list follows the returns.
            lifecycle.return_ticket(session, t, unit_staff(session, "housing"), f"退回{i}",
                                    now=start + dt.timedelta(hours=5, minutes=-i))

    services.run_sync(bounce)
    returned = services.run_sync(lambda s: len(list(s.scalars(select(Ticket.id).where(
        Ticket.state == State.RETURNED.value)))))
    assert returned >= 25
    login(client, "supervisor")

    first = client.get("/supervisor").text
    head = first[first.index('id="table-returned"'):]
    assert f'<span class="count">{returned}</span>' in head[:head.index("</h2>")]
    shown = listed(first, "returned")
    assert len(shown) == 20
    pages = -(-returned // 20)
    next_link = re.search(r'<nav class="pager" id="returned-pager".*?<a href="([^"]+)" rel="next">', first, re.S)
    assert next_link is not None and f"第 1 / {pages} 页，共 {returned} 条" in first
    href = next_link.group(1).replace("&amp;", "&")
    assert "returned_page=2" in href and href.endswith("#table-returned")
    second = listed(client.get(href.split("#")[0]).text, "returned")
    assert second and not set(second) & set(shown)

    exported = client.get("/supervisor/export/returned.csv").content.decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(exported)))[1:]
    assert len(rows) == returned and [row[0] for row in rows[:20]] == shown
    mine = [row[3] for row in rows if row[3].startswith("退回")]
    assert mine == [f"退回{i}" for i in range(24, -1, -1)]   # the earliest return first


def _row(page: str, name: str, number: str) -> str:
    section = page[page.index(f'id="table-{name}"'):]
    row = section[section.index(f'<a href="/tickets/{number}">'):]
    return row[:row.index("</tr>")]


def test_the_overdue_list_shows_each_tickets_escalations_and_asks_before_chasing_again(
        client: TestClient, services: Services) -> None:
    """The scheduler chased a ticket nine minutes ago: the list says so, and the supervisor's
    督办, with words of their own, goes out only once they confirm it."""
    long_ago = utcnow() - dt.timedelta(days=60)
    chased, quiet = services.run_sync(lambda s: [new_ticket(s, services.rules, now=long_ago + dt.timedelta(minutes=i))
                                                for i in range(2)])
    last = utcnow() - dt.timedelta(minutes=9)

    def chase(session: Session) -> None:
        ticket = session.get(Ticket, chased.id)
        lifecycle.escalate(session, ticket, chasing.CHASER, "超期1个工作日", now=last - dt.timedelta(hours=3))
        lifecycle.escalate(session, ticket, chasing.CHASER, "超期2个工作日", now=last, again=True)
    services.run_sync(chase)
    login(client, "supervisor")

    page = client.get("/supervisor").text
    row = _row(page, "overdue", chased.number)
    assert f"督办 2 次，最近 {short_time(last)}" in row
    assert 'name="again" value="1" required' in row and "确认再次督办" in row
    assert 'name="text" required value="请尽快办理并答复市民。"' in row
    assert 'name="again"' not in _row(page, "overdue", quiet.number)
    assert "督办 " not in _row(page, "overdue", quiet.number)

    form = {"csrf_token": token_in(page), "expected_version": str(chased.version), "back": "/supervisor",
            "text": "请今天下班前答复市民。"}
    shown = refused(client, client.post(f"/tickets/{chased.number}/escalate", data=form))
    assert f"已于 {short_time(last)} 督办过（共 2 次）" in shown   # on the ticket's page, the words kept
    assert 'value="请今天下班前答复市民。"' in shown.split('id="escalate-form"')[1].split("</form>")[0]
    assert client.post(f"/tickets/{chased.number}/escalate", data={**form, "again": "1"}).status_code == 303
    notes = services.run_sync(lambda s: list(s.scalars(
        select(TicketEvent.note).where(TicketEvent.ticket_id == chased.id, TicketEvent.action == "escalate")
        .order_by(TicketEvent.id))))
    assert notes == ["超期1个工作日", "超期2个工作日", "请今天下班前答复市民。"]


def test_the_overdue_list_says_when_the_unit_answered_the_last_escalation(
        client: TestClient, services: Services) -> None:
    long_ago = utcnow() - dt.timedelta(days=60)
    operator = Actor(label="operator", role=Role.OPERATOR)

    def overdue_with_housing(session: Session) -> Ticket:
        ticket = new_ticket(session, services.rules, now=long_ago)
        perform(session, operator, ticket.number, "transfer", {"unit": "housing"}, ActionContext(now=long_ago))
        perform(session, unit_staff(session, "housing"), ticket.number, "accept", {}, ActionContext(now=long_ago))
        return ticket
    ticket = services.run_sync(overdue_with_housing)
    # Real times: the scheduler may chase the overdue ticket too, as it happens.
    services.run_sync(lambda s: lifecycle.escalate(s, s.get(Ticket, ticket.id), chasing.CHASER, "请反馈处理方案",
                                                   again=True))
    login(client, "supervisor")
    assert "单位已反馈" not in _row(client.get("/supervisor").text, "overdue", ticket.number)
    services.run_sync(lambda s: perform(s, unit_staff(s, "housing"), ticket.number, "progress",
                                        {"text": "已排期维修"}, ActionContext()))
    answered = services.run_sync(lambda s: s.scalar(select(TicketEvent.at).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "progress")))
    row = _row(client.get("/supervisor").text, "overdue", ticket.number)
    assert f"；单位已反馈 {short_time(answered)}" in row
