"""Requests from one address sent side by side, against the limits counted in the database:
they get their answers only up to the limit, then 429. Each request is held inside its
transaction, at the statement that does the work the limit guards, until the others have
got as far (or a few seconds have passed): a limit checked before that work and counted
after it let every one of them through. Real servers on loopback. SQLite's one writer runs
whole transactions one at a time, so there these stories are a check that the outcome is
the same; on PostgreSQL they overlap."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import httpx
import pytest
from sqlalchemy import select

from dispatch.limits import FORM_WINDOW, LOOKUP_WINDOW, Limits
from dispatch.models import Ticket
from tests.held import held
from tests.web.pages_support import token_in
from tests.web.server import ServerThread
from web.app import create_app
from web.services import Services

BURST = 6
LIMIT = 3


def at_once(services: Services, send: Callable[[httpx.Client, str, int], httpx.Response]) -> list[int]:
    """BURST requests released together from one address (127.0.0.1), each given the CSRF
    token of the one page read before; their statuses."""
    _clear_of_a_window_edge()
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        token = token_in(client.get("/").text)
        start = threading.Barrier(BURST)

        def one(n: int) -> int:
            start.wait(timeout=10)
            return send(client, token, n).status_code

        with ThreadPoolExecutor(BURST) as pool:
            return sorted(pool.map(one, range(BURST)))


def _clear_of_a_window_edge(window: dt.timedelta = min(LOOKUP_WINDOW, FORM_WINDOW), margin: float = 30.0) -> None:
    """The limits count in fixed windows (10 minutes for these): a burst that straddles a
    window's end would rightly get a second share, so it waits for the next window first."""
    seconds = window.total_seconds()
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 1)


def test_complaints_sent_at_once_from_one_address_are_held_to_the_form_limit(services: Services) -> None:
    services.settings = dataclasses.replace(services.settings, limits=Limits.build(web_form_per_address=LIMIT))

    def send(client: httpx.Client, token: str, n: int) -> httpx.Response:
        return client.post("/", data={"csrf_token": token, "form_id": f"burst-{n}", "type": "complaint",
                                      "title": f"第{n}件事", "body": f"第{n}件事：小区门口路灯坏了{n}盏",
                                      "phone": f"1381234{n:04d}", "name": "", "location": ""})

    # On PostgreSQL, with the count taken first, the first request holds its counter's row and
    # the others wait on it, so the wait times out once; SQLite runs them one at a time.
    with held(services.engine, lambda statement: "INSERT INTO tickets" in statement, BURST):
        statuses = at_once(services, send)
    assert statuses.count(201) == LIMIT and statuses.count(429) == BURST - LIMIT, statuses


@pytest.mark.parametrize("path", ["/status?number={number}&code={code}", "/api/v1/tickets/{number}?code={code}"])
def test_wrong_codes_sent_at_once_from_one_address_are_held_to_the_lookup_limit(
        services: Services, path: str) -> None:
    services.settings = dataclasses.replace(services.settings,
                                            limits=Limits.build(lookup_failures_per_address=LIMIT))
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).limit(1)).one()
    wrong = "000000" if ticket.query_code != "000000" else "111111"

    def send(client: httpx.Client, _token: str, _n: int) -> httpx.Response:
        return client.get(path.format(number=ticket.number, code=wrong))

    with held(services.engine, lambda statement: "WHERE tickets.number =" in statement, BURST):
        statuses = at_once(services, send)
    assert statuses.count(404) == LIMIT and statuses.count(429) == BURST - LIMIT, statuses
