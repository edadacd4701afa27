"""The supervisor's chasing lists come a page at a time: the first page, the length of the
whole list, links to the next pages; the CSV holds the whole list."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

from sqlalchemy import func, select
from starlette.testclient import TestClient

from dispatch.clock import utcnow
from dispatch.models import Ticket
from dispatch.queries import OPEN_STATES
from tests.dispatch.helpers import new_ticket
from tests.web.pages_support import login
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
